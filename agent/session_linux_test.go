package agent

import (
	"context"
	"net"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// scriptedScheduler is a Node service that hands each stream to the test.
type scriptedScheduler struct {
	ordov1.UnimplementedNodeServer
	registered chan *ordov1.RegisterRequest
	streams    chan ordov1.Node_ConnectServer
}

func (s *scriptedScheduler) Register(_ context.Context, r *ordov1.RegisterRequest) (*ordov1.RegisterResponse, error) {
	s.registered <- r
	return &ordov1.RegisterResponse{NodeName: r.GetNodeName(), Session: "s-" + r.GetNodeName(), HeartbeatIntervalMs: 50, LeaseDurationMs: 1000}, nil
}

func (s *scriptedScheduler) Connect(stream ordov1.Node_ConnectServer) error {
	s.streams <- stream
	<-stream.Context().Done() // the test ends the stream by stopping the server
	return nil
}

// recvStatus reads the stream until a status report satisfies ok, skipping heartbeats.
func recvStatus(t *testing.T, stream ordov1.Node_ConnectServer, ok func(*ordov1.PodStatusReport) bool) {
	t.Helper()
	for {
		m, err := stream.Recv()
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		if st := m.GetStatus(); st != nil && ok(st) {
			return
		}
	}
}

func TestSessionHelloDesiredStatusHeartbeatAndReconnect(t *testing.T) {
	c := sharedContainerd(t)
	ta := newTestAgent(t, c, t.TempDir())
	sock := filepath.Join(t.TempDir(), "ordo.sock")
	sched := &scriptedScheduler{registered: make(chan *ordov1.RegisterRequest, 10), streams: make(chan ordov1.Node_ConnectServer, 10)}
	serve := func() *grpc.Server {
		l, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		srv := grpc.NewServer()
		ordov1.RegisterNodeServer(srv, sched)
		go srv.Serve(l)
		return srv
	}
	srv := serve()
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { ta.Serve(ctx, ordov1.NewNodeClient(conn)); close(served) }()
	defer func() { cancel(); <-served }()

	reg := <-sched.registered
	if reg.GetNodeName() != "node-1" || reg.GetCapacity().GetMaxPods() <= 0 {
		t.Errorf("register = %v", reg)
	}
	stream := <-sched.streams
	m, err := stream.Recv()
	if err != nil || m.GetHello().GetSession() != "s-node-1" {
		t.Fatalf("first message = %v, %v; want Hello with the session", m, err)
	}
	pod := testPod("sess-0", 4, &ordov1.Container{Name: "app", Command: []string{"sleep", "1000"}})
	stream.Send(&ordov1.SchedulerMessage{Msg: &ordov1.SchedulerMessage_Desired{Desired: &ordov1.DesiredPods{Pods: []*ordov1.Pod{pod}, Version: 1}}})
	recvStatus(t, stream, func(r *ordov1.PodStatusReport) bool {
		return r.GetName() == "sess-0" && r.GetEpoch() == 4 && r.GetStatus().GetReady()
	})
	for {
		m, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if hb := m.GetHeartbeat(); hb != nil {
			if hb.GetRunningPods() != 1 {
				t.Errorf("heartbeat running_pods = %d, want 1", hb.GetRunningPods())
			}
			break
		}
	}

	// The scheduler goes away and comes back: the pod keeps running and the new
	// Hello lists it; nothing is stopped before the new desired list.
	srv.Stop()
	srv = serve()
	defer srv.Stop()
	<-sched.registered
	stream = <-sched.streams
	m, err = stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	hello := m.GetHello().GetRunning()
	if len(hello) != 1 || hello[0].GetName() != "sess-0" || hello[0].GetEpoch() != 4 || hello[0].GetStatus().GetPhase() != ordov1.PodPhase_POD_PHASE_RUNNING {
		t.Fatalf("hello after reconnect = %v", hello)
	}
	stream.Send(&ordov1.SchedulerMessage{Msg: &ordov1.SchedulerMessage_Desired{Desired: &ordov1.DesiredPods{Version: 2}}})
	recvStatus(t, stream, func(r *ordov1.PodStatusReport) bool {
		return r.GetName() == "sess-0" && r.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_GONE
	})
}
