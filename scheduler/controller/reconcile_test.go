package controller

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func threeReadyNodes() []*ordov1.NodeInfo {
	return []*ordov1.NodeInfo{testNode("node-1", true, 110), testNode("node-2", true, 110), testNode("node-3", true, 110)}
}

// readyPod is ordinal o of set, Running and Ready since readySince.
func readyPod(set *ordov1.StatefulSet, o int32, node string, readySince time.Time) *ordov1.Pod {
	p := NewPod(set, o, Revision(set))
	p.NodeName = node
	p.Epoch = uint64(o) + 1
	p.Status = &ordov1.PodStatus{
		Phase:             ordov1.PodPhase_POD_PHASE_RUNNING,
		Ready:             true,
		ReadyTime:         timestamppb.New(readySince),
		ReadyObservedTime: timestamppb.New(readySince),
	}
	return p
}

func kinds(r Result) string {
	var parts []string
	for _, a := range r.Actions {
		parts = append(parts, a.Kind.String()+" "+a.Pod.GetMetadata().GetName())
	}
	return strings.Join(parts, ", ")
}

func TestOrderedReadyOneAtATime(t *testing.T) {
	set := testSet("web", 3, "")
	nodes := threeReadyNodes()

	r := Reconcile(Input{Set: set, Nodes: nodes, Now: t0})
	if got := kinds(r); got != "CreatePod web-0" {
		t.Fatalf("empty set: %s", got)
	}
	p0 := r.Actions[0].Pod
	if p0.NodeName == "" || r.Actions[0].Node != p0.NodeName || p0.Status.Phase != ordov1.PodPhase_POD_PHASE_PENDING {
		t.Fatalf("web-0 not placed: %v", p0)
	}

	// web-0 exists but is not Ready yet: nothing happens.
	p0.Epoch = 1
	for _, st := range []*ordov1.PodStatus{
		{Phase: ordov1.PodPhase_POD_PHASE_PENDING},
		{Phase: ordov1.PodPhase_POD_PHASE_RUNNING},
		{Phase: ordov1.PodPhase_POD_PHASE_UNKNOWN},
	} {
		p0.Status = st
		r = Reconcile(Input{Set: set, Pods: []*ordov1.Pod{p0}, Nodes: nodes, AllPods: []*ordov1.Pod{p0}, Now: t0})
		if len(r.Actions) != 0 {
			t.Fatalf("web-0 %v: %s", st, kinds(r))
		}
	}

	// Ready: web-1 follows, on another node (fewest pods).
	p0 = readyPod(set, 0, p0.NodeName, t0)
	r = Reconcile(Input{Set: set, Pods: []*ordov1.Pod{p0}, Nodes: nodes, AllPods: []*ordov1.Pod{p0}, Now: t0})
	if got := kinds(r); got != "CreatePod web-1" {
		t.Fatalf("web-0 ready: %s", got)
	}
	if r.Actions[0].Pod.NodeName == p0.NodeName {
		t.Errorf("web-1 placed on the node of web-0 while others are empty")
	}
	if r.Status.Replicas != 1 || r.Status.ReadyReplicas != 1 || r.Status.AvailableReplicas != 1 {
		t.Errorf("status %v", r.Status)
	}
}

func TestParallelCreatesAllAtOnceOnDistinctNodes(t *testing.T) {
	set := testSet("mongo", 3, PolicyParallel)
	set.Spec.Template.Spec.Affinity = antiAffinity(LabelHostname, "app", "mongo")
	r := Reconcile(Input{Set: set, Nodes: threeReadyNodes(), Now: t0})
	if got := kinds(r); got != "CreatePod mongo-0, CreatePod mongo-1, CreatePod mongo-2" {
		t.Fatalf("got %s", got)
	}
	seen := map[string]bool{}
	for _, a := range r.Actions {
		if a.Pod.NodeName == "" || seen[a.Pod.NodeName] {
			t.Fatalf("%s on %q; nodes so far %v", a.Pod.Metadata.Name, a.Pod.NodeName, seen)
		}
		seen[a.Pod.NodeName] = true
	}
}

