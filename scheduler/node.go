package scheduler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/controller"
)

// defaultMaxPods is a node's capacity when its agent announces none.
const defaultMaxPods = 110

// nodeService is the agents' side of the loop:
//
//	store change → DesiredPods to the pod's node → agent → PodStatusReport → store
//
// Every node has at most one stream; a new Connect replaces the old one. The
// complete desired list of a node is sent whenever it changes (one place:
// the store's commit hook), with an increasing version.
type nodeService struct {
	ordov1.UnimplementedNodeServer

	store     *Store
	log       *slog.Logger
	heartbeat time.Duration
	lease     time.Duration

	version atomic.Uint64
	netw    *clusterNet // pod CIDRs and DNS records

	mu    sync.Mutex
	nodes map[string]*nodeState
	done  bool
}

var _ ordov1.NodeServer = (*nodeService)(nil)

// nodeState is what the scheduler knows of a node beyond its stored NodeInfo.
type nodeState struct {
	name     string
	session  string
	conn     *nodeConn // the current stream, nil when disconnected
	lastSeen time.Time
	timer    *time.Timer
	expired  bool
}

// nodeConn is one Connect stream.
type nodeConn struct {
	node string
	kick chan struct{}
	done chan struct{}
	once sync.Once

	leave       chan struct{} // closed when the node was removed
	leaveOnce   sync.Once
	leaveReason string // set before leave is closed
}

func (c *nodeConn) replace() { c.once.Do(func() { close(c.done) }) }

func (c *nodeConn) poke() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func newNodeService(store *Store, log *slog.Logger, heartbeat, lease time.Duration) *nodeService {
	n := &nodeService{
		store:     store,
		log:       log,
		heartbeat: heartbeat,
		lease:     lease,
		nodes:     map[string]*nodeState{},
	}
	n.version.Store(uint64(time.Now().UnixNano()))
	n.netw = newClusterNet(store, log)
	n.netw.wake = n.pokeAll
	store.OnCommit(n.onCommit)
	return n
}

