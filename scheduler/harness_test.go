package scheduler

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/state"
)

// waitLimit bounds every wait in these tests; reaching it is a failure, not a measurement.
const waitLimit = 20 * time.Second

// harness runs a real scheduler (bbolt file, gRPC on a unix socket) in a temp dir.
type harness struct {
	t      testing.TB
	dir    string
	sock   string
	tune   func(*Config)
	sched  *Scheduler
	cancel context.CancelFunc
	done   chan error
	conn   *grpc.ClientConn
	ctl    ordov1.ControlClient
	node   ordov1.NodeClient
}

func testLogger() *slog.Logger {
	if os.Getenv("ORDO_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func startHarness(t testing.TB, dir string) *harness { return startHarnessWith(t, dir, nil) }

// startHarnessWith lets tune change the configuration before the start.
func startHarnessWith(t testing.TB, dir string, tune func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, dir: dir, sock: filepath.Join(t.TempDir(), "ordo.sock"), tune: tune}
	h.start()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) start() {
	h.t.Helper()
	cfg := Config{
		Listen:            []string{"unix://" + h.sock},
		DataDir:           h.dir,
		HeartbeatInterval: time.Second,
		LeaseDuration:     time.Minute,
		Logger:            testLogger(),
	}
	if h.tune != nil {
		h.tune(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		h.t.Fatalf("start scheduler: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.sched, h.cancel, h.done = s, cancel, make(chan error, 1)
	go func() { h.done <- s.Serve(ctx) }()
	conn, err := grpc.NewClient("unix://"+h.sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		h.t.Fatal(err)
	}
	h.conn, h.ctl, h.node = conn, ordov1.NewControlClient(conn), ordov1.NewNodeClient(conn)
}

// stop shuts the scheduler down the way SIGTERM does.
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	h.conn.Close()
	if err := <-h.done; err != nil {
		h.t.Errorf("scheduler stopped with %v", err)
	}
}

func (h *harness) restart() {
	h.t.Helper()
	h.stop()
	h.start()
}

func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	h.t.Cleanup(cancel)
	return ctx
}

func (h *harness) apply(manifest string) *ordov1.ApplyResponse {
	h.t.Helper()
	resp, err := h.ctl.Apply(h.ctx(), &ordov1.ApplyRequest{Manifest: []byte(manifest)})
	if err != nil {
		h.t.Fatalf("apply: %v", err)
	}
	return resp
}

// settle waits until cond holds on the store, then until the controller loop
// has handled everything that change queued.
func (h *harness) settle(what string, cond func(s *state.Store) bool) {
	h.t.Helper()
	st := h.sched.store
	w, _, cancel := st.Watch(nil, "", false)
	defer cancel()
	deadline := time.After(waitLimit)
	for !cond(st) {
		select {
		case <-w.Events():
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s", what)
		}
	}
	h.sched.loop.WaitIdle()
}

// idle waits until the controller has nothing queued.
func (h *harness) idle() { h.sched.loop.WaitIdle() }

func podNames(pods []*ordov1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.GetMetadata().GetName())
	}
	sort.Strings(out)
	return out
}

func (h *harness) storedPods() []string { return podNames(h.sched.store.Pods()) }