func TestMinReadySeconds(t *testing.T) {
	set := testSet("web", 2, "")
	set.Spec.MinReadySeconds = 10
	nodes := threeReadyNodes()
	p0 := readyPod(set, 0, "node-1", t0)
	in := Input{Set: set, Pods: []*ordov1.Pod{p0}, Nodes: nodes, AllPods: []*ordov1.Pod{p0}}

	in.Now = t0.Add(4 * time.Second)
	r := Reconcile(in)
	if len(r.Actions) != 0 {
		t.Fatalf("web-1 created before web-0 is available: %s", kinds(r))
	}
	if r.RequeueAfter != 6*time.Second {
		t.Errorf("RequeueAfter = %v, want 6s", r.RequeueAfter)
	}
	if r.Status.ReadyReplicas != 1 || r.Status.AvailableReplicas != 0 {
		t.Errorf("status %v", r.Status)
	}

	// Counted from the scheduler's observation, not the agent's ready time.
	p0.Status.ReadyTime = timestamppb.New(t0.Add(-time.Hour))
	if r := Reconcile(in); len(r.Actions) != 0 {
		t.Fatalf("availability counted from the agent's clock: %s", kinds(r))
	}

	in.Now = t0.Add(10 * time.Second)
	r = Reconcile(in)
	if got := kinds(r); got != "CreatePod web-1" {
		t.Fatalf("after minReadySeconds: %s", got)
	}
	if r.RequeueAfter != 0 || r.Status.AvailableReplicas != 1 {
		t.Errorf("requeue %v, status %v", r.RequeueAfter, r.Status)
	}
}

func TestUnschedulableBlocksThenBinds(t *testing.T) {
	set := testSet("web", 3, "")
	set.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	nodes := threeReadyNodes()

	r := Reconcile(Input{Set: set, Nodes: nodes, Now: t0})
	if got := kinds(r); got != "CreatePod web-0" {
		t.Fatalf("got %s", got)
	}
	p0 := r.Actions[0].Pod
	wantMsg := "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."
	if p0.NodeName != "" || p0.Status.Reason != ReasonUnschedulable || p0.Status.Message != wantMsg || r.Actions[0].Reason != wantMsg {
		t.Fatalf("unschedulable web-0 = %v, reason %q", p0, r.Actions[0].Reason)
	}

	// Same reason: nothing to record, and web-1 waits.
	in := Input{Set: set, Pods: []*ordov1.Pod{p0}, Nodes: nodes, AllPods: []*ordov1.Pod{p0}, Now: t0.Add(time.Second)}
	if r := Reconcile(in); len(r.Actions) != 0 {
		t.Fatalf("got %s", kinds(r))
	}

	// The reason changes: it is recorded.
	in.Nodes = append(nodes[:2:2], testNode("node-3", false, 110, "disk", "ssd"))
	r = Reconcile(in)
	if got := kinds(r); got != "MarkUnschedulable web-0" {
		t.Fatalf("got %s", got)
	}
	want2 := "0/3 nodes are available: 1 node(s) were not ready, 2 node(s) didn't match Pod's node affinity/selector."
	if r.Actions[0].Reason != want2 || r.Actions[0].Pod.Status.Message != want2 {
		t.Fatalf("reason %q", r.Actions[0].Reason)
	}

	// A fitting node appears: web-0 is bound, web-1 still waits for it.
	in.Nodes = append(nodes[:2:2], testNode("node-3", true, 110, "disk", "ssd"))
	r = Reconcile(in)
	if got := kinds(r); got != "BindPod web-0" || r.Actions[0].Node != "node-3" || r.Actions[0].Pod.NodeName != "node-3" {
		t.Fatalf("got %s on %q", got, r.Actions[0].Node)
	}
	if st := r.Actions[0].Pod.Status; st.Reason != "" || st.Message != "" {
		t.Errorf("bound pod keeps unschedulable status %v", st)
	}
}

