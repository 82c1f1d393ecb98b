// Package nodes is the agents' side of the scheduler's loop:
//
//	store change → DesiredPods to the pod's node → agent → PodStatusReport → store
//
// It owns the Node gRPC service (Register and the one long-lived stream per
// node), the nodes' leases and what each stream has been sent. It reads the
// state store, changes it only through state.Tx transitions, and hears of
// every other service's work from commits (a node deleted through the
// control API closes its stream from here). It may not touch storage or
// the controller.
package nodes

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/clusternet"
	"github.com/ordoproject/ordo/scheduler/state"
)

// defaultMaxPods is a node's capacity when its agent announces none.
const defaultMaxPods = 110

// Service implements the Node gRPC service. Every node has at most one
// stream; a new Connect replaces the old one. The complete desired list of a
// node is sent whenever it changes (one place: the store's commit hook), with
// an increasing version.
type Service struct {
	ordov1.UnimplementedNodeServer

	store     *state.Store
	net       *clusternet.Net
	log       *slog.Logger
	heartbeat time.Duration
	lease     time.Duration

	version atomic.Uint64

	mu    sync.Mutex
	nodes map[string]*nodeState
	done  bool
}

var _ ordov1.NodeServer = (*Service)(nil)

// nodeState is what the scheduler knows of a node beyond its stored NodeInfo.
type nodeState struct {
	name     string
	session  string
	conn     *nodeConn // the current stream, nil when disconnected
	lastSeen time.Time
	timer    *time.Timer
	expired  bool
}

// New returns the service of store's nodes; net gives their network
// configuration and DNS records.
func New(store *state.Store, net *clusternet.Net, log *slog.Logger, heartbeat, lease time.Duration) *Service {
	n := &Service{
		store:     store,
		net:       net,
		log:       log,
		heartbeat: heartbeat,
		lease:     lease,
		nodes:     map[string]*nodeState{},
	}
	n.version.Store(uint64(time.Now().UnixNano()))
	net.OnChange(n.pokeAll)
	store.OnCommit(n.onCommit)
	return n
}

// Start marks every known node NotReady until its agent connects again and
// starts its lease from now: pods keep their phase until that runs out.
func (n *Service) Start() error {
	now := time.Now()
	n.mu.Lock()
	for _, node := range n.store.Nodes() {
		st := n.state(node.GetMetadata().GetName())
		st.lastSeen = now
		n.armLocked(st)
	}
	n.mu.Unlock()
	return n.store.Update(func(tx *state.Tx) error {
		for _, node := range tx.Nodes() {
			if node.GetReady() {
				if err := tx.SetNodeReady(node.GetMetadata().GetName(), false, "scheduler restarted; waiting for the agent to connect"); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Stop ends every stream and lease timer.
func (n *Service) Stop() {
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
func (n *Service) state(name string) *nodeState {
	st := n.nodes[name]
	if st == nil {
		st = &nodeState{name: name}
		n.nodes[name] = st
	}
	return st
}

// LastHeartbeat is when the node was last heard from (zero if never since start).
func (n *Service) LastHeartbeat(name string) time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	if st := n.nodes[name]; st != nil {
		return st.lastSeen
	}
	return time.Time{}
}

// pokeAll wakes the sender of every connected node.
func (n *Service) pokeAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, st := range n.nodes {
		if st.conn != nil {
			st.conn.poke()
		}
	}
}

// onCommit wakes the senders of the nodes whose desired list may have
// changed, and ends the stream of a node that was deleted.
func (n *Service) onCommit(changes []state.Change) {
	var kick, removed []string
	config := false
	for _, c := range changes {
		switch c.Kind {
		case kinds.ConfigMap, kinds.Secret:
			config = true
		case kinds.PersistentVolume:
			kick = append(kick, state.CleanupNode(c.New))
		case kinds.Node:
			if c.New == nil {
				removed = append(removed, c.Key)
			}
		case kinds.Pod:
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
	}
	if config {
		// Senders send what changed for their pods only.
		n.pokeAll()
	}
	if len(kick) == 0 && len(removed) == 0 {
		return
	}
	n.mu.Lock()
	for _, name := range kick {
		if st := n.nodes[name]; st != nil && st.conn != nil {
			st.conn.poke()
		}
	}
	n.mu.Unlock()
	for _, name := range removed {
		n.removed(name, "deleted by user")
	}
}

// removed forgets a deleted node and tells its agent, if connected, that it
// left the cluster; its stream ends after that message.
func (n *Service) removed(name, reason string) {
	n.mu.Lock()
	st := n.nodes[name]
	delete(n.nodes, name)
	n.mu.Unlock()
	if st == nil {
		return
	}
	if st.timer != nil {
		st.timer.Stop()
	}
	if st.conn != nil {
		st.conn.remove(reason)
	}
}
