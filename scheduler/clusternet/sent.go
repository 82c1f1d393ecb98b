package clusternet

import (
	"google.golang.org/protobuf/proto"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Sent tracks what one agent stream has been sent of the network state.
type Sent struct {
	net     *ordov1.NetworkConfig
	version uint64
}

// Next returns the network messages node has not been sent yet.
func (s *Sent) Next(c *Net, node string) []*ordov1.SchedulerMessage {
	var out []*ordov1.SchedulerMessage
	// A node without a pod CIDR is being removed: NodeRemoved follows.
	if cfg := c.Config(node); cfg.GetPodCidr() != "" && (s.net == nil || !proto.Equal(cfg, s.net)) {
		s.net = cfg
		out = append(out, &ordov1.SchedulerMessage{Msg: &ordov1.SchedulerMessage_Network{Network: cfg}})
	}
	if d := c.Records(); d.GetVersion() != s.version {
		s.version = d.GetVersion()
		out = append(out, &ordov1.SchedulerMessage{Msg: &ordov1.SchedulerMessage_Dns{Dns: d}})
	}
	return out
}
