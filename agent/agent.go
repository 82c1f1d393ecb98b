// Package agent is ordo's node agent: it registers with the scheduler, keeps one
// stream to it, runs the pods the scheduler assigns to the node through
// containerd, and reports their status on every change.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ordoproject/ordo/internal/identity"
	"github.com/ordoproject/ordo/network"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// foundPod is a pod whose containers the agent found in containerd at start-up.
type foundPod struct {
	name, namespace string
	epoch           uint64
	grace           time.Duration
	running         bool
	containers      []ContainerState
}

// groupFound groups managed containers into pods by their labels.
func groupFound(cs []ContainerState) map[string]*foundPod {
	out := map[string]*foundPod{}
	for _, c := range cs {
		name := c.Labels[identity.LabelPod]
		if name == "" {
			continue
		}
		ns := c.Labels[identity.LabelNamespace]
		k := podKey(ns, name)
		f := out[k]
		if f == nil {
			f = &foundPod{name: name, namespace: ns, grace: defaultGrace}
			out[k] = f
		}
		if e, err := strconv.ParseUint(c.Labels[identity.LabelEpoch], 10, 64); err == nil && e > f.epoch {
			f.epoch = e
		}
		if g, err := strconv.Atoi(c.Labels[labelGrace]); err == nil && g > 0 {
			f.grace = time.Duration(g) * time.Second
		}
		f.running = f.running || c.Running
		f.containers = append(f.containers, c)
	}
	return out
}

// Agent runs the pods of one node.
type Agent struct {
	cfg Config
	env *podEnv
	log *slog.Logger

	mu       sync.Mutex
	ctx      context.Context // the pods' context: ends when the agent exits
	workers  map[string]*podWorker
	waiting  map[string]*ordov1.Pod // start once the old incarnation is gone
	found    map[string]*foundPod   // until the first DesiredPods
	latest   map[string]*ordov1.PodStatusReport
	queue    []*ordov1.AgentMessage
	notify   chan struct{}
	onReport func(*ordov1.PodStatusReport) // tests
	nodeNet  NodeNetwork                   // nil: pods get no addresses
	wg       sync.WaitGroup
}

// New returns an agent running pods with rt and net and their volumes with
// cfg.Volumes. cfg must have defaults applied.
func New(ctx context.Context, cfg Config, rt Runtime, net PodNetwork) *Agent {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger.With("node", cfg.NodeName)
	a := &Agent{
		cfg:     cfg,
		log:     log,
		ctx:     ctx,
		workers: map[string]*podWorker{},
		waiting: map[string]*ordov1.Pod{},
		found:   map[string]*foundPod{},
		latest:  map[string]*ordov1.PodStatusReport{},
		notify:  make(chan struct{}, 1),
	}
	a.env = &podEnv{rt: rt, net: net, stateDir: cfg.StateDir, nodeName: cfg.NodeName, log: log, report: a.report,
		vols: cfg.Volumes, config: newConfigStore(), resources: detectNodeResources(cfg.StateDir)}
	if len(cfg.Addresses) > 0 {
		a.env.nodeIP = cfg.Addresses[0]
	}
	return a
}

// Scan finds the pods whose containers already exist (from before a restart).
// Running ones are announced in Hello; all wait for the first DesiredPods,
// which decides whether they are adopted or stopped.
func (a *Agent) Scan(ctx context.Context) error {
	cs, err := a.env.rt.List(ctx)
	if err != nil {
		return err
	}
	found := groupFound(cs)
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, f := range found {
		a.found[k] = f
		if f.running {
			a.latest[k] = &ordov1.PodStatusReport{Name: f.name, Namespace: f.namespace, Epoch: f.epoch,
				Status: &ordov1.PodStatus{Phase: ordov1.PodPhase_POD_PHASE_RUNNING, ObservedTime: timestamppb.Now()}}
		}
		a.log.Info("found pod", "pod", f.name, "namespace", f.namespace, "epoch", f.epoch, "running", f.running)
	}
	return nil
}

// ApplyDesired makes the node run exactly pods (the scheduler's complete list).
func (a *Agent) ApplyDesired(pods []*ordov1.Pod) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ctx.Err() != nil {
		return
	}
	running := make(map[string]runningPod, len(a.workers)+len(a.found))
	for k, w := range a.workers {
		running[k] = runningPod{Epoch: w.epoch, Stopping: w.stopping.Load()}
	}
	for k, f := range a.found {
		running[k] = runningPod{Epoch: f.epoch}
	}
	plan := diffPods(pods, running)
	for _, k := range plan.Stop {
		if w := a.workers[k]; w != nil {
			a.log.Info("stopping pod", "pod", w.name, "namespace", w.namespace, "epoch", w.epoch)
			w.stop()
		} else if f := a.found[k]; f != nil {
			a.log.Info("stopping found pod", "pod", f.name, "namespace", f.namespace, "epoch", f.epoch)
			w := newStopWorker(a.env, f)
			w.stop()
			a.startWorker(k, w)
		}
	}
	for _, p := range plan.Adopt {
		k := podKeyOf(p)
		if f := a.found[k]; f != nil && a.workers[k] == nil {
			a.log.Info("adopting pod", "pod", f.name, "namespace", f.namespace, "epoch", f.epoch)
			a.startWorker(k, newPodWorker(a.env, p, f.containers))
		}
	}
	for _, p := range plan.Start {
		a.startWorker(podKeyOf(p), newPodWorker(a.env, p, nil))
	}
	want := map[string]bool{}
	for _, p := range plan.Wait {
		want[podKeyOf(p)] = true
		a.waiting[podKeyOf(p)] = p
	}
	for k := range a.waiting {
		if !want[k] {
			delete(a.waiting, k)
		}
	}
	clear(a.found)
}

