package vmlab

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/test/framework"
)

func getClaim(t testing.TB, name string) *ordov1.PersistentVolumeClaim {
	t.Helper()
	o, err := framework.Get(clus, "pvc", name)
	if err != nil {
		t.Fatalf("get pvc %s: %v", name, err)
	}
	return o.GetPersistentVolumeClaim()
}

// deleteObjects removes claims and volumes a test made (best effort, at cleanup).
func deleteObjects(t testing.TB, kind string, names ...string) {
	t.Helper()
	for _, name := range names {
		if err := framework.Delete(clus, kind, name); err != nil {
			t.Logf("delete %s %s: %v", kind, name, err)
		}
	}
}

const nfsVolumes = `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: nfs
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: nfs-pv-0
spec:
  capacity:
    storage: 1Gi
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: nfs
  nfs:
    server: 10.78.0.2
    path: /srv/nfs/pv-0
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: nfs-pv-1
spec:
  capacity:
    storage: 1Gi
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: nfs
  nfs:
    server: 10.78.0.2
    path: /srv/nfs/pv-1
`

// storeSet: every incarnation of a pod appends its name to /data/written-by
// and is Ready once the line is on its volume.
func storeSet(affinity string) string {
	return `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: store
spec:
  selector:
    matchLabels:
      app: store
  serviceName: store
  replicas: 2
  template:
    metadata:
      labels:
        app: store
    spec:
      terminationGracePeriodSeconds: 1
` + affinity + `      containers:
      - name: app
        image: ordo.local/busybox:latest
        command: ["sh", "-c", "hostname >>/data/written-by && touch /tmp/written && exec sleep 100000"]
        readinessProbe:
          exec:
            command: ["test", "-f", "/tmp/written"]
          periodSeconds: 0.5
        volumeMounts:
        - name: data
          mountPath: /data
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: nfs
      resources:
        requests:
          storage: 1Gi
`
}

// nfsOwners maps each export directory on the NFS server to the content of
// its written-by file.
func nfsOwners(t testing.TB) map[string]string {
	t.Helper()
	out := framework.MustExec(t, clus, "nfs", "sh", "-c", `for d in /srv/nfs/pv-*; do [ -s $d/written-by ] && echo "$d $(tr '\n' ' ' <$d/written-by)"; done; true`)
	owners := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if dir, rest, ok := strings.Cut(l, " "); ok {
			owners[dir] = strings.TrimSpace(rest)
		}
	}
	return owners
}

// A StatefulSet whose claims bind to NFS volumes exported by the NFS VM: each
// pod writes to its own export (the data is on the NFS server's disk), and a
// pod moved off its VM finds its data on the new VM.
func TestNFSVolumesFollowTheirPods(t *testing.T) {
	framework.Need(t, clus)
	framework.Apply(t, clus, nfsVolumes)
	framework.Apply(t, clus, storeSet(""))
	pods := framework.WaitSetReady(t, clus, "store", framework.PodNames("store", 2)...)
	t.Cleanup(func() {
		framework.DeleteSet(t, clus, "store")
		deleteObjects(t, "pvc", "data-store-0", "data-store-1")
		deleteObjects(t, "pv", "nfs-pv-0", "nfs-pv-1")
		framework.MustExec(t, clus, "nfs", "sh", "-c", "rm -f /srv/nfs/pv-*/written-by")
	})

	owners := nfsOwners(t)
	dirOf := map[string]string{}
	for dir, who := range owners {
		dirOf[who] = dir
	}
	for _, name := range []string{"store-0", "store-1"} {
		if dirOf[name] == "" {
			t.Fatalf("no export on the NFS server holds %s's data: %v", name, owners)
		}
		if got := strings.TrimSpace(framework.MustExecInPod(t, clus, pods[name].GetNodeName(), name, "app", "cat", "/data/written-by")); got != name {
			t.Errorf("%s reads %q from its volume", name, got)
		}
	}
	if dirOf["store-0"] == dirOf["store-1"] {
		t.Fatalf("store-0 and store-1 share %s", dirOf["store-0"])
	}
	// Each claim is bound to the volume whose export holds its pod's data.
	for _, name := range []string{"store-0", "store-1"} {
		c := getClaim(t, "data-"+name)
		pv := c.GetSpec().GetVolumeName()
		if c.GetStatus().GetPhase() != "Bound" || "/srv/nfs/pv-"+strings.TrimPrefix(pv, "nfs-pv-") != dirOf[name] {
			t.Errorf("claim data-%s: %s to %q, but the data is in %s", name, c.GetStatus().GetPhase(), pv, dirOf[name])
		}
	}

	// Drain store-0's VM: the set's pods may no longer run there; the rolling
	// update recreates store-0 on the other VM.
	from := pods["store-0"].GetNodeName()
	framework.Apply(t, clus, storeSet(fmt.Sprintf(`      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - key: kubernetes.io/hostname
                operator: NotIn
                values: [%s]
`, from)))
	framework.WaitFor(t, clus, "store-0 running Ready away from "+from, 5*time.Minute, func() bool {
		p := framework.ListPods(t, clus, "store")["store-0"]
		return p != nil && framework.Ready(p) && p.GetNodeName() != from && p.GetRevision() != pods["store-0"].GetRevision()
	})
	moved := framework.ListPods(t, clus, "store")["store-0"]
	to := moved.GetNodeName()
	got := strings.Fields(framework.MustExecInPod(t, clus, to, "store-0", "app", "cat", "/data/written-by"))
	if !slices.Equal(got, []string{"store-0", "store-0"}) {
		t.Errorf("store-0 on %s (was on %s) reads %v from its volume, want the line of its first incarnation and its own", to, from, got)
	}
	if after := nfsOwners(t)[dirOf["store-0"]]; after != "store-0 store-0" {
		t.Errorf("on the NFS server %s holds %q", dirOf["store-0"], after)
	}
	if ids := framework.Containers(t, clus, from); slices.Contains(ids, "store-0_app") {
		t.Errorf("store-0 still has a container on %s", from)
	}
}

