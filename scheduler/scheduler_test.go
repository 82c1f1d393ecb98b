package scheduler

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/state"
)

const (
	running = ordov1.PodPhase_POD_PHASE_RUNNING
	pending = ordov1.PodPhase_POD_PHASE_PENDING
)

func (h *harness) getSet(name string) *ordov1.StatefulSet {
	h.t.Helper()
	resp, err := h.ctl.Get(h.ctx(), &ordov1.GetRequest{Ref: &ordov1.ObjectRef{Kind: "sts", Name: name}})
	if err != nil {
		h.t.Fatalf("get sts %s: %v", name, err)
	}
	return resp.GetObject().GetStatefulSet()
}

func (h *harness) getPod(name string) *ordov1.GetResponse {
	h.t.Helper()
	resp, err := h.ctl.Get(h.ctx(), &ordov1.GetRequest{Ref: &ordov1.ObjectRef{Kind: "pod", Name: name}})
	if err != nil {
		h.t.Fatalf("get pod %s: %v", name, err)
	}
	return resp
}

func (h *harness) scale(name string, n int32) {
	h.t.Helper()
	if _, err := h.ctl.Scale(h.ctx(), &ordov1.ScaleRequest{Name: name, Replicas: n}); err != nil {
		h.t.Fatalf("scale %s to %d: %v", name, n, err)
	}
}

// readyUpTo brings pods web-from..web-to up one by one in order, checking at
// each step that the next ordinal is not desired before the previous is Ready.
func readyUpTo(t *testing.T, h *harness, as agents, set string, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		name := set + "-" + itoa(i)
		next := set + "-" + itoa(i+1)
		a := as.waitOwner(t, name)
		a.report(name, pending, false)
		a.report(name, running, false)
		h.settle(name+" running", func(s *state.Store) bool {
			return s.Pod("default", name).GetStatus().GetPhase() == running
		})
		if as.everSeen(next) {
			t.Fatalf("%s was sent to an agent before %s was Ready", next, name)
		}
		if slices.Contains(h.storedPods(), next) {
			t.Fatalf("%s was created before %s was Ready", next, name)
		}
		a.ready(name)
		h.settle(name+" ready", func(s *state.Store) bool { return s.Pod("default", name).GetStatus().GetReady() })
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestOrderedReadyBringUpScaleAndDelete(t *testing.T) {
	h := startHarness(t, t.TempDir())
	a1, a2 := newFakeAgent(t, "node-1"), newFakeAgent(t, "node-2")
	a1.connect(h)
	a2.connect(h)
	as := agents{a1, a2}

	resp := h.apply(setManifest("web", 3, "OrderedReady"))
	if len(resp.GetResults()) != 2 || resp.GetResults()[1].GetAction() != "created" {
		t.Fatalf("apply results: %v", resp.GetResults())
	}
	as.waitDesired(t, "web-0")
	readyUpTo(t, h, as, "web", 0, 1)
	as.waitDesired(t, "web-0", "web-1", "web-2")
	readyUpTo(t, h, as, "web", 2, 2)

	// Spread over both nodes, fewest pods first.
	if len(a1.names()) == 0 || len(a2.names()) == 0 {
		t.Fatalf("pods not spread: node-1 %v, node-2 %v", a1.names(), a2.names())
	}
	st := h.getSet("web").GetStatus()
	if st.GetReplicas() != 3 || st.GetReadyReplicas() != 3 || st.GetObservedGeneration() != 1 {
		t.Fatalf("status after bring-up: %v", st)
	}
	pod := h.getPod("web-0")
	if pod.GetPod().GetStatus().GetReadyObservedTime() == nil {
		t.Fatal("ready_observed_time not stamped")
	}
	var reasons []string
	for _, e := range pod.GetEvents() {
		reasons = append(reasons, e.GetReason())
	}
	for _, want := range []string{"Created", "Scheduled", "Started", "Ready"} {
		if !slices.Contains(reasons, want) {
			t.Fatalf("events of web-0 %v lack %s", reasons, want)
		}
	}
	// Epochs increase with each new pod.
	if !(a1.epochOrZero("web-0")+a2.epochOrZero("web-0") < a1.epochOrZero("web-1")+a2.epochOrZero("web-1")) {
		t.Fatal("epochs do not increase with creation order")
	}

	// Scale up 3 → 5: still in order.
	h.scale("web", 5)
	as.waitDesired(t, "web-0", "web-1", "web-2", "web-3")
	readyUpTo(t, h, as, "web", 3, 3)
	as.waitDesired(t, "web-0", "web-1", "web-2", "web-3", "web-4")
	readyUpTo(t, h, as, "web", 4, 4)

	// Scale down 5 → 2: descending, one at a time, each after the previous is gone.
	h.scale("web", 2)
	for i := 4; i >= 2; i-- {
		name := "web-" + itoa(i)
		var want []string
		for j := 0; j < i; j++ {
			want = append(want, "web-"+itoa(j))
		}
		as.waitDesired(t, want...)
		owner := findRunner(t, as, name)
		owner.report(name, ordov1.PodPhase_POD_PHASE_TERMINATING, false)
		h.settle(name+" terminating", func(s *state.Store) bool {
			return s.Pod("default", name).GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_TERMINATING
		})
		if got := as.desiredNames(); !slices.Equal(got, want) {
			t.Fatalf("while %s terminates, desired %v, want %v", name, got, want)
		}
		if p := h.sched.store.Pod("default", name); p == nil || p.GetMetadata().GetDeletionTime() == nil {
			t.Fatalf("%s not kept as terminating until its agent confirms it gone: %v", name, p)
		}
		owner.gone(name)
		h.settle(name+" gone", func(s *state.Store) bool { return s.Pod("default", name) == nil })
	}
	as.waitDesired(t, "web-0", "web-1")
	if got := h.storedPods(); !slices.Equal(got, []string{"web-0", "web-1"}) {
		t.Fatalf("pods after scale down: %v", got)
	}

	// Delete the set: pods go in descending order, then the set.
	if _, err := h.ctl.Delete(h.ctx(), &ordov1.DeleteRequest{Ref: &ordov1.ObjectRef{Kind: "StatefulSet", Name: "web"}}); err != nil {
		t.Fatal(err)
	}
	as.waitDesired(t, "web-0")
	if s := h.getSet("web"); s.GetMetadata().GetDeletionTime() == nil {
		t.Fatal("set being deleted has no deletion time")
	}
	findRunner(t, as, "web-1").gone("web-1")
	as.waitDesired(t)
	findRunner(t, as, "web-0").gone("web-0")
	h.settle("set removed", func(s *state.Store) bool { return s.StatefulSet("default", "web") == nil })
	if _, err := h.ctl.Get(h.ctx(), &ordov1.GetRequest{Ref: &ordov1.ObjectRef{Kind: "sts", Name: "web"}}); status.Code(err) != codes.NotFound {
		t.Fatalf("get of a deleted set: %v", err)
	}
	if got := h.storedPods(); len(got) != 0 {
		t.Fatalf("pods left after deleting the set: %v", got)
	}
}

func (a *fakeAgent) epochOrZero(name string) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.running[name]
}

