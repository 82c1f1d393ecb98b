package nodes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ordoproject/ordo/internal/errdefs"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/clusternet"
	"github.com/ordoproject/ordo/scheduler/state"
)

// errNodeRemoved ends the stream of a node that was deleted, after its agent
// was told so.
var errNodeRemoved = errors.New("node removed")

// Connect is a node's stream: desired pods, network and cleanups down;
// status, heartbeats and cleanup results up.
func (n *Service) Connect(stream ordov1.Node_ConnectServer) error {
	return errdefs.ToGRPC(n.connect(stream))
}

func (n *Service) connect(stream ordov1.Node_ConnectServer) error {
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
	conn := newConn(name)

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
			if err := n.store.Update(func(tx *state.Tx) error {
				return tx.SetNodeReady(name, false, "agent stream closed")
			}); err != nil {
				log.Error("mark node not ready", "err", err)
			}
		}
	}()

	if err := n.store.Update(func(tx *state.Tx) error { return tx.NodeHello(name, hello.GetRunning()) }); err != nil {
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
		if err == nil {
			// The sender stops only when the stream was replaced.
			return status.Errorf(codes.Aborted, "node %q: replaced by a newer connection", name)
		}
		return err
	case <-conn.done:
		return status.Errorf(codes.Aborted, "node %q: replaced by a newer connection", name)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sender pushes the node's desired list whenever it changes, starting with one
// right away, then what changed of the network and volumes to clean.
func (n *Service) sender(ctx context.Context, stream ordov1.Node_ConnectServer, conn *nodeConn) error {
	var last *ordov1.DesiredPods
	var sent clusternet.Sent
	cleaned := map[string]bool{}
	for {
		d := n.desired(conn.node)
		if last == nil || !equalPodLists(last.GetPods(), d.GetPods()) ||
			!equalMessages(last.GetConfigMaps(), d.GetConfigMaps()) || !equalMessages(last.GetSecrets(), d.GetSecrets()) {
			d.Version = n.version.Add(1)
			msg := &ordov1.SchedulerMessage{Msg: &ordov1.SchedulerMessage_Desired{Desired: d}}
			if err := stream.Send(msg); err != nil {
				return err
			}
			last = d
		}
		for _, msg := range sent.Next(n.net, conn.node) {
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
			msg := &ordov1.SchedulerMessage{Msg: &ordov1.SchedulerMessage_NodeRemoved{NodeRemoved: &ordov1.NodeRemoved{Reason: conn.leaveReason}}}
			if err := stream.Send(msg); err != nil {
				return err
			}
			return errNodeRemoved
		case <-conn.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// desired is the complete list of pods that must run on node (bound there
// and not being deleted), with the ConfigMaps and Secrets they name.
func (n *Service) desired(node string) *ordov1.DesiredPods {
	d := &ordov1.DesiredPods{}
	var cms, secs map[string]bool // allocated for the first pod that names one
	for _, p := range n.store.PodsOnNode(node) {
		if p.GetMetadata().GetDeletionTime() != nil {
			continue
		}
		d.Pods = append(d.Pods, desiredView(p))
		ns := p.GetMetadata().GetNamespace()
		c, s := configRefs(p)
		if len(c) > 0 && cms == nil {
			cms = map[string]bool{}
		}
		if len(s) > 0 && secs == nil {
			secs = map[string]bool{}
		}
		for _, name := range c {
			if k := state.Key(ns, name); !cms[k] {
				cms[k] = true
				if cm := n.store.ConfigMap(ns, name); cm != nil {
					d.ConfigMaps = append(d.ConfigMaps, cm)
				}
			}
		}
		for _, name := range s {
			if k := state.Key(ns, name); !secs[k] {
				secs[k] = true
				if sec := n.store.Secret(ns, name); sec != nil {
					d.Secrets = append(d.Secrets, sec)
				}
			}
		}
	}
	return d
}

// Released local volumes with reclaim policy Delete are cleaned by the agent
// of the node that holds them: the scheduler sends VolumeCleanup while the
// volume waits for it (level-based: again on every new stream), and removes
// the volume once the agent reports success, or marks it Failed.

// sendCleanups sends node's agent a VolumeCleanup for every volume waiting
// for one that this stream has not sent yet.
func (n *Service) sendCleanups(stream ordov1.Node_ConnectServer, node string, sent map[string]bool) error {
	for _, pv := range n.store.PersistentVolumes() {
		name := pv.GetMetadata().GetName()
		if state.CleanupNode(pv) != node || sent[name] {
			continue
		}
		msg := &ordov1.SchedulerMessage{Msg: &ordov1.SchedulerMessage_VolumeCleanup{VolumeCleanup: &ordov1.VolumeCleanup{
			PersistentVolume: name,
			Path:             pv.GetSpec().GetLocal().GetPath(),
		}}}
		if err := stream.Send(msg); err != nil {
			return err
		}
		sent[name] = true
	}
	return nil
}

// receive handles the agent's messages until the stream ends.
func (n *Service) receive(stream ordov1.Node_ConnectServer, log *slog.Logger, st *nodeState, conn *nodeConn) error {
	for {
		msg, err := stream.Recv()
		if err != nil {
			return err
		}
		n.renew(st, conn)
		switch m := msg.GetMsg().(type) {
		case *ordov1.AgentMessage_Status:
			if err := n.store.UpdateUnsynced(func(tx *state.Tx) error { return tx.MergeReport(conn.node, m.Status) }); err != nil {
				log.Error("store pod status", "pod", m.Status.GetName(), "err", err)
			}
		case *ordov1.AgentMessage_VolumeCleanup:
			r := m.VolumeCleanup
			if err := n.store.Update(func(tx *state.Tx) error {
				return tx.VolumeCleanupDone(conn.node, r.GetPersistentVolume(), r.GetOk(), r.GetMessage())
			}); err != nil {
				log.Error("store volume cleanup result", "volume", r.GetPersistentVolume(), "err", err)
			}
		case *ordov1.AgentMessage_Heartbeat:
		case *ordov1.AgentMessage_Hello:
			log.Warn("unexpected Hello on an open stream; ignored")
		}
	}
}