// Section 5.4 of the StatefulSet walkthrough, across VMs: a local-storage
// class with WaitForFirstConsumer, one local PV pinned to each node VM, and the
// web set whose claims bind to them. Pods start in order, each lands on the VM
// its volume is pinned to, and writes there.
func TestLocalVolumesPinnedToVMs(t *testing.T) {
	framework.Need(t, clus)
	var b strings.Builder
	b.WriteString(`kind: StorageClass
apiVersion: storage.k8s.io/v1
metadata:
  name: local-storage
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
`)
	for i := 1; i <= clus.N; i++ {
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: local-pv%d
spec:
  capacity:
    storage: 1Gi
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: local-storage
  local:
    path: /srv/local/pv-%d
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - key: kubernetes.io/hostname
          operator: In
          values: [node-%d]
`, i, i, i)
	}
	framework.Apply(t, clus, b.String())
	r := framework.Record(t, clus, "lweb")
	framework.Apply(t, clus, `apiVersion: v1
kind: Service
metadata:
  name: lweb
spec:
  clusterIP: None
  selector:
    app: lweb
  ports:
  - port: 80
    name: web
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: lweb
spec:
  selector:
    matchLabels:
      app: lweb
  serviceName: lweb
  replicas: 2
  template:
    metadata:
      labels:
        app: lweb
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: nginx
        image: ordo.local/busybox:latest
        command: ["sh", "-c", "hostname >/usr/share/nginx/html/index.html && exec httpd -f -p 80 -h /usr/share/nginx/html"]
        ports:
        - containerPort: 80
          name: web
        readinessProbe:
          httpGet:
            path: /
            port: web
          periodSeconds: 0.5
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: local-storage
      resources:
        requests:
          storage: 1Gi
`)
	pods := framework.WaitSetReady(t, clus, "lweb", framework.PodNames("lweb", 2)...)
	t.Cleanup(func() {
		framework.DeleteSet(t, clus, "lweb")
		deleteObjects(t, "pvc", "www-lweb-0", "www-lweb-1")
		deleteObjects(t, "pv", "local-pv1", "local-pv2")
		for _, vm := range clus.Nodes() {
			framework.MustExec(t, clus, vm, "sh", "-c", "rm -f /srv/local/pv-*/index.html")
		}
	})
	if got := framework.CheckOrderedCreation(t, r); !slices.Equal(got, []string{"lweb-0", "lweb-1"}) {
		t.Errorf("creation order %v", got)
	}
	used := map[string]bool{}
	for name, p := range pods {
		vm := p.GetNodeName()
		used[vm] = true
		// The volume pinned to this VM is /srv/local/pv-<i> of node-<i>.
		dir := "/srv/local/pv-" + strings.TrimPrefix(vm, "node-")
		if got := strings.TrimSpace(framework.MustExec(t, clus, vm, "cat", dir+"/index.html")); got != name {
			t.Errorf("%s runs on %s, whose local volume %s holds %q", name, vm, dir, got)
		}
		if c := getClaim(t, "www-"+name); c.GetSpec().GetVolumeName() != "local-pv"+strings.TrimPrefix(vm, "node-") {
			t.Errorf("claim www-%s bound to %q, but the pod runs on %s", name, c.GetSpec().GetVolumeName(), vm)
		}
		if got := strings.TrimSpace(framework.MustExecInPod(t, clus, vm, name, "nginx", "wget", "-qO-", "http://127.0.0.1/")); got != name {
			t.Errorf("%s serves %q", name, got)
		}
	}
	if len(used) != clus.N {
		t.Errorf("pods on %v, want one on each VM", used)
	}
}
