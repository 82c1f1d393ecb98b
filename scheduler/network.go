package scheduler

import (
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/errdefs"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Network defaults: every node gets a /24 of the cluster CIDR for its pods.
const (
	DefaultClusterCIDR   = "10.244.0.0/16"
	DefaultClusterDomain = "cluster.local"
	nodeCIDRBits         = 24
	// dnsDebounce groups the record changes of one burst of commits.
	dnsDebounce = 5 * time.Millisecond
)

// allocatePodCIDR returns the pod CIDR of a node: current when it is a valid
// /bits block of cluster that no other node uses, otherwise the lowest free
// block (the first one, holding the cluster network's own address, is skipped).
func allocatePodCIDR(cluster netip.Prefix, bits int, current string, used []string) (string, error) {
	cluster = cluster.Masked()
	if !cluster.Addr().Is4() || bits < cluster.Bits() || bits > 30 {
		return "", errdefs.Invalid("cluster-cidr", "%s cannot be split into /%d node blocks", cluster, bits)
	}
	taken := map[netip.Prefix]bool{}
	for _, u := range used {
		if p, err := netip.ParsePrefix(u); err == nil {
			taken[p.Masked()] = true
		}
	}
	if p, err := netip.ParsePrefix(current); err == nil && p.Bits() == bits && p.Masked() == p && cluster.Contains(p.Addr()) && !taken[p] {
		return p.String(), nil
	}
	n := 1 << (bits - cluster.Bits())
	base := cluster.Addr().As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	for i := 1; i < n; i++ {
		v := start + uint32(i)<<(32-bits)
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), bits)
		if !taken[p] {
			return p.String(), nil
		}
	}
	return "", fmt.Errorf("cluster CIDR %s has no free /%d block: %w", cluster, bits, errdefs.ErrUnavailable)
}

// networkConfig is what node needs: its pod CIDR and a route to every other
// node's pod CIDR via that node's first address.
func networkConfig(nodes []*ordov1.NodeInfo, node, clusterCIDR, domain string) *ordov1.NetworkConfig {
	cfg := &ordov1.NetworkConfig{ClusterCidr: clusterCIDR, ClusterDomain: domain}
	for _, n := range nodes {
		name := n.GetMetadata().GetName()
		if name == node {
			cfg.PodCidr = n.GetPodCidr()
			continue
		}
		if n.GetPodCidr() == "" || len(n.GetAddresses()) == 0 {
			continue
		}
		cfg.Routes = append(cfg.Routes, &ordov1.NodeRoute{NodeName: name, PodCidr: n.GetPodCidr(), Address: n.GetAddresses()[0]})
	}
	sort.Slice(cfg.Routes, func(i, j int) bool { return cfg.Routes[i].NodeName < cfg.Routes[j].NodeName })
	return cfg
}

// computeEndpoints lists, for every service with a selector, the pods it
// selects that have an IP. Pods being deleted or not Ready are listed with
// ready=false; the hostname is set only for pods whose subdomain is the
// service (as Kubernetes does), which is what gives them a DNS name.
func computeEndpoints(services []*ordov1.Service, pods []*ordov1.Pod) []*ordov1.Endpoints {
	var out []*ordov1.Endpoints
	for _, svc := range services {
		sel := svc.GetSpec().GetSelector()
		if len(sel) == 0 {
			continue
		}
		ns := nsOr(svc.GetMetadata().GetNamespace())
		ep := &ordov1.Endpoints{
			Metadata: &ordov1.ObjectMeta{
				Name:         svc.GetMetadata().GetName(),
				Namespace:    ns,
				Labels:       svc.GetMetadata().GetLabels(),
				CreationTime: svc.GetMetadata().GetCreationTime(),
			},
			Ports: svc.GetSpec().GetPorts(),
		}
		for _, p := range pods {
			if nsOr(p.GetMetadata().GetNamespace()) != ns || !selects(sel, p.GetMetadata().GetLabels()) {
				continue
			}
			st := p.GetStatus()
			if st.GetPodIp() == "" {
				continue
			}
			switch st.GetPhase() {
			case ordov1.PodPhase_POD_PHASE_RUNNING, ordov1.PodPhase_POD_PHASE_UNKNOWN:
			default:
				continue
			}
			a := &ordov1.EndpointAddress{
				Ip:       st.GetPodIp(),
				PodName:  p.GetMetadata().GetName(),
				NodeName: p.GetNodeName(),
				Ready: st.GetReady() && st.GetPhase() == ordov1.PodPhase_POD_PHASE_RUNNING &&
					p.GetMetadata().GetDeletionTime() == nil,
			}
			if p.GetSpec().GetSubdomain() == svc.GetMetadata().GetName() {
				a.Hostname = p.GetSpec().GetHostname()
				if a.Hostname == "" {
					a.Hostname = p.GetMetadata().GetName()
				}
			}
			ep.Addresses = append(ep.Addresses, a)
		}
		sort.Slice(ep.Addresses, func(i, j int) bool { return ep.Addresses[i].PodName < ep.Addresses[j].PodName })
		out = append(out, ep)
	}
	sort.Slice(out, func(i, j int) bool {
		return Key(out[i].Metadata.Namespace, out[i].Metadata.Name) < Key(out[j].Metadata.Namespace, out[j].Metadata.Name)
	})
	return out
}

