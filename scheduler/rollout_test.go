package scheduler

import (
	"io"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/controller"
	"github.com/ordoproject/ordo/scheduler/state"
)

func (h *harness) history(name string) *ordov1.RolloutHistoryResponse {
	h.t.Helper()
	resp, err := h.ctl.RolloutHistory(h.ctx(), &ordov1.RolloutHistoryRequest{Name: name})
	if err != nil {
		h.t.Fatalf("rollout history %s: %v", name, err)
	}
	return resp
}

// rolloutOnce is one RolloutStatus snapshot.
func (h *harness) rolloutOnce(name string) *ordov1.RolloutStatusResponse {
	h.t.Helper()
	stream, err := h.ctl.RolloutStatus(h.ctx(), &ordov1.RolloutStatusRequest{Name: name})
	if err != nil {
		h.t.Fatalf("rollout status: %v", err)
	}
	resp, err := stream.Recv()
	if err != nil {
		h.t.Fatalf("rollout status: %v", err)
	}
	if _, err := stream.Recv(); err != io.EOF {
		h.t.Fatalf("rollout status without watch: second message or error %v", err)
	}
	return resp
}

// replace plays the agent's part of a rolling update of name: the old pod
// stops, the new one comes up Ready. It returns the new pod's revision.
func replace(t *testing.T, h *harness, a *fakeAgent, name string) string {
	t.Helper()
	old := a.epochOrZero(name)
	a.waitDesired(name+" stopped", func(names []string) bool { return !contains(names, name) })
	a.reportEpoch(name, old, ordov1.PodPhase_POD_PHASE_GONE, false)
	a.waitDesired(name+" back", func(names []string) bool { return contains(names, name) })
	if a.epoch(name) <= old {
		t.Fatalf("%s came back with epoch %d, not above %d", name, a.epoch(name), old)
	}
	a.ready(name)
	h.settle(name+" ready", func(s *state.Store) bool {
		p := s.Pod("default", name)
		return p.GetEpoch() > old && p.GetStatus().GetReady()
	})
	return h.sched.store.Pod("default", name).GetRevision()
}

func contains(names []string, n string) bool {
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}

