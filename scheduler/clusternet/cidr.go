package clusternet

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/ordoproject/ordo/internal/errdefs"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
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