func (a *Agent) startWorker(k string, w *podWorker) {
	a.workers[k] = w
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		w.run(a.ctx)
		a.workerDone(k, w)
	}()
}

func (a *Agent) workerDone(k string, w *podWorker) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ctx.Err() != nil {
		return
	}
	if a.workers[k] == w {
		delete(a.workers, k)
	}
	if p := a.waiting[k]; p != nil && a.workers[k] == nil {
		delete(a.waiting, k)
		a.startWorker(k, newPodWorker(a.env, p, nil))
	}
}

// Wait waits for the pod workers to return (after the agent's context ended).
func (a *Agent) Wait() { a.wg.Wait() }

// report queues a status report for the scheduler.
func (a *Agent) report(r *ordov1.PodStatusReport) {
	a.mu.Lock()
	k := podKey(r.GetNamespace(), r.GetName())
	if r.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_GONE {
		if cur := a.latest[k]; cur == nil || cur.GetEpoch() == r.GetEpoch() {
			delete(a.latest, k)
		}
	} else {
		a.latest[k] = r
	}
	a.queue = append(a.queue, &ordov1.AgentMessage{Msg: &ordov1.AgentMessage_Status{Status: r}})
	if len(a.queue) > 4096 {
		a.queue = keepGone(a.queue)
	}
	hook := a.onReport
	a.mu.Unlock()
	select {
	case a.notify <- struct{}{}:
	default:
	}
	if hook != nil {
		hook(r)
	}
}

// keepGone keeps only the GONE reports of a queue: the others are superseded by
// the state a new Hello carries.
func keepGone(q []*ordov1.AgentMessage) []*ordov1.AgentMessage {
	var out []*ordov1.AgentMessage
	for _, m := range q {
		if m.GetStatus().GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_GONE {
			out = append(out, m)
		}
	}
	return out
}

// hello is the first message of a stream: every pod the agent has, as it is now.
// Queued reports other than GONE are dropped since Hello supersedes them.
func (a *Agent) hello(session string) *ordov1.AgentMessage {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := &ordov1.Hello{NodeName: a.cfg.NodeName, Session: session}
	keys := make([]string, 0, len(a.latest))
	for k := range a.latest {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h.Running = append(h.Running, a.latest[k])
	}
	a.queue = keepGone(a.queue)
	return &ordov1.AgentMessage{Msg: &ordov1.AgentMessage_Hello{Hello: h}}
}

func (a *Agent) takeQueue() []*ordov1.AgentMessage {
	a.mu.Lock()
	defer a.mu.Unlock()
	q := a.queue
	a.queue = nil
	return q
}

func (a *Agent) requeue(msgs []*ordov1.AgentMessage) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.queue = append(msgs, a.queue...)
}

func (a *Agent) runningPods() int32 {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := int32(0)
	for _, r := range a.latest {
		if r.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_RUNNING {
			n++
		}
	}
	return n
}