func selects(sel, labels map[string]string) bool {
	for k, v := range sel {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// clusterNet hands out pod CIDRs and keeps the cluster's DNS records, which
// the node service pushes to every connected agent when they change.
type clusterNet struct {
	store  *Store
	log    *slog.Logger
	domain string
	wake   func() // pokes every connected agent's sender

	mu      sync.Mutex
	cluster netip.Prefix
	dns     *ordov1.ClusterDNS
	timer   *time.Timer
}

func newClusterNet(store *Store, log *slog.Logger) *clusterNet {
	c := &clusterNet{
		store:   store,
		log:     log,
		domain:  DefaultClusterDomain,
		cluster: netip.MustParsePrefix(DefaultClusterCIDR),
		dns:     &ordov1.ClusterDNS{Version: uint64(time.Now().UnixNano())},
	}
	c.refresh()
	store.OnCommit(c.onCommit)
	return c
}

// setClusterCIDR sets the block node pod CIDRs come from.
func (c *clusterNet) setClusterCIDR(s string) error {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() || p.Bits() > nodeCIDRBits {
		return fmt.Errorf("--cluster-cidr %q: want an IPv4 CIDR of /%d or larger: %w", s, nodeCIDRBits, errdefs.ErrInvalid)
	}
	c.mu.Lock()
	c.cluster = p.Masked()
	c.mu.Unlock()
	return nil
}

func (c *clusterNet) clusterCIDR() netip.Prefix {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cluster
}

// assignPodCIDR sets node.PodCidr, keeping the one it has when still valid.
// It runs inside the registering Update, which serialises allocations.
func (c *clusterNet) assignPodCIDR(node *ordov1.NodeInfo) error {
	var used []string
	for _, n := range c.store.Nodes() {
		if n.GetMetadata().GetName() != node.GetMetadata().GetName() && n.GetPodCidr() != "" {
			used = append(used, n.GetPodCidr())
		}
	}
	cidr, err := allocatePodCIDR(c.clusterCIDR(), nodeCIDRBits, node.GetPodCidr(), used)
	if err != nil {
		return err
	}
	node.PodCidr = cidr
	return nil
}

// config is the network configuration of node as the store has it now.
func (c *clusterNet) config(node string) *ordov1.NetworkConfig {
	return networkConfig(c.store.Nodes(), node, c.clusterCIDR().String(), c.domain)
}

// records returns the current DNS records (shared, read-only).
func (c *clusterNet) records() *ordov1.ClusterDNS {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dns
}

// onCommit schedules a recomputation of the records after pod and service
// changes, and wakes the senders after node changes (routes).
func (c *clusterNet) onCommit(changes []Change) {
	recompute, nodes := false, false
	for _, ch := range changes {
		switch ch.Kind {
		case KindPod, KindService:
			recompute = true
		case KindNode:
			old, _ := ch.Old.(*ordov1.NodeInfo)
			nw, _ := ch.New.(*ordov1.NodeInfo)
			if old.GetPodCidr() != nw.GetPodCidr() || !equalStrings(old.GetAddresses(), nw.GetAddresses()) {
				nodes = true
			}
		}
	}
	if nodes && c.wake != nil {
		c.wake()
	}
	if recompute {
		c.mu.Lock()
		if c.timer == nil {
			c.timer = time.AfterFunc(dnsDebounce, c.refresh)
		}
		c.mu.Unlock()
	}
}

// refresh recomputes the records and wakes the senders when they changed.
func (c *clusterNet) refresh() {
	c.mu.Lock()
	c.timer = nil
	c.mu.Unlock()
	services := c.store.Services()
	next := &ordov1.ClusterDNS{Services: services, Endpoints: computeEndpoints(services, c.store.Pods())}
	c.mu.Lock()
	cur := c.dns
	next.Version = cur.GetVersion()
	if proto.Equal(cur, next) {
		c.mu.Unlock()
		return
	}
	next.Version = cur.GetVersion() + 1
	c.dns = next
	c.mu.Unlock()
	c.log.Debug("cluster DNS records changed", "version", next.Version, "services", len(services))
	if c.wake != nil {
		c.wake()
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// pokeAll wakes the sender of every connected node.
func (n *nodeService) pokeAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, st := range n.nodes {
		if st.conn != nil {
			st.conn.poke()
		}
	}
}

// netSender tracks what a stream has been sent of the network state.
type netSender struct {
	net     *ordov1.NetworkConfig
	version uint64
}

// next returns the network messages node has not been sent yet.
func (s *netSender) next(c *clusterNet, node string) []*ordov1.SchedulerMessage {
	var out []*ordov1.SchedulerMessage
	// A node without a pod CIDR is being removed: NodeRemoved follows.
	if cfg := c.config(node); cfg.GetPodCidr() != "" && (s.net == nil || !proto.Equal(cfg, s.net)) {
		s.net = cfg
		out = append(out, &ordov1.SchedulerMessage{Msg: &ordov1.SchedulerMessage_Network{Network: cfg}})
	}
	if d := c.records(); d.GetVersion() != s.version {
		s.version = d.GetVersion()
		out = append(out, &ordov1.SchedulerMessage{Msg: &ordov1.SchedulerMessage_Dns{Dns: d}})
	}
	return out
}

// isEndpointsKind tells whether a user-given kind names Endpoints.
func isEndpointsKind(k string) bool {
	switch strings.ToLower(k) {
	case "endpoints", "endpoint", "ep":
		return true
	}
	return false
}

// listEndpoints computes the endpoints of the services from the pods now.
func (c *controlService) listEndpoints(req *ordov1.ListRequest) *ordov1.ListResponse {
	resp := &ordov1.ListResponse{}
	for _, ep := range computeEndpoints(c.store.Services(), c.store.Pods()) {
		m := ep.GetMetadata()
		if ns := req.GetNamespace(); ns != "" && m.GetNamespace() != ns {
			continue
		}
		if !selects(req.GetLabelSelector(), m.GetLabels()) {
			continue
		}
		resp.Endpoints = append(resp.Endpoints, ep)
	}
	return resp
}
