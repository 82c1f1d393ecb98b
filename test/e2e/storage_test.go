package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/test/framework"
)

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

// deleteSetIfExists is deleteSet for cleanups, where the set may be gone.
func deleteSetIfExists(t testing.TB, set string) {
	t.Helper()
	if _, err := framework.Get(clus, "sts", set); err != nil {
		return
	}
	framework.DeleteSet(t, clus, set)
}

// pvDir is where the tests keep local volumes: under the lab's node data.
func pvDir(node, name string) string { return filepath.Join(clus.Data, node, "pv", name) }

func storageManifest(pvs map[string]string) string {
	var b strings.Builder
	b.WriteString(`kind: StorageClass
apiVersion: storage.k8s.io/v1
metadata:
  name: local-storage
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
`)
	for _, name := range []string{"local-pv1", "local-pv2"} {
		node := pvs[name]
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: %s
spec:
  capacity:
    storage: 1Gi
  accessModes:
  - ReadWriteOnce
  persistentVolumeReclaimPolicy: Retain
  storageClassName: local-storage
  local:
    path: %s
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - key: kubernetes.io/hostname
          operator: In
          values:
          - %s
`, name, pvDir(node, name), node)
	}
	return b.String()
}

// webSet is the seed StatefulSet: each pod writes its hostname into its
// volume once, then keeps running.
func webSet(replicas int, retention string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: nginx
  serviceName: nginx
  replicas: %d
%s  template:
    metadata:
      labels:
        app: nginx
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: nginx
        image: ordo.local/busybox:latest
        command: ["sh", "-c", "f=/usr/share/nginx/html/index.html; [ -f $f ] || hostname > $f; exec sleep 100000"]
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes:
      - ReadWriteOnce
      storageClassName: local-storage
      resources:
        requests:
          storage: 10Mi
`, replicas, retention)
}

// getClaim returns the claim, or nil when it cannot be read (it is gone).
func getClaim(name string) *ordov1.PersistentVolumeClaim {
	o, err := framework.Get(clus, "pvc", name)
	if err != nil {
		return nil
	}
	return o.GetPersistentVolumeClaim()
}

// getPV returns the volume, or nil when it cannot be read (it is gone).
func getPV(name string) *ordov1.PersistentVolume {
	o, err := framework.Get(clus, "pv", name)
	if err != nil {
		return nil
	}
	return o.GetPersistentVolume()
}

// checkOwnData checks that each named pod runs on the node of its claim's
// volume and reads back exactly its own hostname from the volume.
func checkOwnData(t *testing.T, pods map[string]*ordov1.Pod, pvNode map[string]string, names ...string) {
	t.Helper()
	for _, name := range names {
		p := pods[name]
		c := getClaim("www-" + name)
		if c.GetStatus().GetPhase() != "Bound" {
			t.Fatalf("claim www-%s = %v", name, c)
		}
		vol := c.GetSpec().GetVolumeName()
		if p.GetNodeName() != pvNode[vol] {
			t.Fatalf("%s runs on %s, its volume %s is on %s", name, p.GetNodeName(), vol, pvNode[vol])
		}
		var out string
		framework.WaitFor(t, clus, name+" to read its file", 30*time.Second, func() bool {
			got, err := framework.ExecInPod(clus, p.GetNodeName(), name, "nginx", "cat", "/usr/share/nginx/html/index.html")
			out = strings.TrimSpace(got)
			return err == nil && out != ""
		})
		if out != name {
			t.Fatalf("%s read %q from its volume", name, out)
		}
		host, err := os.ReadFile(filepath.Join(pvDir(pvNode[vol], vol), "index.html"))
		if err != nil || strings.TrimSpace(string(host)) != name {
			t.Fatalf("%s's file on %s: %q %v", name, pvNode[vol], host, err)
		}
	}
}

