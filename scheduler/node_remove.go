package scheduler

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ordoproject/ordo/internal/errdefs"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// errNodeRemoved ends the stream of a node that was deleted, after its agent
// was told so.
var errNodeRemoved = errors.New("node removed")

// deleteNode removes the record of a node that no pod is bound to, which frees
// its pod CIDR; the other nodes' routes to it go with the next network
// configuration they are sent (clusterNet.onCommit).
func deleteNode(tx *Tx, s *Store, name string) error {
	cur := tx.Node(name)
	if cur == nil {
		return errdefs.NotFound("node", name)
	}
	var pods []string
	for _, p := range s.PodsOnNode(name) {
		pods = append(pods, p.GetMetadata().GetName())
	}
	if len(pods) > 0 {
		return fmt.Errorf("node %s still runs %s: scale down or move them first: %w", name, strings.Join(pods, ", "), errdefs.ErrConflict)
	}
	if err := tx.del(KindNode, name); err != nil {
		return err
	}
	if cidr := cur.GetPodCidr(); cidr != "" {
		return tx.Record(KindNode, "", name, "Removed", "Node %s removed from the cluster; pod CIDR %s freed", name, cidr)
	}
	return tx.Record(KindNode, "", name, "Removed", "Node %s removed from the cluster", name)
}

// removed forgets a deleted node and tells its agent, if connected, that it
// left the cluster; its stream ends after that message.
func (n *nodeService) removed(name, reason string) {
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

// remove makes the stream's sender send NodeRemoved and end the stream.
func (c *nodeConn) remove(reason string) {
	c.leaveOnce.Do(func() {
		c.leaveReason = reason
		close(c.leave)
	})
}

// sendRemoved tells the agent that its node was removed.
func sendRemoved(stream ordov1.Node_ConnectServer, c *nodeConn) error {
	msg := &ordov1.SchedulerMessage{Msg: &ordov1.SchedulerMessage_NodeRemoved{NodeRemoved: &ordov1.NodeRemoved{Reason: c.leaveReason}}}
	if err := stream.Send(msg); err != nil {
		return err
	}
	return errNodeRemoved
}