// findRunner is the agent that runs name (it may no longer be desired).
func findRunner(t testing.TB, as agents, name string) *fakeAgent {
	t.Helper()
	for _, a := range as {
		if a.epochOrZero(name) != 0 {
			return a
		}
	}
	t.Fatalf("no agent runs %s", name)
	return nil
}

func TestParallelCreatesAndDeletesAllAtOnce(t *testing.T) {
	h := startHarness(t, t.TempDir())
	a := newFakeAgent(t, "node-1")
	a.connect(h)
	as := agents{a}
	h.apply(setManifest("db", 3, "Parallel"))
	as.waitDesired(t, "db-0", "db-1", "db-2") // no pod reported anything yet

	if _, err := h.ctl.Delete(h.ctx(), &ordov1.DeleteRequest{Ref: &ordov1.ObjectRef{Kind: "sts", Name: "db"}}); err != nil {
		t.Fatal(err)
	}
	as.waitDesired(t)
	for _, n := range []string{"db-0", "db-1", "db-2"} {
		a.gone(n)
	}
	h.settle("set removed", func(s *state.Store) bool { return s.StatefulSet("default", "db") == nil })
	if got := h.storedPods(); len(got) != 0 {
		t.Fatalf("pods left: %v", got)
	}
}

func TestRestartResumesWithoutDuplicates(t *testing.T) {
	dir := t.TempDir()
	h := startHarness(t, dir)
	a := newFakeAgent(t, "node-1")
	a.connect(h)
	as := agents{a}
	h.apply(setManifest("web", 3, "OrderedReady"))
	as.waitDesired(t, "web-0")
	readyUpTo(t, h, as, "web", 0, 0)
	as.waitDesired(t, "web-0", "web-1")
	a.report("web-1", pending, false)
	h.settle("web-1 pending", func(s *state.Store) bool { return s.Pod("default", "web-1").GetStatus().GetPhase() == pending })
	e0, e1 := a.epoch("web-0"), a.epoch("web-1")

	h.restart()
	a.disconnect()
	// Before the agent is back the node is NotReady and nothing new is created.
	h.idle()
	if n := h.sched.store.Node("node-1"); n.GetReady() {
		t.Fatal("node Ready after a scheduler restart before its agent reconnected")
	}
	if got := h.storedPods(); !slices.Equal(got, []string{"web-0", "web-1"}) {
		t.Fatalf("pods after restart: %v", got)
	}
	a.connect(h)
	as.waitDesired(t, "web-0", "web-1")
	if a.epoch("web-0") != e0 || a.epoch("web-1") != e1 {
		t.Fatalf("pods recreated across restart: epochs %d,%d became %d,%d", e0, e1, a.epoch("web-0"), a.epoch("web-1"))
	}
	h.settle("node ready", func(s *state.Store) bool { return s.Node("node-1").GetReady() })
	if as.everSeen("web-2") {
		t.Fatal("web-2 created before web-1 was Ready")
	}
	readyUpTo(t, h, as, "web", 1, 1)
	as.waitDesired(t, "web-0", "web-1", "web-2")
	if e2 := a.epoch("web-2"); e2 <= e1 {
		t.Fatalf("epoch after restart %d is not above %d", e2, e1)
	}

	// A pod deleted while its agent is away is gone if the agent's Hello lacks it,
	// and its set then creates a new incarnation with a higher epoch.
	readyUpTo(t, h, as, "web", 2, 2)
	a.disconnect()
	h.settle("node not ready", func(s *state.Store) bool { return !s.Node("node-1").GetReady() })
	if _, err := h.ctl.Delete(h.ctx(), &ordov1.DeleteRequest{Ref: &ordov1.ObjectRef{Kind: "pod", Name: "web-1"}}); err != nil {
		t.Fatal(err)
	}
	h.idle()
	if p := h.sched.store.Pod("default", "web-1"); p == nil || p.GetEpoch() != e1 {
		t.Fatalf("web-1 replaced before it was confirmed gone: %v", p)
	}
	a.mu.Lock()
	delete(a.running, "web-1") // the agent stopped it while disconnected
	a.mu.Unlock()
	a.connect(h)
	as.waitDesired(t, "web-0", "web-1", "web-2")
	if e := a.epoch("web-1"); e <= e1 {
		t.Fatalf("new web-1 has epoch %d, not above %d", e, e1)
	}
}