func setManifest(name string, replicas int, policy string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[1]s
spec:
  clusterIP: None
  selector:
    app: %[1]s
  ports:
  - port: 80
    name: web
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: %[1]s
spec:
  serviceName: %[1]s
  replicas: %[2]d
  podManagementPolicy: %[3]s
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      containers:
      - name: main
        image: ordo.local/busybox:latest
        command: ["sleep", "3600"]
`, name, replicas, policy)
}

// ---------------------------------------------------------------- fake agent

// fakeAgent is a node agent speaking the real Node protocol over gRPC. It
// "runs" whatever it is told and reports what the test says.
type fakeAgent struct {
	t       testing.TB
	name    string
	maxPods int32

	sendMu sync.Mutex
	stream ordov1.Node_ConnectClient
	cancel context.CancelFunc
	ended  chan error // receives how each stream ended

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every received message
	desired []*ordov1.Pod
	config  *ordov1.DesiredPods // the config data of the latest list
	version uint64
	msgs    int
	seen    map[string]bool   // every pod name ever desired
	running map[string]uint64 // name -> epoch it runs (desired once, not yet reported gone)
	status  map[string]*ordov1.PodStatus
	network *ordov1.NetworkConfig // the latest network configuration
	removed *ordov1.NodeRemoved   // set once the scheduler removed the node
	// onDesired, when set, is called (from the receiving goroutine) with every list.
	onDesired func([]*ordov1.Pod)
}

func newFakeAgent(t testing.TB, name string) *fakeAgent {
	return &fakeAgent{t: t, name: name, maxPods: 50, ended: make(chan error, 8), changed: make(chan struct{}), seen: map[string]bool{},
		running: map[string]uint64{}, status: map[string]*ordov1.PodStatus{}}
}

// connect registers and opens the stream; Hello lists the pods it runs.
func (a *fakeAgent) connect(h *harness) {
	a.t.Helper()
	reg, err := h.node.Register(h.ctx(), &ordov1.RegisterRequest{
		NodeName: a.name, Labels: map[string]string{"zone": "a"}, Addresses: []string{"10.0.0.1"},
		Capacity: &ordov1.NodeCapacity{MaxPods: a.maxPods}, AgentVersion: "test",
	})
	if err != nil {
		a.t.Fatalf("%s: register: %v", a.name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := h.node.Connect(ctx)
	if err != nil {
		cancel()
		a.t.Fatalf("%s: connect: %v", a.name, err)
	}
	a.mu.Lock()
	hello := &ordov1.Hello{NodeName: a.name, Session: reg.GetSession()}
	for name, epoch := range a.running {
		hello.Running = append(hello.Running, &ordov1.PodStatusReport{Name: name, Namespace: "default", Epoch: epoch, Status: a.status[name]})
	}
	a.desired, a.msgs = nil, 0
	a.mu.Unlock()
	if err := stream.Send(&ordov1.AgentMessage{Msg: &ordov1.AgentMessage_Hello{Hello: hello}}); err != nil {
		cancel()
		a.t.Fatalf("%s: hello: %v", a.name, err)
	}
	a.sendMu.Lock()
	a.stream, a.cancel = stream, cancel
	a.sendMu.Unlock()
	a.t.Cleanup(cancel)
	go a.receive(stream)
	a.waitDesired("first desired list", func([]string) bool { return true })
}

func (a *fakeAgent) receive(stream ordov1.Node_ConnectClient) {
	for {
		msg, err := stream.Recv()
		if err != nil {
			select {
			case a.ended <- err:
			default:
			}
			return
		}
		if nc, rm := msg.GetNetwork(), msg.GetNodeRemoved(); nc != nil || rm != nil {
			a.mu.Lock()
			if nc != nil {
				a.network = nc
			}
			if rm != nil {
				a.removed = rm
			}
			close(a.changed)
			a.changed = make(chan struct{})
			a.mu.Unlock()
		}
		d := msg.GetDesired()
		if d == nil {
			continue
		}
		a.mu.Lock()
		if d.GetVersion() <= a.version {
			a.mu.Unlock()
			panic(fmt.Sprintf("%s: desired version %d after %d", a.name, d.GetVersion(), a.version))
		}
		a.version = d.GetVersion()
		a.desired = d.GetPods()
		a.config = &ordov1.DesiredPods{ConfigMaps: d.GetConfigMaps(), Secrets: d.GetSecrets()}
		a.msgs++
		for _, p := range d.GetPods() {
			a.seen[p.GetMetadata().GetName()] = true
			a.running[p.GetMetadata().GetName()] = p.GetEpoch()
		}
		close(a.changed)
		a.changed = make(chan struct{})
		fn := a.onDesired
		a.mu.Unlock()
		if fn != nil {
			fn(d.GetPods())
		}
	}
}

func (a *fakeAgent) heartbeat() error {
	return a.send(&ordov1.AgentMessage{Msg: &ordov1.AgentMessage_Heartbeat{Heartbeat: &ordov1.Heartbeat{}}})
}

func (a *fakeAgent) disconnect() {
	a.sendMu.Lock()
	defer a.sendMu.Unlock()
	if a.cancel != nil {
		a.cancel()
	}
}

// names is the current desired list.
func (a *fakeAgent) names() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return podNames(a.desired)
}

func (a *fakeAgent) epoch(name string) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range a.desired {
		if p.GetMetadata().GetName() == name {
			return p.GetEpoch()
		}
	}
	a.t.Fatalf("%s: %s is not desired (have %v)", a.name, name, podNames(a.desired))
	return 0
}

func (a *fakeAgent) everSeen(name string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen[name]
}

func (a *fakeAgent) waitDesired(what string, cond func(names []string) bool) {
	a.t.Helper()
	deadline := time.After(waitLimit)
	for {
		a.mu.Lock()
		ok := a.msgs > 0 && cond(podNames(a.desired))
		ch, names := a.changed, podNames(a.desired)
		a.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			a.t.Fatalf("%s: timed out waiting for %s; desired %v", a.name, what, names)
		}
	}
}

// waitState waits until cond holds on what the agent was sent.
func (a *fakeAgent) waitState(what string, cond func(a *fakeAgent) bool) {
	a.t.Helper()
	deadline := time.After(waitLimit)
	for {
		a.mu.Lock()
		ok, ch := cond(a), a.changed
		a.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			a.t.Fatalf("%s: timed out waiting for %s", a.name, what)
		}
	}
}

func (a *fakeAgent) send(m *ordov1.AgentMessage) error {
	a.sendMu.Lock()
	defer a.sendMu.Unlock()
	return a.stream.Send(m)
}

// reportEpoch sends a status report for name with the given epoch.
func (a *fakeAgent) reportEpoch(name string, epoch uint64, phase ordov1.PodPhase, ready bool) {
	a.t.Helper()
	st := &ordov1.PodStatus{Phase: phase, Ready: ready}
	a.mu.Lock()
	if a.running[name] == epoch {
		a.status[name] = st
		if phase == ordov1.PodPhase_POD_PHASE_GONE {
			delete(a.running, name)
			delete(a.status, name)
		}
	}
	a.mu.Unlock()
	err := a.send(&ordov1.AgentMessage{Msg: &ordov1.AgentMessage_Status{Status: &ordov1.PodStatusReport{
		Name: name, Namespace: "default", Epoch: epoch, Status: st,
	}}})
	if err != nil {
		a.t.Fatalf("%s: report %s: %v", a.name, name, err)
	}
}

// report sends a status for the epoch the agent runs of name.
func (a *fakeAgent) report(name string, phase ordov1.PodPhase, ready bool) {
	a.t.Helper()
	a.mu.Lock()
	epoch, ok := a.running[name]
	a.mu.Unlock()
	if !ok {
		a.t.Fatalf("%s: does not run %s", a.name, name)
	}
	a.reportEpoch(name, epoch, phase, ready)
}

func (a *fakeAgent) ready(name string) { a.report(name, ordov1.PodPhase_POD_PHASE_RUNNING, true) }
func (a *fakeAgent) gone(name string)  { a.report(name, ordov1.PodPhase_POD_PHASE_GONE, false) }

// agents is a set of fake agents seen together.
type agents []*fakeAgent

func (as agents) desiredNames() []string {
	var out []string
	for _, a := range as {
		out = append(out, a.names()...)
	}
	sort.Strings(out)
	return out
}

func (as agents) owner(t testing.TB, pod string) *fakeAgent {
	t.Helper()
	for _, a := range as {
		if slices.Contains(a.names(), pod) {
			return a
		}
	}
	t.Fatalf("no agent is asked to run %s (desired: %v)", pod, as.desiredNames())
	return nil
}

func (as agents) everSeen(pod string) bool {
	for _, a := range as {
		if a.everSeen(pod) {
			return true
		}
	}
	return false
}

// waitDesired waits until the union of desired lists is exactly want.
func (as agents) waitDesired(t testing.TB, want ...string) {
	t.Helper()
	sort.Strings(want)
	as.wait(t, fmt.Sprintf("desired pods %v", want), func() bool { return slices.Equal(as.desiredNames(), want) })
}

// waitOwner waits until some agent is asked to run pod and returns it.
func (as agents) waitOwner(t testing.TB, pod string) *fakeAgent {
	t.Helper()
	as.wait(t, pod+" to be desired", func() bool { return slices.Contains(as.desiredNames(), pod) })
	return as.owner(t, pod)
}

// wait waits until cond holds, re-checking whenever an agent receives a list.
func (as agents) wait(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		var chans []chan struct{}
		for _, a := range as {
			a.mu.Lock()
			chans = append(chans, a.changed)
			a.mu.Unlock()
		}
		if cond() {
			return
		}
		merged := make(chan struct{})
		stop := make(chan struct{})
		for _, ch := range chans {
			go func(ch chan struct{}) {
				select {
				case <-ch:
					select {
					case merged <- struct{}{}:
					case <-stop:
					}
				case <-stop:
				}
			}(ch)
		}
		select {
		case <-merged:
			close(stop)
		case <-deadline:
			close(stop)
			t.Fatalf("timed out waiting for %s; desired %v", what, as.desiredNames())
		}
	}
}

func joined(s []string) string { return strings.Join(s, ",") }

func testSet(name string, replicas int32) *ordov1.StatefulSet {
	return &ordov1.StatefulSet{
		Metadata: &ordov1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": name}},
		Spec: &ordov1.StatefulSetSpec{
			Replicas:    replicas,
			ServiceName: name,
			Selector:    &ordov1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: &ordov1.PodTemplate{
				Metadata: &ordov1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:     &ordov1.PodSpec{Containers: []*ordov1.Container{{Name: "c", Image: "ordo.local/busybox:latest"}}},
			},
		},
	}
}