// session registers, connects, sends Hello and then serves the stream until it
// fails. connected tells whether the stream got as far as a message from the scheduler.
func (a *Agent) session(ctx context.Context, client ordov1.NodeClient) (connected bool, err error) {
	resp, err := client.Register(ctx, &ordov1.RegisterRequest{
		NodeName:     a.cfg.NodeName,
		Labels:       a.cfg.Labels,
		Addresses:    a.cfg.Addresses,
		Capacity:     nodeCapacity(a.cfg.MaxPods, a.cfg.ReservedCPUMillis, a.cfg.ReservedMemoryBytes),
		AgentVersion: Version,
	})
	if err != nil {
		return false, fmt.Errorf("register: %w", err)
	}
	a.configureNetwork(ctx, resp.GetNetwork())
	hb := time.Duration(resp.GetHeartbeatIntervalMs()) * time.Millisecond
	if hb <= 0 {
		hb = time.Second
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.Connect(sctx)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	if err := stream.Send(a.hello(resp.GetSession())); err != nil {
		return false, fmt.Errorf("send hello: %w", err)
	}
	a.log.Info("connected to scheduler", "session", resp.GetSession(), "heartbeat", hb)
	errc := make(chan error, 1)
	removed := make(chan *ordov1.NodeRemoved, 1)
	gotMsg := make(chan struct{})
	go func() {
		first := true
		for {
			msg, err := stream.Recv()
			if err != nil {
				errc <- err
				return
			}
			if first {
				close(gotMsg)
				first = false
			}
			if d := msg.GetDesired(); d != nil {
				a.log.Debug("desired pods", "version", d.GetVersion(), "pods", len(d.GetPods()))
				a.ApplyDesiredPods(d)
			}
			if nc := msg.GetNetwork(); nc != nil {
				a.configureNetwork(sctx, nc)
			}
			if d := msg.GetDns(); d != nil {
				a.setRecords(d)
			}
			if vc := msg.GetVolumeCleanup(); vc != nil {
				go a.cleanupVolume(vc)
			}
			if rm := msg.GetNodeRemoved(); rm != nil {
				removed <- rm
				return
			}
		}
	}()
	ticker := time.NewTicker(hb)
	defer ticker.Stop()
	for {
		msgs := a.takeQueue()
		for i, m := range msgs {
			if err := stream.Send(m); err != nil {
				a.requeue(msgs[i:])
				return isClosed(gotMsg), fmt.Errorf("send: %w", err)
			}
		}
		select {
		case <-ctx.Done():
			return isClosed(gotMsg), ctx.Err()
		case err := <-errc:
			return isClosed(gotMsg), fmt.Errorf("stream: %w", err)
		case rm := <-removed:
			return true, fmt.Errorf("%w: %s", ErrNodeRemoved, rm.GetReason())
		case <-a.notify:
		case <-ticker.C:
			m := &ordov1.AgentMessage{Msg: &ordov1.AgentMessage_Heartbeat{Heartbeat: &ordov1.Heartbeat{
				Time: timestamppb.Now(), RunningPods: a.runningPods()}}}
			if err := stream.Send(m); err != nil {
				return isClosed(gotMsg), fmt.Errorf("send heartbeat: %w", err)
			}
		}
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// ErrNodeRemoved is returned by Serve when the scheduler removed the node
// from the cluster (ordo delete node).
var ErrNodeRemoved = errors.New("node removed from the cluster")

// Serve keeps a session with the scheduler open, reconnecting with back-off
// (100 ms doubling to 5 s), until ctx ends or the node is removed from the
// cluster (an error wrapping ErrNodeRemoved).
func (a *Agent) Serve(ctx context.Context, client ordov1.NodeClient) error {
	attempt := 0
	for {
		connected, err := a.session(ctx, client)
		if errors.Is(err, ErrNodeRemoved) {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		if connected {
			attempt = 0
		}
		attempt++
		d := backoff(attempt, 100*time.Millisecond, 5*time.Second)
		a.log.Warn("scheduler session ended, reconnecting", "err", err, "in", d)
		if !sleep(ctx, d) {
			return nil
		}
	}
}

// Run runs the agent until ctx ends. Pods keep running after it returns: a new
// agent adopts them.
func Run(ctx context.Context, cfg Config) error {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return err
	}
	if cfg.Volumes == nil {
		return errors.New("no volume manager (Config.Volumes)")
	}
	log := cfg.Logger.With("node", cfg.NodeName)
	if err := os.MkdirAll(cfg.StateDir, 0o755); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	cc, err := containerd.New(cfg.ContainerdAddress, containerd.WithDefaultNamespace(cfg.Namespace))
	if err != nil {
		return fmt.Errorf("connect to containerd at %s: %w", cfg.ContainerdAddress, err)
	}
	defer cc.Close()
	if _, err := ImportImages(ctx, cc, cfg.ImportImages, log); err != nil {
		return err
	}
	rt := NewContainerdRuntime(cc, cfg.Namespace, cfg.Snapshotter, cfg.CgroupParent)
	netns := &network.NetNS{Dir: filepath.Join(cfg.StateDir, "netns")}
	nodeNet := newNodeNet(netns, filepath.Join(cfg.StateDir, "network"), cfg.DNSUpstreams, log)
	defer nodeNet.Close()

	conn, err := grpc.NewClient(cfg.Scheduler, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("scheduler address %s: %w", cfg.Scheduler, err)
	}
	defer conn.Close()

	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a := New(pctx, cfg, rt, nodeNet)
	a.SetNodeNetwork(nodeNet)
	for attempt := 1; ; attempt++ {
		err := a.Scan(ctx)
		if err == nil {
			break
		}
		log.Warn("listing containers failed", "err", err)
		if !sleep(ctx, backoff(attempt, 100*time.Millisecond, 5*time.Second)) {
			return nil
		}
	}
	log.Info("agent started", "scheduler", cfg.Scheduler, "containerd", cfg.ContainerdAddress, "namespace", cfg.Namespace)
	err = a.Serve(ctx, ordov1.NewNodeClient(conn))
	cancel()
	a.Wait()
	if errors.Is(err, ErrNodeRemoved) {
		// A node has no pods when it is removed: what is left is the pod
		// network, which goes with it. Started again (a service manager's
		// restart), the agent registers as a new node.
		log.Info("node removed from the cluster; removing its pod network and DNS server", "reason", err.Error())
		if rerr := nodeNet.Remove(context.WithoutCancel(ctx)); rerr != nil {
			log.Error("remove pod network", "err", rerr)
		} else {
			log.Info("pod network removed")
		}
		log.Info("agent stopped: node left the cluster")
		return nil
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	log.Info("agent stopped; pods keep running")
	return err
}