func TestInvalidInputChangesNothing(t *testing.T) {
	h := startHarness(t, t.TempDir())
	bad := setManifest("web", 2, "OrderedReady") + "---\n" + strings.Replace(setManifest("db", 2, "OrderedReady"), "replicas: 2", "replicas: -1", 1)
	_, err := h.ctl.Apply(h.ctx(), &ordov1.ApplyRequest{Manifest: []byte(bad)})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "spec.replicas") {
		t.Fatalf("apply of an invalid manifest: %v", err)
	}
	list, err := h.ctl.List(h.ctx(), &ordov1.ListRequest{Kind: "sts"})
	if err != nil || len(list.GetStatefulSets()) != 0 {
		t.Fatalf("sets stored from an invalid manifest: %v %v", list, err)
	}
	svcs, _ := h.ctl.List(h.ctx(), &ordov1.ListRequest{Kind: "svc"})
	if len(svcs.GetServices()) != 0 {
		t.Fatalf("services stored from an invalid manifest: %v", svcs)
	}

	// Typed objects are validated too.
	_, err = h.ctl.Apply(h.ctx(), &ordov1.ApplyRequest{Objects: []*ordov1.Object{
		{Kind: &ordov1.Object_StatefulSet{StatefulSet: testSet("ok", 1)}},
		{Kind: &ordov1.Object_StatefulSet{StatefulSet: &ordov1.StatefulSet{Metadata: &ordov1.ObjectMeta{Name: "nospec"}}}},
	}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "nospec") || !strings.Contains(err.Error(), "spec") {
		t.Fatalf("apply of an invalid typed object: %v", err)
	}
	if h.sched.store.StatefulSet("default", "ok") != nil {
		t.Fatal("valid object stored alongside an invalid one")
	}

	h.apply(setManifest("web", 0, "OrderedReady"))
	_, err = h.ctl.Scale(h.ctx(), &ordov1.ScaleRequest{Name: "web", Replicas: -1})
	if status.Code(err) != codes.InvalidArgument || status.Convert(err).Message() != "spec.replicas: must be >= 0" {
		t.Fatalf("scale to -1: %v", err)
	}
	_, err = h.ctl.Scale(h.ctx(), &ordov1.ScaleRequest{Name: "nope", Replicas: 1})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("scale of a missing set: %v", err)
	}
	_, err = h.ctl.Get(h.ctx(), &ordov1.GetRequest{Ref: &ordov1.ObjectRef{Kind: "gadget", Name: "x"}})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("get of an unknown kind: %v", err)
	}
}