// The revision history is persisted across restarts, re-applying a template
// changes nothing, set image rolls pods from the highest ordinal down, and
// undo returns to the previous template under a new number.
func TestRolloutHistorySetImageUndo(t *testing.T) {
	h := startHarness(t, t.TempDir())
	a := newFakeAgent(t, "node-1")
	a.connect(h)
	as := agents{a}
	manifest := strings.Replace(setManifest("web", 2, "OrderedReady"), "  name: web\nspec:\n  serviceName",
		"  name: web\n  annotations:\n    kubernetes.io/change-cause: first\nspec:\n  serviceName", 1)
	h.apply(manifest)
	as.waitDesired(t, "web-0")
	a.ready("web-0")
	as.waitDesired(t, "web-0", "web-1")
	a.ready("web-1")
	h.settle("rollout done", func(s *state.Store) bool {
		done, _, _ := controller.RolloutStatus(s.StatefulSet("default", "web"), s.PodsOfSet("default", "web"))
		return done
	})
	hist := h.history("web")
	if len(hist.GetRevisions()) != 1 || hist.GetRevisions()[0].GetRevision() != 1 ||
		hist.GetRevisions()[0].GetChangeCause() != "first" || hist.GetRevisions()[0].GetTemplate() == nil {
		t.Fatalf("history after create: %v", hist.GetRevisions())
	}
	first := hist.GetRevisions()[0].GetMetadata().GetName()
	if st := h.rolloutOnce("web"); !st.GetDone() || st.GetFailed() {
		t.Fatalf("rollout status after bring-up: %v", st)
	}

	// The same template again: no new revision, no pod replaced.
	e0, e1 := a.epochOrZero("web-0"), a.epochOrZero("web-1")
	h.restart()
	a.connect(h)
	h.apply(manifest)
	h.idle()
	if again := h.history("web"); len(again.GetRevisions()) != 1 ||
		again.GetRevisions()[0].GetMetadata().GetUid() != hist.GetRevisions()[0].GetMetadata().GetUid() {
		t.Fatalf("after a restart and a re-apply the history is %v, was %v", again.GetRevisions(), hist.GetRevisions())
	}
	if a.epochOrZero("web-0") != e0 || a.epochOrZero("web-1") != e1 {
		t.Fatal("re-apply replaced pods")
	}

	// Unknown container: rejected by name, nothing changes.
	_, err := h.ctl.SetImage(h.ctx(), &ordov1.SetImageRequest{Name: "web", Images: map[string]string{"nope": "x"}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("set image of an unknown container: %v", err)
	}

	resp, err := h.ctl.SetImage(h.ctx(), &ordov1.SetImageRequest{Name: "web", Images: map[string]string{"main": "ordo.local/busybox:v2"}})
	if err != nil {
		t.Fatalf("set image: %v", err)
	}
	if img := resp.GetStatefulSet().GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetImage(); img != "ordo.local/busybox:v2" {
		t.Fatalf("image after set image: %s", img)
	}
	second := controller.Revision(resp.GetStatefulSet())
	if rev := replace(t, h, a, "web-1"); rev != second {
		t.Fatalf("web-1 on %s, want %s", rev, second)
	}
	if rev := replace(t, h, a, "web-0"); rev != second {
		t.Fatalf("web-0 on %s, want %s", rev, second)
	}
	h.settle("update done", func(s *state.Store) bool {
		st := s.StatefulSet("default", "web").GetStatus()
		return st.GetCurrentRevision() == second && st.GetUpdateRevision() == second && st.GetUpdatedReplicas() == 2
	})
	hist = h.history("web")
	if len(hist.GetRevisions()) != 2 || hist.GetRevisions()[1].GetMetadata().GetName() != second || hist.GetRevisions()[1].GetRevision() != 2 {
		t.Fatalf("history after set image: %v", hist.GetRevisions())
	}

	// Undo to the previous revision: the first template comes back as number 3.
	undo, err := h.ctl.RolloutUndo(h.ctx(), &ordov1.RolloutUndoRequest{Name: "web"})
	if err != nil {
		t.Fatalf("undo: %v", err)
	}
	if undo.GetRevision().GetMetadata().GetName() != first || controller.Revision(undo.GetStatefulSet()) != first {
		t.Fatalf("undo went to %v", undo.GetRevision().GetMetadata().GetName())
	}
	replace(t, h, a, "web-1")
	replace(t, h, a, "web-0")
	h.settle("undo done", func(s *state.Store) bool {
		st := s.StatefulSet("default", "web").GetStatus()
		return st.GetCurrentRevision() == first && st.GetUpdatedReplicas() == 2
	})
	hist = h.history("web")
	if len(hist.GetRevisions()) != 2 || hist.GetRevisions()[1].GetMetadata().GetName() != first || hist.GetRevisions()[1].GetRevision() != 3 {
		t.Fatalf("history after undo: %v", hist.GetRevisions())
	}
	if _, err := h.ctl.RolloutUndo(h.ctx(), &ordov1.RolloutUndoRequest{Name: "web", ToRevision: 7}); status.Code(err) != codes.NotFound {
		t.Fatalf("undo to a missing revision: %v", err)
	}

	// Restart sets the template annotation kubectl uses.
	rs, err := h.ctl.RolloutRestart(h.ctx(), &ordov1.RolloutRestartRequest{Name: "web"})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	if rs.GetStatefulSet().GetSpec().GetTemplate().GetMetadata().GetAnnotations()[state.AnnotationRestartedAt] == "" {
		t.Fatal("restart did not annotate the template")
	}
	if rev := replace(t, h, a, "web-1"); rev != controller.Revision(rs.GetStatefulSet()) {
		t.Fatalf("web-1 after restart on %s", rev)
	}

	// Deleting the set removes its history with it.
	if _, err := h.ctl.Delete(h.ctx(), &ordov1.DeleteRequest{Ref: &ordov1.ObjectRef{Kind: "sts", Name: "web"}}); err != nil {
		t.Fatal(err)
	}
	// The agent confirms every pod it is no longer asked to run as gone.
	for _, name := range []string{"web-0", "web-1"} {
		a.waitDesired(name+" stopped", func(names []string) bool { return !contains(names, name) })
		a.gone(name)
	}
	h.settle("web gone", func(s *state.Store) bool { return s.StatefulSet("default", "web") == nil })
	if revs := h.sched.store.Revisions("default", "web"); len(revs) != 0 {
		t.Fatalf("history after the set was deleted: %v", revs)
	}
}

// A pod on the new revision that misses the auto-rollback deadline brings the
// previous template back by itself; rollout status reports the failure.
func TestAutoRollbackRestoresTemplate(t *testing.T) {
	h := startHarness(t, t.TempDir())
	a := newFakeAgent(t, "node-1")
	a.connect(h)
	manifest := strings.Replace(setManifest("web", 1, "OrderedReady"), "  name: web\nspec:\n  serviceName",
		"  name: web\n  annotations:\n    ordo.dev/auto-rollback: \"0.2\"\nspec:\n  serviceName", 1)
	h.apply(manifest)
	agents{a}.waitDesired(t, "web-0")
	a.ready("web-0")
	h.settle("web-0 ready", func(s *state.Store) bool { return s.StatefulSet("default", "web").GetStatus().GetReadyReplicas() == 1 })
	good := controller.Revision(h.getSet("web"))

	if _, err := h.ctl.SetImage(h.ctx(), &ordov1.SetImageRequest{Name: "web", Images: map[string]string{"*": "ordo.local/busybox:v2"}}); err != nil {
		t.Fatalf("set image: %v", err)
	}
	old := a.epochOrZero("web-0")
	a.waitDesired("web-0 stopped", func(names []string) bool { return !contains(names, "web-0") })
	a.reportEpoch("web-0", old, ordov1.PodPhase_POD_PHASE_GONE, false)
	a.waitDesired("web-0 back", func(names []string) bool { return contains(names, "web-0") })
	a.report("web-0", running, false) // never Ready

	stream, err := h.ctl.RolloutStatus(h.ctx(), &ordov1.RolloutStatusRequest{Name: "web", Watch: true})
	if err != nil {
		t.Fatal(err)
	}
	var last *ordov1.RolloutStatusResponse
	for {
		resp, err := stream.Recv()
		if err != nil {
			if status.Code(err) != codes.FailedPrecondition || last == nil || !last.GetFailed() {
				t.Fatalf("rollout status ended with %v after %v", err, last)
			}
			break
		}
		last = resp
	}
	set := h.getSet("web")
	if controller.Revision(set) != good {
		t.Fatalf("template not rolled back: revision %s, want %s", controller.Revision(set), good)
	}
	var reasons []string
	for _, ev := range h.sched.store.Events(kinds.StatefulSet, "default/web") {
		reasons = append(reasons, ev.GetReason())
	}
	if !contains(reasons, "RolledBack") {
		t.Fatalf("no RolledBack event: %v", reasons)
	}
}
