package state

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/internal/identity"
	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Node transitions: registration, readiness, the agent's hello after a
// (re)connect, lease expiry and removal.

// RegisterNode creates or updates the record of node from its registration.
// assignCIDR sets the node's pod CIDR (keeping the one it has when still
// valid) given the other nodes; it runs inside this transaction, which
// serialises allocations.
func (t *Tx) RegisterNode(in *ordov1.NodeInfo, assignCIDR func(node *ordov1.NodeInfo, others []*ordov1.NodeInfo) error) error {
	name := in.GetMetadata().GetName()
	cur := t.Node(name)
	node := &ordov1.NodeInfo{}
	if cur != nil {
		node = proto.Clone(cur).(*ordov1.NodeInfo)
	}
	if node.Metadata == nil {
		node.Metadata = &ordov1.ObjectMeta{}
	}
	node.Metadata.Name = name
	node.Metadata.Labels = in.GetMetadata().GetLabels()
	node.Addresses = in.GetAddresses()
	node.Capacity = in.GetCapacity()
	node.AgentVersion = in.GetAgentVersion()
	node.LastHeartbeat = nil
	node.Pods = 0
	var others []*ordov1.NodeInfo
	for _, n := range t.Nodes() {
		if n.GetMetadata().GetName() != name {
			others = append(others, n)
		}
	}
	if err := assignCIDR(node, others); err != nil {
		return err
	}
	if cur != nil && proto.Equal(cur, node) {
		return nil
	}
	if _, err := t.PutNode(node); err != nil {
		return err
	}
	if cur == nil {
		return t.Record(kinds.Node, "", name, "Registered", "Node %s registered (agent %s)", name, in.GetAgentVersion())
	}
	return nil
}

// SetNodeReady records a readiness transition of node (no-op if unchanged).
func (t *Tx) SetNodeReady(node string, ready bool, why string) error {
	cur := t.Node(node)
	if cur == nil || cur.GetReady() == ready {
		return nil
	}
	c := proto.Clone(cur).(*ordov1.NodeInfo)
	c.Ready = ready
	if _, err := t.PutNode(c); err != nil {
		return err
	}
	if ready {
		return t.Record(kinds.Node, "", node, "NodeReady", "Node %s is Ready: %s", node, why)
	}
	return t.Record(kinds.Node, "", node, "NodeNotReady", "Node %s is NotReady: %s", node, why)
}

// NodeHello reconciles what node's agent found running when it connected:
// statuses of the pods it runs are merged, pods being deleted that it no
// longer runs are gone, and the node is Ready.
func (t *Tx) NodeHello(node string, running []*ordov1.PodStatusReport) error {
	epochs := map[string]uint64{}
	for _, r := range running {
		epochs[Key(identity.NamespaceOr(r.GetNamespace()), r.GetName())] = r.GetEpoch()
		if err := t.MergeReport(node, r); err != nil {
			return err
		}
	}
	for _, p := range t.PodsOnNode(node) {
		if p.GetMetadata().GetDeletionTime() == nil {
			continue
		}
		if e, ok := epochs[Key(p.GetMetadata().GetNamespace(), p.GetMetadata().GetName())]; ok && e == p.GetEpoch() {
			continue
		}
		if err := t.RemoveGonePod(p, "not running on "+node+" after the agent reconnected"); err != nil {
			return err
		}
	}
	return t.SetNodeReady(node, true, "agent connected")
}

// ExpireNode makes node NotReady and its pods Unknown: no heartbeat for
// lease. The pods are not moved.
func (t *Tx) ExpireNode(node string, lease string) error {
	if err := t.SetNodeReady(node, false, fmt.Sprintf("no heartbeat for %s", lease)); err != nil {
		return err
	}
	return t.MarkPodsUnknown(node)
}

// DeleteNode removes the record of a node that no pod is bound to, which
// frees its pod CIDR; the other nodes' routes to it go with the next network
// configuration they are sent, and its agent hears that it was removed.
func (t *Tx) DeleteNode(name string) error {
	cur := t.Node(name)
	if cur == nil {
		return errdefs.NotFound("node", name)
	}
	var pods []string
	for _, p := range t.PodsOnNode(name) {
		pods = append(pods, p.GetMetadata().GetName())
	}
	if len(pods) > 0 {
		return fmt.Errorf("node %s still runs %s: scale down or move them first: %w", name, strings.Join(pods, ", "), errdefs.ErrConflict)
	}
	if err := t.Delete(kinds.Node, "", name); err != nil {
		return err
	}
	t.log.Info("node removed", "node", name)
	if cidr := cur.GetPodCidr(); cidr != "" {
		return t.Record(kinds.Node, "", name, "Removed", "Node %s removed from the cluster; pod CIDR %s freed", name, cidr)
	}
	return t.Record(kinds.Node, "", name, "Removed", "Node %s removed from the cluster", name)
}