// TestStableStorageSeedScenario runs the seed scenario: a local-storage class
// with WaitForFirstConsumer, one local volume on each of two nodes and the web
// set with www claims. Each ordinal keeps its own data on its volume's node
// across pod deletion, agent restart, scaling to zero and back, and deleting
// and re-applying the set; a third ordinal without a volume stays Pending
// with a reason.
func TestStableStorageSeedScenario(t *testing.T) {
	framework.Need(t, clus)
	pvNode := map[string]string{"local-pv1": "node-1", "local-pv2": "node-2"}
	for name, node := range pvNode {
		if err := os.MkdirAll(pvDir(node, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		deleteSetIfExists(t, "web")
		for _, c := range []string{"www-web-0", "www-web-1", "www-web-2"} {
			_ = framework.Delete(clus, "pvc", c)
		}
		for name, node := range pvNode {
			_ = framework.Delete(clus, "pv", name)
			os.RemoveAll(pvDir(node, name))
		}
		_ = framework.Delete(clus, "sc", "local-storage")
	})
	framework.Apply(t, clus, storageManifest(pvNode))
	for name := range pvNode {
		if pv := getPV(name); pv.GetStatus().GetPhase() != "Available" {
			t.Fatalf("volume %s = %v", name, pv)
		}
	}
	framework.Apply(t, clus, webSet(2, ""))
	pods := framework.WaitSetReady(t, clus, "web", "web-0", "web-1")
	checkOwnData(t, pods, pvNode, "web-0", "web-1")
	if pods["web-0"].GetNodeName() == pods["web-1"].GetNodeName() {
		t.Fatalf("both pods on %s", pods["web-0"].GetNodeName())
	}
	for name := range pvNode {
		pv := getPV(name)
		if pv.GetStatus().GetPhase() != "Bound" || !strings.HasPrefix(pv.GetSpec().GetClaimRef().GetName(), "www-web-") {
			t.Fatalf("volume %s = %v", name, pv)
		}
	}

	// Delete a pod: it comes back on its volume's node with its data.
	old := pods["web-0"].GetEpoch()
	if err := framework.Delete(clus, "pod", "web-0"); err != nil {
		t.Fatal(err)
	}
	framework.WaitFor(t, clus, "web-0 recreated", 90*time.Second, func() bool {
		p := framework.ListPods(t, clus, "web")["web-0"]
		return framework.Ready(p) && p.GetEpoch() != old
	})
	pods = framework.WaitSetReady(t, clus, "web", "web-0", "web-1")
	checkOwnData(t, pods, pvNode, "web-0", "web-1")

	// Restart web-1's agent.
	node := pods["web-1"].GetNodeName()
	lab(t, "agent", "stop", node)
	lab(t, "agent", "start", node)
	framework.WaitFor(t, clus, node+" ready again", 60*time.Second, func() bool { return nodeReady(t, node) })
	pods = framework.WaitSetReady(t, clus, "web", "web-0", "web-1")
	checkOwnData(t, pods, pvNode, "web-0", "web-1")

	// Scale 2 → 0 → 2: the claims stay and each ordinal finds its data.
	scale(t, "web", 0)
	framework.WaitFor(t, clus, "web scaled to 0", 90*time.Second, func() bool { return len(framework.ListPods(t, clus, "web")) == 0 })
	for _, c := range []string{"www-web-0", "www-web-1"} {
		if cl := getClaim(c); cl.GetStatus().GetPhase() != "Bound" {
			t.Fatalf("claim %s after scaling to 0 = %v", c, cl)
		}
	}
	scale(t, "web", 2)
	pods = framework.WaitSetReady(t, clus, "web", "web-0", "web-1")
	checkOwnData(t, pods, pvNode, "web-0", "web-1")

	// Delete the set and apply it again.
	framework.DeleteSet(t, clus, "web")
	if cl := getClaim("www-web-0"); cl.GetStatus().GetPhase() != "Bound" {
		t.Fatalf("claim www-web-0 after deleting the set = %v", cl)
	}
	framework.Apply(t, clus, webSet(2, ""))
	pods = framework.WaitSetReady(t, clus, "web", "web-0", "web-1")
	checkOwnData(t, pods, pvNode, "web-0", "web-1")

	// A third ordinal has no volume: Pending with a reason, never started.
	scale(t, "web", 3)
	const why = "no PersistentVolume for claim www-web-2: needs 10Mi RWO class local-storage"
	framework.WaitFor(t, clus, "web-2 unschedulable", 60*time.Second, func() bool {
		p := framework.ListPods(t, clus, "web")["web-2"]
		return p.GetStatus().GetMessage() == why && p.GetNodeName() == ""
	})
	if c := getClaim("www-web-2"); c.GetStatus().GetPhase() != "Pending" {
		t.Fatalf("claim www-web-2 = %v", c)
	}
	out, err := ordoCLI(t, "", "get", "pvc")
	if err != nil || !strings.Contains(out, "www-web-2") || !regexpMatch(`www-web-0\s+Bound\s+local-pv[12]\s+1Gi\s+RWO\s+local-storage`, out) {
		t.Fatalf("ordo get pvc: %v\n%s", err, out)
	}
	out, err = ordoCLI(t, "", "get", "pv")
	if err != nil || !regexpMatch(`local-pv1\s+1Gi\s+RWO\s+Retain\s+Bound\s+default/www-web-[01]\s+local-storage`, out) {
		t.Fatalf("ordo get pv: %v\n%s", err, out)
	}

	// Retention: whenScaled Delete removes the claim of a scaled-away ordinal.
	framework.Apply(t, clus, webSet(2, "  persistentVolumeClaimRetentionPolicy:\n    whenScaled: Delete\n"))
	framework.WaitFor(t, clus, "claim www-web-2 deleted", 60*time.Second, func() bool { return getClaim("www-web-2") == nil })
	if getClaim("www-web-1") == nil {
		t.Fatal("claim of a remaining ordinal deleted")
	}
	// With whenDeleted Retain (default) the claims outlive the set; deleting a
	// claim releases its volume and keeps the data (reclaim policy Retain).
	framework.DeleteSet(t, clus, "web")
	vol := getClaim("www-web-1").GetSpec().GetVolumeName()
	if err := framework.Delete(clus, "pvc", "www-web-1"); err != nil {
		t.Fatal(err)
	}
	if pv := getPV(vol); pv.GetStatus().GetPhase() != "Released" {
		t.Fatalf("volume %s after its claim was deleted = %v", vol, pv)
	}
	if b, err := os.ReadFile(filepath.Join(pvDir(pvNode[vol], vol), "index.html")); err != nil || strings.TrimSpace(string(b)) != "web-1" {
		t.Fatalf("retained data: %q %v", b, err)
	}
}

// A released local volume with reclaim policy Delete has its data removed by
// its node's agent, then the volume is deleted.
func TestReclaimDeleteRemovesLocalData(t *testing.T) {
	framework.Need(t, clus)
	dir := pvDir("node-3", "scratch-pv")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "data"), []byte("x"), 0o644)
	t.Cleanup(func() {
		_ = framework.Delete(clus, "pvc", "scratch")
		_ = framework.Delete(clus, "pv", "scratch-pv")
		_ = framework.Delete(clus, "sc", "local-now")
		os.RemoveAll(dir)
	})
	framework.Apply(t, clus, fmt.Sprintf(`apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: local-now}
provisioner: kubernetes.io/no-provisioner
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: scratch-pv}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Delete
  storageClassName: local-now
  local: {path: %s}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [node-3]}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: scratch}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: local-now
  resources: {requests: {storage: 100Mi}}
`, dir))
	if c := getClaim("scratch"); c.GetSpec().GetVolumeName() != "scratch-pv" || c.GetStatus().GetPhase() != "Bound" {
		t.Fatalf("claim = %v", c)
	}
	if err := framework.Delete(clus, "pvc", "scratch"); err != nil {
		t.Fatal(err)
	}
	framework.WaitFor(t, clus, "scratch-pv deleted", 60*time.Second, func() bool { return getPV("scratch-pv") == nil })
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Fatalf("volume data after reclaim: %v %v", entries, err)
	}
}

