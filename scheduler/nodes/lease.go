package nodes

import (
	"time"

	"github.com/ordoproject/ordo/scheduler/state"
)

// Leases: every message from an agent renews its node's lease; a node whose
// lease runs out is NotReady and its pods Unknown (they are not moved).

// renew extends the node's lease; a node that had lost it becomes Ready again.
func (n *Service) renew(st *nodeState, conn *nodeConn) {
	n.mu.Lock()
	st.lastSeen = time.Now()
	revive := st.expired && st.conn == conn
	st.expired = false
	n.mu.Unlock()
	if revive {
		if err := n.store.Update(func(tx *state.Tx) error { return tx.SetNodeReady(st.name, true, "heartbeats resumed") }); err != nil {
			n.log.Error("mark node ready", "node", st.name, "err", err)
		}
	}
}

// armLocked (re)starts the lease timer of st. n.mu must be held.
func (n *Service) armLocked(st *nodeState) {
	d := n.lease - time.Since(st.lastSeen)
	if d < 0 {
		d = 0
	}
	if st.timer != nil {
		st.timer.Stop()
	}
	st.timer = time.AfterFunc(d, func() { n.checkLease(st) })
}

// checkLease runs when a lease may have run out.
func (n *Service) checkLease(st *nodeState) {
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
	if err := n.store.Update(func(tx *state.Tx) error { return tx.ExpireNode(st.name, n.lease.String()) }); err != nil {
		log.Error("expire node lease", "err", err)
	}
}
