package nodes

import (
	"context"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/errdefs"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/controller"
	"github.com/ordoproject/ordo/scheduler/state"
)

// Register records a node and opens a session for its stream.
func (n *Service) Register(ctx context.Context, req *ordov1.RegisterRequest) (*ordov1.RegisterResponse, error) {
	resp, err := n.register(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

func (n *Service) register(_ context.Context, req *ordov1.RegisterRequest) (*ordov1.RegisterResponse, error) {
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
	in := &ordov1.NodeInfo{
		Metadata:     &ordov1.ObjectMeta{Name: name, Labels: labels},
		Addresses:    req.GetAddresses(),
		Capacity:     capacity,
		AgentVersion: req.GetAgentVersion(),
	}
	if err := n.store.Update(func(tx *state.Tx) error { return tx.RegisterNode(in, n.net.AssignPodCIDR) }); err != nil {
		return nil, err
	}
	session := state.NewUID()
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
		Network:             n.net.Config(name),
	}, nil
}
