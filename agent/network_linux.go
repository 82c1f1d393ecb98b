package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ordoproject/ordo/network"
	"github.com/ordoproject/ordo/network/clusterdns"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// nodeNet is the agent's pod network: a bridge with veths and addresses from
// the node's pod CIDR (network.PodNet), routes to other nodes' pods, and a DNS
// server for the cluster domain on the bridge address.
type nodeNet struct {
	pods      *network.PodNet
	log       *slog.Logger
	upstreams []string // as configured; empty: from /etc/resolv.conf

	mu      sync.Mutex
	dns     *clusterdns.Server
	server  string
	domain  string
	pending *ordov1.ClusterDNS // the latest records, for a server started later
}

var (
	_ PodNetwork  = (*nodeNet)(nil)
	_ NodeNetwork = (*nodeNet)(nil)
)

func newNodeNet(ns *network.NetNS, stateDir string, upstreams []string, log *slog.Logger) *nodeNet {
	return &nodeNet{pods: network.NewPodNet(ns, stateDir, log), log: log, domain: "cluster.local", upstreams: upstreams}
}

// dnsUpstreams are the servers names outside the cluster domain go to.
func (n *nodeNet) dnsUpstreams(self string) []string {
	if len(n.upstreams) == 0 {
		return clusterdns.UpstreamsFrom("/etc/resolv.conf", self)
	}
	var out []string
	for _, u := range n.upstreams {
		if u == "none" {
			return nil
		}
		if _, _, err := net.SplitHostPort(u); err != nil {
			u = net.JoinHostPort(u, "53")
		}
		out = append(out, u)
	}
	return out
}

func (n *nodeNet) Setup(ctx context.Context, key string) (network.Pod, error) {
	return n.pods.Setup(ctx, key)
}

func (n *nodeNet) Teardown(ctx context.Context, key string) error {
	return n.pods.Teardown(ctx, key)
}

// Configure builds the bridge and routes and starts the DNS server on the
// bridge address (port 53, UDP and TCP).
func (n *nodeNet) Configure(ctx context.Context, cfg *ordov1.NetworkConfig) error {
	cidr, err := netip.ParsePrefix(cfg.GetPodCidr())
	if err != nil {
		return fmt.Errorf("pod CIDR %q: %w", cfg.GetPodCidr(), err)
	}
	nc := network.NodeConfig{PodCIDR: cidr}
	for _, r := range cfg.GetRoutes() {
		p, perr := netip.ParsePrefix(r.GetPodCidr())
		via, verr := netip.ParseAddr(r.GetAddress())
		if perr != nil || verr != nil {
			n.log.Warn("ignoring bad route", "node_route", r.GetNodeName(), "pod_cidr", r.GetPodCidr(), "address", r.GetAddress())
			continue
		}
		nc.Routes = append(nc.Routes, network.Route{CIDR: p, Via: via})
	}
	if err := n.pods.Configure(ctx, nc); err != nil {
		return err
	}
	gw := n.pods.Gateway().String()
	n.mu.Lock()
	defer n.mu.Unlock()
	if d := cfg.GetClusterDomain(); d != "" {
		n.domain = d
	}
	if n.dns != nil && n.server != gw {
		n.dns.Stop()
		n.dns = nil
	}
	if n.dns == nil {
		s := clusterdns.NewServer(n.domain, n.dnsUpstreams(gw), n.log)
		if err := s.Start(net.JoinHostPort(gw, "53")); err != nil {
			return err
		}
		n.dns, n.server = s, gw
		if n.pending != nil {
			s.SetRecords(n.pending)
		}
	}
	return nil
}

func (n *nodeNet) SetRecords(d *ordov1.ClusterDNS) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.pending = d
	if n.dns != nil {
		n.dns.SetRecords(d)
	}
}

func (n *nodeNet) DNS() (string, string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.dns == nil {
		return "", n.domain
	}
	return n.server, n.domain
}

// Close stops the DNS server; the bridge, routes and pods stay for the next agent.
func (n *nodeNet) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.dns != nil {
		n.dns.Stop()
		n.dns = nil
	}
}

// Remove stops the DNS server and takes the node's pod network down (bridge,
// routes, address allocations): the node left the cluster.
func (n *nodeNet) Remove(ctx context.Context) error {
	n.Close()
	return n.pods.Remove(ctx)
}

// WithHostNetwork runs the container in the network namespace of the node
// (hostNetwork: true) instead of one of its own.
func WithHostNetwork(host bool) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		if !host {
			return nil
		}
		return oci.WithHostNamespace(specs.NetworkNamespace)(ctx, c, ctr, s)
	}
}
