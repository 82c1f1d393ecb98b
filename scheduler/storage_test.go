package scheduler

import (
	"fmt"
	"strings"
	"testing"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/state"
)

const localStorage = `kind: StorageClass
apiVersion: storage.k8s.io/v1
metadata:
  name: local-storage
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
`

func localPV(name, node, size string) string {
	return fmt.Sprintf(`---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: %s
spec:
  capacity:
    storage: %s
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: local-storage
  local:
    path: /data/%[1]s
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kubernetes.io/hostname, operator: In, values: [%[3]s]}
`, name, size, node)
}

func webWithClaims(replicas int, retention string) string {
	return fmt.Sprintf(`---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  serviceName: web
  replicas: %d
%s  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: c
        image: ordo.local/busybox:latest
        volumeMounts:
        - {name: www, mountPath: /usr/share/nginx/html}
  volumeClaimTemplates:
  - metadata: {name: www}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: local-storage
      resources: {requests: {storage: 1Gi}}
`, replicas, retention)
}

func (h *harness) claim(name string) *ordov1.PersistentVolumeClaim {
	return h.sched.store.PersistentVolumeClaim("default", name)
}

func desiredPod(a *fakeAgent, name string) *ordov1.Pod {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range a.desired {
		if p.GetMetadata().GetName() == name {
			return p
		}
	}
	return nil
}

// The seed scenario: one local volume on each of two nodes; each ordinal's
// claim binds to a volume together with its pod's placement, the pod goes to
// that volume's node and comes back there; the third ordinal has no volume
// and stays Pending with a reason, blocking nothing else.
func TestLocalVolumesPlacePods(t *testing.T) {
	h := startHarness(t, t.TempDir())
	as := agents{newFakeAgent(t, "node-1"), newFakeAgent(t, "node-2"), newFakeAgent(t, "node-3")}
	for _, a := range as {
		a.connect(h)
	}
	h.apply(localStorage + localPV("local-pv1", "node-1", "1Gi") + localPV("local-pv2", "node-2", "1Gi") + webWithClaims(3, ""))

	nodeOf := map[string]string{}
	for _, name := range []string{"web-0", "web-1"} {
		a := as.waitOwner(t, name)
		ord := name[len(name)-1:]
		c := h.claim("www-web-" + ord)
		if c.GetStatus().GetPhase() != "Bound" {
			t.Fatalf("claim www-web-%s = %v", ord, c)
		}
		pv := h.sched.store.PersistentVolume(c.GetSpec().GetVolumeName())
		if want := "local-pv" + strings.TrimPrefix(a.name, "node-"); pv.GetMetadata().GetName() != want {
			t.Fatalf("%s runs on %s but its claim is bound to %s", name, a.name, pv.GetMetadata().GetName())
		}
		if pv.GetStatus().GetPhase() != "Bound" || pv.GetSpec().GetClaimRef().GetName() != c.GetMetadata().GetName() {
			t.Fatalf("volume = %v", pv)
		}
		rv := desiredPod(a, name).GetResolvedVolumes()
		if len(rv) != 1 || rv[0].GetName() != "www" || rv[0].GetLocal().GetPath() != pv.GetSpec().GetLocal().GetPath() || rv[0].GetClaim() != c.GetMetadata().GetName() {
			t.Fatalf("resolved volumes of %s = %v", name, rv)
		}
		nodeOf[name] = a.name
		a.ready(name)
	}
	if nodeOf["web-0"] == nodeOf["web-1"] {
		t.Fatalf("both pods on %s", nodeOf["web-0"])
	}
	const why = "no PersistentVolume for claim www-web-2: needs 1Gi RWO class local-storage"
	h.settle("web-2 unschedulable", func(s *state.Store) bool { return s.Pod("default", "web-2").GetStatus().GetMessage() == why })
	if c := h.claim("www-web-2"); c == nil || c.GetStatus().GetPhase() != "Pending" {
		t.Fatalf("claim www-web-2 = %v", c)
	}
	if as.everSeen("web-2") {
		t.Fatal("web-2 was sent to a node")
	}

	// A new volume for it: web-2 is placed on that volume's node.
	h.apply(localPV("local-pv3", "node-3", "5Gi"))
	if a := as.waitOwner(t, "web-2"); a.name != "node-3" {
		t.Fatalf("web-2 on %s", a.name)
	}

	// A deleted pod returns to its volume's node.
	old := as.owner(t, "web-0")
	epoch := old.epoch("web-0")
	if _, err := h.ctl.Delete(h.ctx(), &ordov1.DeleteRequest{Ref: &ordov1.ObjectRef{Kind: "pod", Name: "web-0"}}); err != nil {
		t.Fatal(err)
	}
	as.wait(t, "web-0 stopped", func() bool { return desiredPod(old, "web-0") == nil })
	old.reportEpoch("web-0", epoch, ordov1.PodPhase_POD_PHASE_GONE, false)
	as.wait(t, "web-0 again", func() bool { return desiredPod(old, "web-0") != nil })
	if a := as.owner(t, "web-0"); a.name != nodeOf["web-0"] {
		t.Fatalf("web-0 came back on %s, its volume is on %s", a.name, nodeOf["web-0"])
	}

	// Claims are kept when the set scales down (default retention).
	old.ready("web-0")
	as.waitOwner(t, "web-2").ready("web-2")
	owners, epochs := map[string]*fakeAgent{}, map[string]uint64{}
	for _, n := range []string{"web-2", "web-1", "web-0"} {
		owners[n] = as.owner(t, n)
		epochs[n] = owners[n].epoch(n)
	}
	h.scale("web", 0)
	for _, n := range []string{"web-2", "web-1", "web-0"} {
		a, ep := owners[n], epochs[n]
		as.wait(t, n+" stopped", func() bool { return desiredPod(a, n) == nil })
		a.reportEpoch(n, ep, ordov1.PodPhase_POD_PHASE_GONE, false)
	}
	h.settle("pods gone", func(s *state.Store) bool { return len(s.Pods()) == 0 })
	for _, n := range []string{"www-web-0", "www-web-1", "www-web-2"} {
		if c := h.claim(n); c.GetStatus().GetPhase() != "Bound" {
			t.Fatalf("claim %s after scale down = %v", n, c)
		}
	}
}

