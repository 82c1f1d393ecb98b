// Package clusternet owns the cluster's network bookkeeping: each node's
// pod CIDR (a block of the cluster CIDR, stable across restarts), the routes
// every node needs to the others, and the cluster DNS records (services and
// their endpoints) that agents serve to pods. It reads the state store and
// hears of changes from its commits; it writes only the pod CIDR of a node
// that registers, inside the registering transaction.
package clusternet

import (
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/state"
)

// Network defaults: every node gets a /24 of the cluster CIDR for its pods.
const (
	DefaultClusterCIDR   = "10.244.0.0/16"
	DefaultClusterDomain = "cluster.local"
	nodeCIDRBits         = 24
	// dnsDebounce groups the record changes of one burst of commits.
	dnsDebounce = 5 * time.Millisecond
)

// Net hands out pod CIDRs and keeps the cluster's DNS records, which
// the node service pushes to every connected agent when they change.
type Net struct {
	store  *state.Store
	log    *slog.Logger
	domain string
	wake   func() // pokes every connected agent's sender

	mu      sync.Mutex
	cluster netip.Prefix
	dns     *ordov1.ClusterDNS
	timer   *time.Timer
}

// New keeps the network state of store, with node pod CIDRs taken from
// clusterCIDR ("" for DefaultClusterCIDR).
func New(store *state.Store, log *slog.Logger, clusterCIDR string) (*Net, error) {
	c := &Net{
		store:   store,
		log:     log,
		domain:  DefaultClusterDomain,
		cluster: netip.MustParsePrefix(DefaultClusterCIDR),
		dns:     &ordov1.ClusterDNS{Version: uint64(time.Now().UnixNano())},
	}
	if clusterCIDR != "" {
		if err := c.setClusterCIDR(clusterCIDR); err != nil {
			return nil, err
		}
	}
	c.refresh()
	store.OnCommit(c.onCommit)
	return c, nil
}

// OnChange sets what is called when what agents are sent changes (routes
// or DNS records): the node service wakes its senders.
func (c *Net) OnChange(fn func()) {
	c.mu.Lock()
	c.wake = fn
	c.mu.Unlock()
}

func (c *Net) wakeFn() func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wake
}

// setClusterCIDR sets the block node pod CIDRs come from.
func (c *Net) setClusterCIDR(s string) error {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() || p.Bits() > nodeCIDRBits {
		return fmt.Errorf("--cluster-cidr %q: want an IPv4 CIDR of /%d or larger: %w", s, nodeCIDRBits, errdefs.ErrInvalid)
	}
	c.mu.Lock()
	c.cluster = p.Masked()
	c.mu.Unlock()
	return nil
}

func (c *Net) clusterCIDR() netip.Prefix {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cluster
}

// AssignPodCIDR sets node.PodCidr, keeping the one it has when still valid,
// given the other nodes. It runs inside the registering transaction, which
// serialises allocations.
func (c *Net) AssignPodCIDR(node *ordov1.NodeInfo, others []*ordov1.NodeInfo) error {
	var used []string
	for _, n := range others {
		if n.GetPodCidr() != "" {
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

// Config is the network configuration of node as the store has it now.
func (c *Net) Config(node string) *ordov1.NetworkConfig {
	return networkConfig(c.store.Nodes(), node, c.clusterCIDR().String(), c.domain)
}

// Records returns the current DNS records (shared, read-only).
func (c *Net) Records() *ordov1.ClusterDNS {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dns
}

// onCommit schedules a recomputation of the records after pod and service
// changes, and wakes the senders after node changes (routes).
func (c *Net) onCommit(changes []state.Change) {
	recompute, nodes := false, false
	for _, ch := range changes {
		switch ch.Kind {
		case kinds.Pod, kinds.Service:
			recompute = true
		case kinds.Node:
			old, _ := ch.Old.(*ordov1.NodeInfo)
			nw, _ := ch.New.(*ordov1.NodeInfo)
			if old.GetPodCidr() != nw.GetPodCidr() || !slices.Equal(old.GetAddresses(), nw.GetAddresses()) {
				nodes = true
			}
		}
	}
	if wake := c.wakeFn(); nodes && wake != nil {
		wake()
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
func (c *Net) refresh() {
	c.mu.Lock()
	c.timer = nil
	c.mu.Unlock()
	services := c.store.Services()
	next := &ordov1.ClusterDNS{Services: services, Endpoints: ComputeEndpoints(services, c.store.Pods())}
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
	if wake := c.wakeFn(); wake != nil {
		wake()
	}
}