func TestTerminatingPodIsNotReplaced(t *testing.T) {
	for _, policy := range []string{PolicyOrderedReady, PolicyParallel} {
		set := testSet("web", 3, policy)
		p0 := readyPod(set, 0, "node-1", t0)
		p1 := readyPod(set, 1, "node-2", t0)
		p1.Metadata.DeletionTime = timestamppb.New(t0)
		pods := []*ordov1.Pod{p0, p1}
		r := Reconcile(Input{Set: set, Pods: pods, Nodes: threeReadyNodes(), AllPods: pods, Now: t0.Add(time.Minute)})
		want := ""
		if policy == PolicyParallel {
			want = "CreatePod web-2"
		}
		if got := kinds(r); got != want {
			t.Errorf("%s: got %q, want %q", policy, got, want)
		}
		if r.Status.Replicas != 1 {
			t.Errorf("%s: terminating pod counted: %v", policy, r.Status)
		}
	}
}

func TestFailedPodIsDeletedThenRecreated(t *testing.T) {
	set := testSet("web", 2, "")
	p0 := readyPod(set, 0, "node-1", t0)
	p0.Status = &ordov1.PodStatus{Phase: ordov1.PodPhase_POD_PHASE_FAILED}
	pods := []*ordov1.Pod{p0}
	r := Reconcile(Input{Set: set, Pods: pods, Nodes: threeReadyNodes(), AllPods: pods, Now: t0})
	if got := kinds(r); got != "DeletePod web-0" {
		t.Fatalf("got %s", got)
	}
	if d := r.Actions[0].Pod; d.Metadata.DeletionTime == nil || d.Epoch != p0.Epoch || r.Actions[0].Node != "node-1" {
		t.Errorf("delete action %v", r.Actions[0])
	}
	// Gone: recreated.
	r = Reconcile(Input{Set: set, Nodes: threeReadyNodes(), Now: t0})
	if got := kinds(r); got != "CreatePod web-0" {
		t.Fatalf("got %s", got)
	}
}

func TestUnknownPodsAreLeftAlone(t *testing.T) {
	set := testSet("web", 3, "")
	var pods []*ordov1.Pod
	for o := int32(0); o < 4; o++ {
		pods = append(pods, readyPod(set, o, "node-1", t0))
	}
	// web-1's node stopped reporting: web-2 exists, but nothing else is done.
	pods[1].Status.Phase, pods[1].Status.Ready = ordov1.PodPhase_POD_PHASE_UNKNOWN, false
	if r := Reconcile(Input{Set: set, Pods: pods, Nodes: threeReadyNodes(), AllPods: pods, Now: t0}); len(r.Actions) != 0 {
		t.Fatalf("got %s", kinds(r))
	}
	// The condemned web-3 is unknown: not deleted.
	pods[1].Status.Phase, pods[1].Status.Ready = ordov1.PodPhase_POD_PHASE_RUNNING, true
	pods[3].Status.Phase, pods[3].Status.Ready = ordov1.PodPhase_POD_PHASE_UNKNOWN, false
	for _, policy := range []string{PolicyOrderedReady, PolicyParallel} {
		set.Spec.PodManagementPolicy = policy
		if r := Reconcile(Input{Set: set, Pods: pods, Nodes: threeReadyNodes(), AllPods: pods, Now: t0}); len(r.Actions) != 0 {
			t.Fatalf("%s: got %s", policy, kinds(r))
		}
	}
}

func TestScaleDown(t *testing.T) {
	set := testSet("web", 2, "")
	var pods []*ordov1.Pod
	for o := int32(0); o < 5; o++ {
		pods = append(pods, readyPod(set, o, "node-1", t0))
	}
	in := Input{Set: set, Pods: pods, Nodes: threeReadyNodes(), AllPods: pods, Now: t0}

	r := Reconcile(in)
	if got := kinds(r); got != "DeletePod web-4" {
		t.Fatalf("got %s", got)
	}
	// While web-4 terminates nothing else goes.
	pods[4].Metadata.DeletionTime = timestamppb.New(t0)
	if r := Reconcile(in); len(r.Actions) != 0 {
		t.Fatalf("got %s", kinds(r))
	}
	// Gone: web-3 next, even if it is not ready itself.
	in.Pods, in.AllPods = pods[:4], pods[:4]
	pods[3].Status.Ready = false
	if got := kinds(Reconcile(in)); got != "DeletePod web-3" {
		t.Fatalf("got %s", got)
	}
	// An in-range pod that is not Ready holds the scale-down.
	pods[1].Status.Ready = false
	if r := Reconcile(in); len(r.Actions) != 0 {
		t.Fatalf("got %s", kinds(r))
	}
	// Parallel deletes all condemned pods at once.
	set.Spec.PodManagementPolicy = PolicyParallel
	in.Pods, in.AllPods = pods, pods
	pods[4].Metadata.DeletionTime = nil
	if got := kinds(Reconcile(in)); got != "DeletePod web-4, DeletePod web-3, DeletePod web-2" {
		t.Fatalf("got %s", got)
	}
}