func TestRetentionPolicyDeletesClaims(t *testing.T) {
	h := startHarness(t, t.TempDir())
	as := agents{newFakeAgent(t, "node-1"), newFakeAgent(t, "node-2")}
	for _, a := range as {
		a.connect(h)
	}
	h.apply(localStorage + localPV("pv1", "node-1", "1Gi") + localPV("pv2", "node-2", "1Gi") +
		webWithClaims(2, "  persistentVolumeClaimRetentionPolicy: {whenScaled: Delete, whenDeleted: Retain}\n"))
	for _, n := range []string{"web-0", "web-1"} {
		as.waitOwner(t, n).ready(n)
	}
	h.settle("claims bound", func(s *state.Store) bool {
		return s.PersistentVolumeClaim("default", "www-web-1").GetStatus().GetPhase() == "Bound"
	})
	vol := h.claim("www-web-1").GetSpec().GetVolumeName()
	a := as.owner(t, "web-1")
	ep := a.epoch("web-1")
	h.scale("web", 1)
	as.wait(t, "web-1 stopped", func() bool { return desiredPod(a, "web-1") == nil })
	if h.claim("www-web-1") == nil {
		t.Fatal("claim deleted while its pod still runs")
	}
	a.reportEpoch("web-1", ep, ordov1.PodPhase_POD_PHASE_GONE, false)
	h.settle("claim www-web-1 deleted", func(s *state.Store) bool { return s.PersistentVolumeClaim("default", "www-web-1") == nil })
	if pv := h.sched.store.PersistentVolume(vol); pv.GetStatus().GetPhase() != "Released" {
		t.Fatalf("volume after its claim was deleted = %v", pv)
	}
	if h.claim("www-web-0") == nil {
		t.Fatal("claim of the remaining ordinal deleted")
	}
}

func TestImmediateBindingAndDeleteProtection(t *testing.T) {
	h := startHarness(t, t.TempDir())
	h.apply(`apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: std
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/no-provisioner
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: big}
spec: {capacity: {storage: 10Gi}, accessModes: [ReadWriteOnce], storageClassName: std, hostPath: {path: /srv/big}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: small, labels: {tier: gold}}
spec: {capacity: {storage: 2Gi}, accessModes: [ReadWriteOnce, ReadWriteMany], storageClassName: std, persistentVolumeReclaimPolicy: Delete, hostPath: {path: /srv/small}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`)
	c := h.claim("data")
	if c.GetStatus().GetPhase() != "Bound" || c.GetSpec().GetVolumeName() != "small" || c.GetStatus().GetCapacity() != "2Gi" {
		t.Fatalf("claim = %v", c)
	}
	if _, err := h.ctl.Delete(h.ctx(), &ordov1.DeleteRequest{Ref: &ordov1.ObjectRef{Kind: "pv", Name: "small"}}); err == nil || !strings.Contains(err.Error(), "bound to claim default/data") {
		t.Fatalf("deleting a bound volume: %v", err)
	}
	resp, err := h.ctl.List(h.ctx(), &ordov1.ListRequest{Kind: "pv"})
	if err != nil || len(resp.GetPersistentVolumes()) != 2 {
		t.Fatalf("list pv: %v %v", resp, err)
	}
	// Deleting the claim deletes a volume with reclaim policy Delete.
	if _, err := h.ctl.Delete(h.ctx(), &ordov1.DeleteRequest{Ref: &ordov1.ObjectRef{Kind: "pvc", Name: "data"}}); err != nil {
		t.Fatal(err)
	}
	if h.sched.store.PersistentVolume("small") != nil || h.sched.store.PersistentVolume("big").GetStatus().GetPhase() != "Available" {
		t.Fatalf("volumes after claim deletion: %v", h.sched.store.PersistentVolumes())
	}
}

// Claims made from volumeClaimTemplates of an Immediate class bind as they are
// created, with their pod, and the pod runs where the volume allows.
func TestImmediateClassClaimTemplatesBind(t *testing.T) {
	h := startHarness(t, t.TempDir())
	as := agents{newFakeAgent(t, "node-1"), newFakeAgent(t, "node-2")}
	for _, a := range as {
		a.connect(h)
	}
	immediate := strings.Replace(localStorage, "WaitForFirstConsumer", "Immediate", 1)
	h.apply(immediate + localPV("local-pv1", "node-2", "1Gi") + localPV("local-pv2", "node-2", "1Gi") + webWithClaims(2, ""))
	for _, name := range []string{"web-0", "web-1"} {
		a := as.waitOwner(t, name)
		if a.name != "node-2" {
			t.Fatalf("%s placed on %s; its volume is on node-2", name, a.name)
		}
		if c := h.claim("www-" + name); c.GetStatus().GetPhase() != "Bound" {
			t.Fatalf("claim www-%s = %v", name, c)
		}
		a.ready(name)
	}
}
