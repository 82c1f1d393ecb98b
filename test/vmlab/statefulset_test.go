package vmlab

import (
	"slices"
	"strings"
	"testing"

	"github.com/ordoproject/ordo/test/framework"
)

const webSet = `apiVersion: v1
kind: Service
metadata:
  name: nginx
spec:
  clusterIP: None
  selector:
    app: nginx
  ports:
  - port: 80
    name: web
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: nginx
  serviceName: nginx
  replicas: 3
  template:
    metadata:
      labels:
        app: nginx
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: nginx
        image: ordo.local/busybox:latest
        command:
        - sh
        - -c
        - |
          mkdir -p /www && hostname > /www/index.html || exit 1
          httpd -f -p 80 -h /www &
          trap 'kill $!; exit 0' TERM
          wait
        ports:
        - containerPort: 80
          name: web
        readinessProbe:
          httpGet:
            path: /
            port: web
          periodSeconds: 0.2
`

// An OrderedReady StatefulSet spreads over the VMs: pods are created in
// ordinal order, each after its predecessor became Ready; every pod runs on
// the VM the scheduler bound it to, and `hostname` and its web page give the
// pod's name there.
func TestOrderedStatefulSetAcrossVMs(t *testing.T) {
	framework.Need(t, clus)
	r := framework.Record(t, clus, "web")
	framework.Apply(t, clus, webSet)
	pods := framework.WaitSetReady(t, clus, "web", framework.PodNames("web", 3)...)
	if got, want := framework.CheckOrderedCreation(t, r), []string{"web-0", "web-1", "web-2"}; !slices.Equal(got, want) {
		t.Errorf("creation order %v, want %v", got, want)
	}
	used := map[string]bool{}
	for name, p := range pods {
		vm := p.GetNodeName()
		used[vm] = true
		if got := strings.TrimSpace(framework.MustExecInPod(t, clus, vm, name, "nginx", "hostname")); got != name {
			t.Errorf("%s on %s: hostname %q", name, vm, got)
		}
		if got := strings.TrimSpace(framework.MustExecInPod(t, clus, vm, name, "nginx", "wget", "-qO-", "http://127.0.0.1/")); got != name {
			t.Errorf("%s on %s: web page %q", name, vm, got)
		}
		// The container runs on that VM and nowhere else.
		id := name + "_nginx"
		for _, other := range clus.Nodes() {
			has := slices.Contains(framework.Containers(t, clus, other), id)
			if has != (other == vm) {
				t.Errorf("container %s on %s: %v (pod bound to %s)", id, other, has, vm)
			}
		}
	}
	if len(used) != clus.N {
		t.Errorf("pods on %d VMs, want all %d: %v", len(used), clus.N, used)
	}
	// Pods reach each other by their stable DNS names, across VMs.
	for name, p := range pods {
		for other, q := range pods {
			if other == name {
				continue
			}
			got := strings.TrimSpace(framework.MustExecInPod(t, clus, p.GetNodeName(), name, "nginx", "wget", "-qO-", "http://"+other+".nginx/"))
			if got != other {
				t.Errorf("%s (on %s) fetching http://%s.nginx/ (on %s): %q", name, p.GetNodeName(), other, q.GetNodeName(), got)
			}
		}
	}
	framework.DeleteSet(t, clus, "web")
	for _, vm := range clus.Nodes() {
		if ids := framework.Containers(t, clus, vm); len(ids) != 0 {
			t.Errorf("%s still has containers after the set was deleted: %v", vm, ids)
		}
	}
}

// The NFS server VM exports its volumes to the node VMs: a file written
// through an NFS mount on one node is on the server's disk and readable
// through a mount on another node.
func TestNFSExportsAcrossVMs(t *testing.T) {
	framework.Need(t, clus)
	framework.MustExec(t, clus, "node-1", "sh", "-c",
		"mkdir -p /mnt/nfs-check && mount -t nfs -o vers=4.2 nfs:/srv/nfs/pv-9 /mnt/nfs-check && "+
			"echo written-on-node-1 >/mnt/nfs-check/check && umount /mnt/nfs-check")
	if got := strings.TrimSpace(framework.MustExec(t, clus, "nfs", "cat", "/srv/nfs/pv-9/check")); got != "written-on-node-1" {
		t.Errorf("on the NFS server: %q", got)
	}
	got := framework.MustExec(t, clus, "node-2", "sh", "-c",
		"mkdir -p /mnt/nfs-check && mount -t nfs -o vers=4.2 nfs:/srv/nfs/pv-9 /mnt/nfs-check && "+
			"cat /mnt/nfs-check/check && umount /mnt/nfs-check")
	if strings.TrimSpace(got) != "written-on-node-1" {
		t.Errorf("through a mount on node-2: %q", got)
	}
	framework.MustExec(t, clus, "nfs", "rm", "-f", "/srv/nfs/pv-9/check")
}
