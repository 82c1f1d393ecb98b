package scheduler

import (
	"net"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/state"
)

func TestLeaseExpiryMakesPodsUnknownWithoutMovingThem(t *testing.T) {
	h := startHarnessWith(t, t.TempDir(), func(c *Config) {
		c.HeartbeatInterval = 20 * time.Millisecond
		c.LeaseDuration = 200 * time.Millisecond
	})
	a := newFakeAgent(t, "node-1")
	a.connect(h)
	as := agents{a}
	h.apply(setManifest("web", 2, "OrderedReady"))
	as.waitDesired(t, "web-0")
	a.ready("web-0")
	as.waitDesired(t, "web-0", "web-1")
	epoch := a.epoch("web-0")

	// The fake agent sends no heartbeats: its lease runs out.
	h.settle("lease expiry", func(s *state.Store) bool {
		p := s.Pod("default", "web-0")
		return p.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_UNKNOWN && !s.Node("node-1").GetReady()
	})
	p := h.getPod("web-0").GetPod()
	if p.GetStatus().GetReady() || p.GetEpoch() != epoch || p.GetNodeName() != "node-1" {
		t.Fatalf("after lease expiry web-0 is %v", p)
	}
	if got := h.storedPods(); len(got) != 2 {
		t.Fatalf("pods replaced after lease expiry: %v", got)
	}

	// A heartbeat makes the node Ready again; the agent then reports its pods.
	if err := a.heartbeat(); err != nil {
		t.Fatal(err)
	}
	h.settle("node ready again", func(s *state.Store) bool { return s.Node("node-1").GetReady() })
	a.ready("web-0")
	h.settle("web-0 ready again", func(s *state.Store) bool { return s.Pod("default", "web-0").GetStatus().GetReady() })
}

func TestNewConnectionReplacesTheOldOne(t *testing.T) {
	h := startHarness(t, t.TempDir())
	first := newFakeAgent(t, "node-1")
	first.connect(h)
	second := newFakeAgent(t, "node-1")
	second.connect(h)
	select {
	case err := <-first.ended:
		if status.Code(err) != codes.Aborted {
			t.Fatalf("old stream ended with %v, want Aborted", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("old stream still open after a new connection from the same node")
	}
	h.apply(setManifest("web", 1, "OrderedReady"))
	agents{second}.waitDesired(t, "web-0")
	if !h.sched.store.Node("node-1").GetReady() {
		t.Fatal("node not Ready after its old stream was replaced")
	}

	// A stream with an unknown session is refused.
	stream, err := h.node.Connect(h.ctx())
	if err != nil {
		t.Fatal(err)
	}
	stream.Send(&ordov1.AgentMessage{Msg: &ordov1.AgentMessage_Hello{Hello: &ordov1.Hello{NodeName: "node-1", Session: "forged"}}})
	if _, err := stream.Recv(); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("connect with a forged session: %v", err)
	}
}

func TestRegisterLabelsAndNodeList(t *testing.T) {
	h := startHarness(t, t.TempDir())
	newFakeAgent(t, "node-1").connect(h)
	if _, err := h.node.Register(h.ctx(), &ordov1.RegisterRequest{}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("register without a name: %v", err)
	}
	list, err := h.ctl.List(h.ctx(), &ordov1.ListRequest{Kind: "nodes"})
	if err != nil || len(list.GetNodes()) != 1 {
		t.Fatalf("list nodes: %v %v", list, err)
	}
	n := list.GetNodes()[0]
	if n.GetMetadata().GetLabels()["kubernetes.io/hostname"] != "node-1" || n.GetMetadata().GetLabels()["zone"] != "a" ||
		!n.GetReady() || n.GetLastHeartbeat() == nil || n.GetCapacity().GetMaxPods() != 50 {
		t.Fatalf("node: %v", n)
	}
	get, err := h.ctl.Get(h.ctx(), &ordov1.GetRequest{Ref: &ordov1.ObjectRef{Kind: "no", Name: "node-1"}})
	if err != nil || len(get.GetEvents()) == 0 {
		t.Fatalf("get node: %v %v", get, err)
	}
}

func TestListeners(t *testing.T) {
	// A stale socket file is replaced; the socket is group-accessible.
	path := t.TempDir() + "/run/ordo.sock"
	l, err := listen("unix://" + path)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	l, err = listen("unix://" + path)
	if err != nil {
		t.Fatalf("listen over a stale socket: %v", err)
	}
	defer l.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket mode: %v %v", fi.Mode(), err)
	}
}