func TestApplyReportsCreatedConfiguredUnchanged(t *testing.T) {
	h := startHarness(t, t.TempDir())
	actions := func(r *ordov1.ApplyResponse) string {
		var s []string
		for _, x := range r.GetResults() {
			s = append(s, x.GetKind()+"/"+x.GetName()+"="+x.GetAction())
		}
		return strings.Join(s, " ")
	}
	if got := actions(h.apply(setManifest("web", 0, "OrderedReady"))); got != "Service/web=created StatefulSet/web=created" {
		t.Fatalf("first apply: %s", got)
	}
	if got := actions(h.apply(setManifest("web", 0, "OrderedReady"))); got != "Service/web=unchanged StatefulSet/web=unchanged" {
		t.Fatalf("second apply: %s", got)
	}
	resp, err := h.ctl.Apply(h.ctx(), &ordov1.ApplyRequest{Manifest: []byte(setManifest("web", 4, "OrderedReady")), DryRun: true})
	if err != nil || actions(resp) != "Service/web=unchanged StatefulSet/web=configured" {
		t.Fatalf("dry run: %v %v", actions(resp), err)
	}
	if r := h.getSet("web").GetSpec().GetReplicas(); r != 0 {
		t.Fatalf("dry run stored replicas %d", r)
	}
	if got := actions(h.apply(setManifest("web", 4, "OrderedReady"))); got != "Service/web=unchanged StatefulSet/web=configured" {
		t.Fatalf("changed apply: %s", got)
	}
	if g := h.getSet("web").GetMetadata().GetGeneration(); g != 2 {
		t.Fatalf("generation %d after one spec change", g)
	}
	list, err := h.ctl.List(h.ctx(), &ordov1.ListRequest{Kind: "pods", LabelSelector: map[string]string{"app": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	// No node: the first pod waits unschedulable, and only it exists.
	h.idle()
	list, _ = h.ctl.List(h.ctx(), &ordov1.ListRequest{Kind: "pods", LabelSelector: map[string]string{"app": "web"}})
	if len(list.GetPods()) != 1 || list.GetPods()[0].GetStatus().GetReason() != "Unschedulable" {
		t.Fatalf("pods without nodes: %v", list.GetPods())
	}
	other, _ := h.ctl.List(h.ctx(), &ordov1.ListRequest{Kind: "pods", LabelSelector: map[string]string{"app": "other"}})
	if len(other.GetPods()) != 0 {
		t.Fatalf("label selector ignored: %v", other.GetPods())
	}

	// Once a node registers, the waiting pod is bound to it.
	a := newFakeAgent(t, "node-1")
	a.connect(h)
	agents{a}.waitDesired(t, "web-0")
}

func TestStaleEpochReportsAreIgnored(t *testing.T) {
	h := startHarness(t, t.TempDir())
	a := newFakeAgent(t, "node-1")
	a.connect(h)
	as := agents{a}
	h.apply(setManifest("web", 2, "OrderedReady"))
	as.waitDesired(t, "web-0")
	e := a.epoch("web-0")

	a.reportEpoch("web-0", e+100, running, true)
	a.reportEpoch("web-0", e-1, running, true)
	a.report("web-0", pending, false) // the current epoch: a barrier after the stale ones
	h.settle("web-0 pending", func(s *state.Store) bool { return s.Pod("default", "web-0").GetStatus().GetPhase() == pending })
	if p := h.sched.store.Pod("default", "web-0"); p.GetStatus().GetReady() || as.everSeen("web-1") {
		t.Fatalf("a stale report made web-0 ready: %v", p.GetStatus())
	}

	// Delete the pod: a GONE of another epoch does not remove it; its own does,
	// and the set then creates the next incarnation.
	if _, err := h.ctl.Delete(h.ctx(), &ordov1.DeleteRequest{Ref: &ordov1.ObjectRef{Kind: "po", Name: "web-0"}}); err != nil {
		t.Fatal(err)
	}
	as.waitDesired(t)
	a.reportEpoch("web-0", e+100, ordov1.PodPhase_POD_PHASE_GONE, false)
	a.report("web-0", ordov1.PodPhase_POD_PHASE_TERMINATING, false)
	h.settle("web-0 terminating", func(s *state.Store) bool {
		return s.Pod("default", "web-0").GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_TERMINATING
	})
	if len(a.names()) != 0 {
		t.Fatalf("web-0 replaced before its epoch was confirmed gone: %v", a.names())
	}
	a.gone("web-0")
	as.waitDesired(t, "web-0")
	if got := a.epoch("web-0"); got <= e {
		t.Fatalf("new web-0 epoch %d not above %d", got, e)
	}
}

func TestWatchStreamsChangesAndEvents(t *testing.T) {
	h := startHarness(t, t.TempDir())
	h.apply(setManifest("web", 0, "OrderedReady"))
	stream, err := h.ctl.Watch(h.ctx(), &ordov1.WatchRequest{Kinds: []string{"sts"}, SendInitial: true})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := stream.Recv()
	if err != nil || ev.GetType() != ordov1.EventType_EVENT_TYPE_ADDED || ev.GetObject().GetStatefulSet().GetMetadata().GetName() != "web" {
		t.Fatalf("initial event: %v %v", ev, err)
	}
	h.scale("web", 0) // unchanged: no event
	h.scale("web", 1)
	var sawModified, sawScaled bool
	for !(sawModified && sawScaled) {
		ev, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetKind() != kinds.StatefulSet {
			t.Fatalf("watch of sts got %v", ev.GetKind())
		}
		if ev.GetType() == ordov1.EventType_EVENT_TYPE_MODIFIED && ev.GetObject().GetStatefulSet().GetSpec().GetReplicas() == 1 {
			sawModified = true
		}
		if ev.GetReason() == "Scaled" {
			sawScaled = true
		}
	}
}

func TestRollingUpdateReplacesFromTheHighestOrdinal(t *testing.T) {
	h := startHarness(t, t.TempDir())
	a := newFakeAgent(t, "node-1")
	a.connect(h)
	as := agents{a}
	h.apply(setManifest("web", 3, "OrderedReady"))
	as.waitDesired(t, "web-0")
	readyUpTo(t, h, as, "web", 0, 2)
	old := h.getSet("web").GetStatus().GetUpdateRevision()
	epochs := map[string]uint64{}
	for _, n := range []string{"web-0", "web-1", "web-2"} {
		epochs[n] = a.epoch(n)
	}

	h.apply(strings.Replace(setManifest("web", 3, "OrderedReady"), `"3600"`, `"7200"`, 1))
	for _, n := range []string{"web-2", "web-1", "web-0"} {
		var rest []string
		for _, m := range []string{"web-0", "web-1", "web-2"} {
			if m != n {
				rest = append(rest, m)
			}
		}
		as.waitDesired(t, rest...)
		a.gone(n)
		as.waitDesired(t, "web-0", "web-1", "web-2")
		if e := a.epoch(n); e <= epochs[n] {
			t.Fatalf("%s not recreated: epoch %d", n, e)
		}
		a.ready(n)
		h.settle(n+" ready", func(s *state.Store) bool { return s.Pod("default", n).GetStatus().GetReady() })
	}
	st := h.getSet("web").GetStatus()
	if st.GetUpdateRevision() == old || st.GetCurrentRevision() != st.GetUpdateRevision() || st.GetUpdatedReplicas() != 3 || st.GetReadyReplicas() != 3 {
		t.Fatalf("status after the update: %v", st)
	}
	for _, p := range h.sched.store.PodsOfSet("default", "web") {
		if p.GetRevision() != st.GetUpdateRevision() || p.GetSpec().GetContainers()[0].GetCommand()[1] != "7200" {
			t.Fatalf("%s still on %s", p.GetMetadata().GetName(), p.GetRevision())
		}
	}
	if revs := h.sched.store.Revisions("default", "web"); len(revs) != 2 || revs[1].GetMetadata().GetName() != st.GetUpdateRevision() {
		t.Fatalf("revision history: %v", revs)
	}
}