func TestOrdinalsStart(t *testing.T) {
	set := testSet("web", 2, "")
	set.Spec.OrdinalsStart = 5
	r := Reconcile(Input{Set: set, Nodes: threeReadyNodes(), Now: t0})
	if got := kinds(r); got != "CreatePod web-5" {
		t.Fatalf("got %s", got)
	}
	// A pod at ordinal 0 is outside 5..6: condemned once 5 and 6 are ready.
	pods := []*ordov1.Pod{readyPod(set, 0, "node-1", t0), readyPod(set, 5, "node-2", t0), readyPod(set, 6, "node-3", t0)}
	r = Reconcile(Input{Set: set, Pods: pods, Nodes: threeReadyNodes(), AllPods: pods, Now: t0})
	if got := kinds(r); got != "DeletePod web-0" {
		t.Fatalf("got %s", got)
	}
	if r.Status.Replicas != 2 {
		t.Errorf("status %v", r.Status)
	}
}

func TestSetDeletionRemovesPodsDescending(t *testing.T) {
	set := testSet("web", 3, "")
	set.Metadata.DeletionTime = timestamppb.New(t0)
	var pods []*ordov1.Pod
	for o := int32(0); o < 3; o++ {
		pods = append(pods, readyPod(set, o, "node-1", t0))
	}
	pods[1].Status.Ready = false
	r := Reconcile(Input{Set: set, Pods: pods, Nodes: threeReadyNodes(), AllPods: pods, Now: t0})
	if got := kinds(r); got != "DeletePod web-2" {
		t.Fatalf("got %s", got)
	}
}

func TestStatusRevisions(t *testing.T) {
	set := testSet("web", 3, "")
	oldRev := Revision(set)
	var pods []*ordov1.Pod
	for o := int32(0); o < 3; o++ {
		pods = append(pods, readyPod(set, o, "node-1", t0))
	}
	set.Spec.Template.Spec.Containers[0].Image = "ordo.local/busybox:v2"
	set.Metadata.Generation = 2
	newRev := Revision(set)
	pods[2] = readyPod(set, 2, "node-1", t0)

	r := Reconcile(Input{Set: set, Pods: pods, Nodes: threeReadyNodes(), AllPods: pods, Now: t0})
	// web-2 is updated and Ready: the rolling update goes on with web-1.
	if got := kinds(r); got != "DeletePod web-1" {
		t.Fatalf("got %s", got)
	}
	st := r.Status
	if st.ObservedGeneration != 2 || st.CurrentRevision != oldRev || st.UpdateRevision != newRev ||
		st.CurrentReplicas != 2 || st.UpdatedReplicas != 1 || st.Replicas != 3 || st.ReadyReplicas != 3 {
		t.Fatalf("status %v (old %s, new %s)", st, oldRev, newRev)
	}

	// No pods at all: both revisions are the update revision.
	r = Reconcile(Input{Set: set, Nodes: threeReadyNodes(), Now: t0})
	if r.Status.CurrentRevision != newRev || r.Status.Replicas != 0 {
		t.Fatalf("status %v", r.Status)
	}
	// New pods are created on the update revision.
	if p := r.Actions[0].Pod; p.Revision != newRev || p.Metadata.Labels[identity.LabelRevisionHash] != newRev {
		t.Fatalf("created on %q", p.Revision)
	}
}