// Volumes the node cannot provide keep the pod Pending with a message that
// says what is wrong: a missing hostPath directory (not silently created) and
// an NFS volume on a node whose kernel has no NFS client.
func TestUnavailableVolumesKeepPodPending(t *testing.T) {
	framework.Need(t, clus)
	missing := filepath.Join(clus.Data, "node-1", "does-not-exist")
	t.Cleanup(func() {
		deleteSetIfExists(t, "lost")
		deleteSetIfExists(t, "shared")
		_ = framework.Delete(clus, "pvc", "nfs-data")
		_ = framework.Delete(clus, "pv", "nfs-pv")
	})
	framework.Apply(t, clus, setManifest("lost", "Parallel", 1, fmt.Sprintf(`      containers:
      - name: c
        image: ordo.local/busybox:latest
        command: ["sleep", "100000"]
        volumeMounts: [{name: data, mountPath: /data}]
      volumes:
      - name: data
        hostPath: {path: %s}
`, missing)))
	framework.WaitFor(t, clus, "lost-0 FailedMount", 60*time.Second, func() bool {
		p := framework.ListPods(t, clus, "lost")["lost-0"]
		return p.GetStatus().GetReason() == "FailedMount" && strings.Contains(p.GetStatus().GetMessage(), missing+" does not exist")
	})
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("the missing directory was created: %v", err)
	}

	if _, err := os.Stat("/sbin/mount.nfs"); err == nil {
		t.Log("mount.nfs is installed; the NFS part needs a node without an NFS client")
		return
	}
	framework.Apply(t, clus, `apiVersion: v1
kind: PersistentVolume
metadata: {name: nfs-pv}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteMany]
  mountOptions: [hard, nfsvers=4.1]
  nfs: {server: 192.0.2.10, path: /export}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: nfs-data}
spec:
  accessModes: [ReadWriteMany]
  storageClassName: ""
  resources: {requests: {storage: 1Gi}}
`)
	framework.Apply(t, clus, setManifest("shared", "Parallel", 1, `      containers:
      - name: c
        image: ordo.local/busybox:latest
        command: ["sleep", "100000"]
        volumeMounts: [{name: data, mountPath: /data}]
      volumes:
      - name: data
        persistentVolumeClaim: {claimName: nfs-data}
`))
	framework.WaitFor(t, clus, "shared-0 FailedMount", 60*time.Second, func() bool {
		p := framework.ListPods(t, clus, "shared")["shared-0"]
		return p.GetStatus().GetReason() == "FailedMount" && strings.Contains(p.GetStatus().GetMessage(), "no NFS client")
	})
}
