package scheduler

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/state"
)

func routesTo(cfg *ordov1.NetworkConfig, node string) bool {
	for _, r := range cfg.GetRoutes() {
		if r.GetNodeName() == node {
			return true
		}
	}
	return false
}

func TestDeleteNode(t *testing.T) {
	h := startHarness(t, t.TempDir())
	a1, a2 := newFakeAgent(t, "node-1"), newFakeAgent(t, "node-2")
	a1.connect(h)
	a2.connect(h)
	a1.waitState("a route to node-2", func(a *fakeAgent) bool { return routesTo(a.network, "node-2") })
	cidr2 := h.sched.store.Node("node-2").GetPodCidr()
	if cidr2 == "" {
		t.Fatal("node-2 has no pod CIDR")
	}

	// A node with pods bound to it stays.
	h.apply(strings.Replace(setManifest("web", 1, "Parallel"), "    spec:\n", "    spec:\n      nodeSelector:\n        kubernetes.io/hostname: node-2\n", 1))
	a2.waitDesired("web-0 on node-2", func(n []string) bool { return joined(n) == "web-0" })
	a2.ready("web-0")
	_, err := h.ctl.Delete(h.ctx(), &ordov1.DeleteRequest{Ref: &ordov1.ObjectRef{Kind: "node", Name: "node-2"}})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "node node-2 still runs web-0") {
		t.Fatalf("delete node-2 with web-0 on it: %v, want FailedPrecondition naming web-0", err)
	}
	a2.mu.Lock()
	removed := a2.removed
	a2.mu.Unlock()
	if h.sched.store.Node("node-2") == nil || removed != nil {
		t.Fatal("a refused delete removed node-2")
	}

	// Once its pods are gone, it leaves.
	if _, err := h.ctl.Scale(h.ctx(), &ordov1.ScaleRequest{Name: "web", Replicas: 0}); err != nil {
		t.Fatal(err)
	}
	a2.waitDesired("nothing on node-2", func(n []string) bool { return len(n) == 0 })
	a2.gone("web-0")
	h.settle("web-0 gone", func(s *state.Store) bool { return len(s.PodsOnNode("node-2")) == 0 })
	if _, err := h.ctl.Delete(h.ctx(), &ordov1.DeleteRequest{Ref: &ordov1.ObjectRef{Kind: "Node", Name: "node-2"}}); err != nil {
		t.Fatalf("delete node-2: %v", err)
	}
	a2.waitState("NodeRemoved", func(a *fakeAgent) bool { return a.removed != nil })
	select {
	case err := <-a2.ended:
		if !errors.Is(err, io.EOF) {
			t.Errorf("node-2's stream ended with %v, want a clean end", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("node-2's stream stayed open")
	}
	a1.waitState("no route to node-2", func(a *fakeAgent) bool { return !routesTo(a.network, "node-2") && a.network.GetPodCidr() != "" })
	if h.sched.store.Node("node-2") != nil {
		t.Error("node-2 is still stored")
	}
	found := false
	for _, ev := range h.sched.store.Events(kinds.Node, "node-2") {
		found = found || ev.GetReason() == "Removed"
	}
	if !found {
		t.Error("no Removed event for node-2")
	}
	// Its pod CIDR is free for the next node.
	resp, err := h.node.Register(h.ctx(), &ordov1.RegisterRequest{NodeName: "node-3", Addresses: []string{"10.0.0.3"}})
	if err != nil || resp.GetNetwork().GetPodCidr() != cidr2 {
		t.Errorf("node-3 got %q (%v), want node-2's freed %s", resp.GetNetwork().GetPodCidr(), err, cidr2)
	}
	// An unknown node cannot be deleted.
	if _, err := h.ctl.Delete(h.ctx(), &ordov1.DeleteRequest{Ref: &ordov1.ObjectRef{Kind: "node", Name: "node-2"}}); status.Code(err) != codes.NotFound {
		t.Errorf("deleting node-2 again: %v, want NotFound", err)
	}
}