// start marks every known node NotReady until its agent connects again and
// starts its lease from now: pods keep their phase until that runs out.
func (n *nodeService) start() error {
	now := time.Now()
	n.mu.Lock()
	for _, node := range n.store.Nodes() {
		st := n.state(node.GetMetadata().GetName())
		st.lastSeen = now
		n.armLocked(st)
	}
	n.mu.Unlock()
	return n.store.Update(func(tx *Tx) error {
		for _, node := range n.store.Nodes() {
			if node.GetReady() {
				if err := setNodeReady(tx, node.GetMetadata().GetName(), false, "scheduler restarted; waiting for the agent to connect"); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func (n *nodeService) stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.done = true
	for _, st := range n.nodes {
		if st.timer != nil {
			st.timer.Stop()
		}
		if st.conn != nil {
			st.conn.replace()
		}
	}
}

// state returns the node's state, creating it. n.mu must be held.
func (n *nodeService) state(name string) *nodeState {
	st := n.nodes[name]
	if st == nil {
		st = &nodeState{name: name}
		n.nodes[name] = st
	}
	return st
}

// lastHeartbeat is when the node was last heard from (zero if never since start).
func (n *nodeService) lastHeartbeat(name string) time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	if st := n.nodes[name]; st != nil {
		return st.lastSeen
	}
	return time.Time{}
}

// ---------------------------------------------------------------- Register

func (n *nodeService) Register(ctx context.Context, req *ordov1.RegisterRequest) (*ordov1.RegisterResponse, error) {
	resp, err := n.register(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

func (n *nodeService) register(_ context.Context, req *ordov1.RegisterRequest) (*ordov1.RegisterResponse, error) {
	name := req.GetNodeName()
	if name == "" {
		return nil, errdefs.Invalid("node_name", "must not be empty")
	}
	labels := map[string]string{}
	for k, v := range req.GetLabels() {
		labels[k] = v
	}
	labels[controller.LabelHostname] = name
	capacity := proto.Clone(req.GetCapacity()).(*ordov1.NodeCapacity)
	if capacity == nil {
		capacity = &ordov1.NodeCapacity{}
	}
	if capacity.MaxPods <= 0 {
		capacity.MaxPods = defaultMaxPods
	}
	err := n.store.Update(func(tx *Tx) error {
		cur := tx.Node(name)
		node := &ordov1.NodeInfo{}
		if cur != nil {
			node = proto.Clone(cur).(*ordov1.NodeInfo)
		}
		if node.Metadata == nil {
			node.Metadata = &ordov1.ObjectMeta{}
		}
		node.Metadata.Name = name
		node.Metadata.Labels = labels
		node.Addresses = req.GetAddresses()
		node.Capacity = capacity
		node.AgentVersion = req.GetAgentVersion()
		node.LastHeartbeat = nil
		node.Pods = 0
		if err := n.netw.assignPodCIDR(node); err != nil {
			return err
		}
		if cur != nil && proto.Equal(cur, node) {
			return nil
		}
		if _, err := tx.PutNode(node); err != nil {
			return err
		}
		if cur == nil {
			return tx.Record(KindNode, "", name, "Registered", "Node %s registered (agent %s)", name, req.GetAgentVersion())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	session := newUID()
	n.mu.Lock()
	st := n.state(name)
	st.session = session
	n.mu.Unlock()
	n.log.Info("node registered", "node", name, "addresses", req.GetAddresses(), "agent_version", req.GetAgentVersion())
	return &ordov1.RegisterResponse{
		NodeName:            name,
		Session:             session,
		HeartbeatIntervalMs: n.heartbeat.Milliseconds(),
		LeaseDurationMs:     n.lease.Milliseconds(),
		Network:             n.netw.config(name),
	}, nil
}

// ---------------------------------------------------------------- Connect

func (n *nodeService) Connect(stream ordov1.Node_ConnectServer) error {
	return errdefs.ToGRPC(n.connect(stream))
}

func (n *nodeService) connect(stream ordov1.Node_ConnectServer) error {
	ctx := stream.Context()
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	hello := first.GetHello()
	if hello == nil {
		return errdefs.Invalid("hello", "the first message on the stream must be Hello")
	}
	name := hello.GetNodeName()
	conn := &nodeConn{node: name, kick: make(chan struct{}, 1), done: make(chan struct{}), leave: make(chan struct{})}

	n.mu.Lock()
	st := n.nodes[name]
	if n.done {
		n.mu.Unlock()
		return fmt.Errorf("scheduler is stopping: %w", errdefs.ErrUnavailable)
	}
	if st == nil || st.session == "" || st.session != hello.GetSession() {
		n.mu.Unlock()
		return status.Errorf(codes.FailedPrecondition, "node %q: unknown session; register again", name)
	}
	if old := st.conn; old != nil {
		old.replace()
	}
	st.conn = conn
	st.lastSeen = time.Now()
	st.expired = false
	n.armLocked(st)
	n.mu.Unlock()

	log := n.log.With("node", name)
	log.Info("agent connected", "running", len(hello.GetRunning()))
	defer func() {
		n.mu.Lock()
		current := st.conn == conn
		if current {
			st.conn = nil
		}
		n.mu.Unlock()
		if current {
			log.Info("agent disconnected")
			if err := n.store.Update(func(tx *Tx) error {
				return setNodeReady(tx, name, false, "agent stream closed")
			}); err != nil {
				log.Error("mark node not ready", "err", err)
			}
		}
	}()

	if err := n.store.Update(func(tx *Tx) error { return n.hello(tx, log, name, hello) }); err != nil {
		return err
	}

	sendErr := make(chan error, 1)
	go func() { sendErr <- n.sender(ctx, stream, conn) }()
	recvErr := make(chan error, 1)
	go func() { recvErr <- n.receive(stream, log, st, conn) }()

	select {
	case err := <-recvErr:
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	case err := <-sendErr:
		if errors.Is(err, errNodeRemoved) {
			log.Info("node removed; stream closed")
			return nil
		}
		return err
	case <-conn.done:
		return status.Errorf(codes.Aborted, "node %q: replaced by a newer connection", name)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// hello reconciles what the agent found running with the store: statuses of
// the pods it runs are merged, and pods being deleted that it no longer runs
// are gone.
func (n *nodeService) hello(tx *Tx, log *slog.Logger, node string, h *ordov1.Hello) error {
	running := map[string]uint64{}
	for _, r := range h.GetRunning() {
		running[Key(nsOr(r.GetNamespace()), r.GetName())] = r.GetEpoch()
		if err := mergeReport(tx, log, node, r); err != nil {
			return err
		}
	}
	for _, p := range n.store.PodsOnNode(node) {
		key := Key(p.GetMetadata().GetNamespace(), p.GetMetadata().GetName())
		cur := tx.Pod(p.GetMetadata().GetNamespace(), p.GetMetadata().GetName())
		if cur == nil || cur.GetMetadata().GetDeletionTime() == nil {
			continue
		}
		if e, ok := running[key]; ok && e == cur.GetEpoch() {
			continue
		}
		if err := removeGonePod(tx, log, cur, "not running on "+node+" after the agent reconnected"); err != nil {
			return err
		}
	}
	return setNodeReady(tx, node, true, "agent connected")
}

// sender pushes the node's desired list whenever it changes, starting with one
// right away.
func (n *nodeService) sender(ctx context.Context, stream ordov1.Node_ConnectServer, conn *nodeConn) error {
	var last []*ordov1.Pod
	var sent netSender
	first := true
	cleaned := map[string]bool{}
	for {
		pods := n.desired(conn.node)
		if first || !equalPodLists(last, pods) {
			msg := &ordov1.SchedulerMessage{Msg: &ordov1.SchedulerMessage_Desired{Desired: &ordov1.DesiredPods{
				Pods:    pods,
				Version: n.version.Add(1),
			}}}
			if err := stream.Send(msg); err != nil {
				return err
			}
			last, first = pods, false
		}
		for _, msg := range sent.next(n.netw, conn.node) {
			if err := stream.Send(msg); err != nil {
				return err
			}
		}
		if err := n.sendCleanups(stream, conn.node, cleaned); err != nil {
			return err
		}
		select {
		case <-conn.kick:
		case <-conn.leave:
			return sendRemoved(stream, conn)
		case <-conn.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// desired is the complete list of pods that must run on node: bound there and
// not being deleted. Status is left out; it is the agent's to report.
func (n *nodeService) desired(node string) []*ordov1.Pod {
	var out []*ordov1.Pod
	for _, p := range n.store.PodsOnNode(node) {
		if p.GetMetadata().GetDeletionTime() != nil {
			continue
		}
		out = append(out, desiredView(p))
	}
	return out
}

func desiredView(p *ordov1.Pod) *ordov1.Pod {
	return &ordov1.Pod{
		Metadata:      p.Metadata,
		Spec:          p.Spec,
		NodeName:      p.NodeName,
		SetName:       p.SetName,
		Ordinal:       p.Ordinal,
		Revision:      p.Revision,
		Epoch:         p.Epoch,
		ScheduledTime: p.ScheduledTime,

		ResolvedVolumes: p.ResolvedVolumes,
	}
}

func equalPodLists(a, b []*ordov1.Pod) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Metadata == b[i].Metadata && a[i].Spec == b[i].Spec && a[i].Epoch == b[i].Epoch && a[i].NodeName == b[i].NodeName {
			continue
		}
		if !proto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// onCommit wakes the senders of the nodes whose desired list may have changed.
func (n *nodeService) onCommit(changes []Change) {
	var kick []string
	for _, c := range changes {
		if c.Kind == KindPersistentVolume {
			kick = append(kick, cleanupNode(c.New))
			continue
		}
		if c.Kind != KindPod {
			continue
		}
		old, _ := c.Old.(*ordov1.Pod)
		nw, _ := c.New.(*ordov1.Pod)
		if !desiredChanged(old, nw) {
			continue
		}
		if old.GetNodeName() != "" {
			kick = append(kick, old.GetNodeName())
		}
		if nw.GetNodeName() != "" && nw.GetNodeName() != old.GetNodeName() {
			kick = append(kick, nw.GetNodeName())
		}
	}
	if len(kick) == 0 {
		return
	}
	n.mu.Lock()
	for _, name := range kick {
		if st := n.nodes[name]; st != nil && st.conn != nil {
			st.conn.poke()
		}
	}
	n.mu.Unlock()
}

// desiredChanged reports whether a pod change can change a desired list
// (anything but the status).
func desiredChanged(old, nw *ordov1.Pod) bool {
	if old == nil || nw == nil {
		return true
	}
	return old.GetNodeName() != nw.GetNodeName() || old.GetEpoch() != nw.GetEpoch() ||
		(old.GetMetadata().GetDeletionTime() == nil) != (nw.GetMetadata().GetDeletionTime() == nil) ||
		old.GetRevision() != nw.GetRevision() ||
		!proto.Equal(old.GetSpec(), nw.GetSpec()) || !proto.Equal(old.GetMetadata(), nw.GetMetadata()) ||
		!equalResolved(old.GetResolvedVolumes(), nw.GetResolvedVolumes())
}

// receive handles the agent's messages until the stream ends.
func (n *nodeService) receive(stream ordov1.Node_ConnectServer, log *slog.Logger, st *nodeState, conn *nodeConn) error {
	for {
		msg, err := stream.Recv()
		if err != nil {
			return err
		}
		n.renew(st, conn)
		switch m := msg.GetMsg().(type) {
		case *ordov1.AgentMessage_Status:
			if err := n.store.UpdateUnsynced(func(tx *Tx) error { return mergeReport(tx, log, conn.node, m.Status) }); err != nil {
				log.Error("store pod status", "pod", m.Status.GetName(), "err", err)
			}
		case *ordov1.AgentMessage_VolumeCleanup:
			n.cleanupDone(log, conn.node, m.VolumeCleanup)
		case *ordov1.AgentMessage_Heartbeat:
		case *ordov1.AgentMessage_Hello:
			log.Warn("unexpected Hello on an open stream; ignored")
		}
	}
}

// renew extends the node's lease; a node that had lost it becomes Ready again.
func (n *nodeService) renew(st *nodeState, conn *nodeConn) {
	n.mu.Lock()
	st.lastSeen = time.Now()
	revive := st.expired && st.conn == conn
	st.expired = false
	n.mu.Unlock()
	if revive {
		if err := n.store.Update(func(tx *Tx) error { return setNodeReady(tx, st.name, true, "heartbeats resumed") }); err != nil {
			n.log.Error("mark node ready", "node", st.name, "err", err)
		}
	}
}

// armLocked (re)starts the lease timer of st. n.mu must be held.
func (n *nodeService) armLocked(st *nodeState) {
	d := n.lease - time.Since(st.lastSeen)
	if d < 0 {
		d = 0
	}
	if st.timer != nil {
		st.timer.Stop()
	}
	st.timer = time.AfterFunc(d, func() { n.checkLease(st) })
}

// checkLease runs when a lease may have run out. The node becomes NotReady and
// its pods Unknown; they are not moved.
func (n *nodeService) checkLease(st *nodeState) {
	n.mu.Lock()
	if n.done {
		n.mu.Unlock()
		return
	}
	if left := n.lease - time.Since(st.lastSeen); left > 0 {
		st.timer = time.AfterFunc(left, func() { n.checkLease(st) })
		n.mu.Unlock()
		return
	}
	if st.expired {
		n.mu.Unlock()
		return
	}
	st.expired = true
	n.mu.Unlock()
	log := n.log.With("node", st.name)
	log.Warn("node lease expired; its pods are Unknown", "lease", n.lease)
	err := n.store.Update(func(tx *Tx) error {
		if err := setNodeReady(tx, st.name, false, fmt.Sprintf("no heartbeat for %s", n.lease)); err != nil {
			return err
		}
		for _, p := range n.store.PodsOnNode(st.name) {
			ph := p.GetStatus().GetPhase()
			if ph == ordov1.PodPhase_POD_PHASE_UNKNOWN || ph == ordov1.PodPhase_POD_PHASE_GONE {
				continue
			}
			c := proto.Clone(p).(*ordov1.Pod)
			if c.Status == nil {
				c.Status = &ordov1.PodStatus{}
			}
			c.Status.Phase = ordov1.PodPhase_POD_PHASE_UNKNOWN
			c.Status.Ready = false
			c.Status.ReadyObservedTime = nil
			c.Status.Reason = "NodeLost"
			c.Status.Message = fmt.Sprintf("node %s stopped reporting", st.name)
			if _, err := tx.PutPod(c); err != nil {
				return err
			}
			ns, name := c.GetMetadata().GetNamespace(), c.GetMetadata().GetName()
			if err := tx.Record(KindPod, ns, name, "NodeLost", "Node %s stopped reporting; pod status Unknown", st.name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		log.Error("expire node lease", "err", err)
	}
}

// setNodeReady records a readiness transition of node (no-op if unchanged).
func setNodeReady(tx *Tx, node string, ready bool, why string) error {
	cur := tx.Node(node)
	if cur == nil || cur.GetReady() == ready {
		return nil
	}
	c := proto.Clone(cur).(*ordov1.NodeInfo)
	c.Ready = ready
	if _, err := tx.PutNode(c); err != nil {
		return err
	}
	if ready {
		return tx.Record(KindNode, "", node, "NodeReady", "Node %s is Ready: %s", node, why)
	}
	return tx.Record(KindNode, "", node, "NodeNotReady", "Node %s is NotReady: %s", node, why)
}

func nsOr(ns string) string {
	if ns == "" {
		return identity.DefaultNamespace
	}
	return ns
}

// mergeReport merges an agent's status report into the stored pod. Reports
// from another node or for another epoch are ignored (fencing), except that
// nothing but the pod's own node and epoch may remove a pod being deleted.
func mergeReport(tx *Tx, log *slog.Logger, node string, r *ordov1.PodStatusReport) error {
	ns, name := nsOr(r.GetNamespace()), r.GetName()
	cur := tx.Pod(ns, name)
	if cur == nil || r.GetStatus() == nil {
		log.Debug("status for unknown pod ignored", "pod", name, "namespace", ns, "epoch", r.GetEpoch())
		return nil
	}
	if cur.GetNodeName() != node {
		log.Warn("status from a node the pod is not bound to ignored", "pod", name, "bound_to", cur.GetNodeName())
		return nil
	}
	if r.GetEpoch() != cur.GetEpoch() {
		log.Info("stale status ignored", "pod", name, "epoch", r.GetEpoch(), "current_epoch", cur.GetEpoch())
		return nil
	}
	in := r.GetStatus()
	if in.GetPhase() == ordov1.PodPhase_POD_PHASE_GONE && cur.GetMetadata().GetDeletionTime() != nil {
		return removeGonePod(tx, log, cur, "stopped on "+node)
	}
	prev := cur.GetStatus()
	st := proto.Clone(in).(*ordov1.PodStatus)
	if st.Phase == ordov1.PodPhase_POD_PHASE_GONE {
		st.Ready = false
	}
	switch {
	case !st.Ready:
		st.ReadyObservedTime = nil
	case prev.GetReady() && prev.GetReadyObservedTime() != nil:
		st.ReadyObservedTime = prev.GetReadyObservedTime()
	default:
		st.ReadyObservedTime = timestamppb.New(tx.Now())
	}
	if proto.Equal(st, prev) {
		return nil
	}
	c := proto.Clone(cur).(*ordov1.Pod)
	c.Status = st
	if _, err := tx.PutPod(c); err != nil {
		return err
	}
	return recordTransitions(tx, log, c, prev, st)
}

// recordTransitions records events for what changed between two statuses of pod.
func recordTransitions(tx *Tx, log *slog.Logger, pod *ordov1.Pod, prev, st *ordov1.PodStatus) error {
	ns, name := pod.GetMetadata().GetNamespace(), pod.GetMetadata().GetName()
	rec := func(reason, format string, args ...any) error {
		return tx.Record(KindPod, ns, name, reason, format, args...)
	}
	if prev.GetPhase() != st.GetPhase() || prev.GetReason() != st.GetReason() {
		log.Info("pod phase", "pod", name, "namespace", ns, "node", pod.GetNodeName(), "phase", st.GetPhase().String(), "reason", st.GetReason(), "message", st.GetMessage())
		var err error
		switch st.GetPhase() {
		case ordov1.PodPhase_POD_PHASE_RUNNING:
			if prev.GetPhase() != st.GetPhase() {
				err = rec("Started", "Started pod %s on %s", name, pod.GetNodeName())
			}
		case ordov1.PodPhase_POD_PHASE_PENDING:
			if st.GetReason() != "" {
				err = rec(st.GetReason(), "%s", firstNonEmpty(st.GetMessage(), st.GetReason()))
			}
		case ordov1.PodPhase_POD_PHASE_FAILED:
			err = rec("Failed", "Pod failed (exit code %d): %s", st.GetExitCode(), firstNonEmpty(st.GetMessage(), st.GetReason()))
		case ordov1.PodPhase_POD_PHASE_SUCCEEDED:
			err = rec("Completed", "Pod completed")
		case ordov1.PodPhase_POD_PHASE_TERMINATING:
			if prev.GetPhase() != st.GetPhase() {
				err = rec("Terminating", "Stopping containers of %s", name)
			}
		case ordov1.PodPhase_POD_PHASE_GONE:
			err = rec("Gone", "No container of %s remains on %s", name, pod.GetNodeName())
		}
		if err != nil {
			return err
		}
	}
	if st.GetRestarts() > prev.GetRestarts() {
		if err := rec("Restarted", "Container restarted (restart %d, last exit code %d) %s", st.GetRestarts(), st.GetExitCode(), st.GetReason()); err != nil {
			return err
		}
	}
	if st.GetReady() != prev.GetReady() {
		log.Info("pod readiness", "pod", name, "namespace", ns, "node", pod.GetNodeName(), "ready", st.GetReady())
		if st.GetReady() {
			return rec("Ready", "Pod %s is Ready", name)
		}
		return rec("NotReady", "Pod %s is not Ready: %s", name, firstNonEmpty(st.GetMessage(), st.GetReason(), st.GetPhase().String()))
	}
	return nil
}

// removeGonePod removes the record of a pod being deleted that its node no
// longer runs.
func removeGonePod(tx *Tx, log *slog.Logger, cur *ordov1.Pod, why string) error {
	ns, name := cur.GetMetadata().GetNamespace(), cur.GetMetadata().GetName()
	if err := tx.DeletePod(ns, name); err != nil {
		return err
	}
	log.Info("pod gone", "pod", name, "namespace", ns, "node", cur.GetNodeName(), "epoch", cur.GetEpoch())
	return tx.Record(KindPod, ns, name, "Deleted", "Pod %s (epoch %d) %s", name, cur.GetEpoch(), why)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
