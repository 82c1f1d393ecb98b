package network

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/ordoproject/ordo/internal/errdefs"
)

// DefaultBridge is the name of the node bridge pods are attached to.
const DefaultBridge = "ordo0"

// routeProtocol marks the routes to other nodes' pod CIDRs as the agent's, so
// that stale ones can be found and removed.
const routeProtocol netlink.RouteProtocol = 0x6f

// vethAliasPrefix marks host-side veths; the alias holds the pod's key.
const vethAliasPrefix = "ordo:"

// Route sends the pods of another node (CIDR) via that node's address.
type Route struct {
	CIDR netip.Prefix
	Via  netip.Addr
}

// NodeConfig is what a node's pod network is built from.
type NodeConfig struct {
	PodCIDR netip.Prefix // this node's block; its first address goes to the bridge
	Routes  []Route
}

// PodNet attaches pods to a node bridge: every pod gets its own namespace (see
// NetNS), a veth pair with eth0 inside the pod, an address of the node's pod
// CIDR from IPAM and a default route via the bridge. Nodes reach each other's
// pods through routes via their node addresses (host-gw). It works in the
// network namespace of the calling process (the node's).
type PodNet struct {
	NetNS    *NetNS
	StateDir string // holds the IPAM file
	Bridge   string
	Log      *slog.Logger

	mu   sync.Mutex
	ipam *IPAM
	cidr netip.Prefix
}

// NewPodNet returns the pod network of a node keeping its state under stateDir.
func NewPodNet(ns *NetNS, stateDir string, log *slog.Logger) *PodNet {
	if log == nil {
		log = slog.Default()
	}
	return &PodNet{NetNS: ns, StateDir: stateDir, Bridge: DefaultBridge, Log: log}
}

// Gateway is the bridge address (the pods' gateway and DNS server); invalid
// until Configure succeeded.
func (n *PodNet) Gateway() netip.Addr {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ipam == nil {
		return netip.Addr{}
	}
	return n.ipam.Gateway()
}

// Configure makes the node match cfg: the bridge with the gateway address,
// forwarding on, and exactly the routes of cfg to other nodes' pods. It also
// releases addresses whose pods' namespaces are gone (from before a restart).
func (n *PodNet) Configure(ctx context.Context, cfg NodeConfig) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	cidr := cfg.PodCIDR.Masked()
	if !cidr.IsValid() {
		return errdefs.Invalid("pod_cidr", "missing")
	}
	if n.ipam == nil || n.cidr != cidr {
		ipam, err := OpenIPAM(filepath.Join(n.StateDir, "ipam.json"), cidr)
		if err != nil {
			return err
		}
		n.ipam, n.cidr = ipam, cidr
		if err := n.sweepLocked(); err != nil {
			n.Log.Warn("clean up pod network leftovers", "err", err)
		}
	}
	gw := n.ipam.Gateway()
	if err := n.ensureBridge(netip.PrefixFrom(gw, cidr.Bits())); err != nil {
		return err
	}
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644); err != nil {
		return fmt.Errorf("enable ip forwarding: %w", err)
	}
	return syncRoutes(cfg.Routes)
}

func (n *PodNet) ensureBridge(addr netip.Prefix) error {
	br, err := netlink.LinkByName(n.Bridge)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if !errors.As(err, &nf) {
			return fmt.Errorf("find bridge %s: %w", n.Bridge, err)
		}
		b := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: n.Bridge}}
		if err := netlink.LinkAdd(b); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create bridge %s: %w", n.Bridge, err)
		}
		if br, err = netlink.LinkByName(n.Bridge); err != nil {
			return fmt.Errorf("find bridge %s: %w", n.Bridge, err)
		}
	}
	addrs, err := netlink.AddrList(br, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("bridge addresses: %w", err)
	}
	want := &net.IPNet{IP: addr.Addr().AsSlice(), Mask: net.CIDRMask(addr.Bits(), 32)}
	have := false
	for _, a := range addrs {
		if a.IPNet.String() == want.String() {
			have = true
			continue
		}
		_ = netlink.AddrDel(br, &a) // an old pod CIDR
	}
	if !have {
		if err := netlink.AddrAdd(br, &netlink.Addr{IPNet: want}); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("address %s on %s: %w", addr, n.Bridge, err)
		}
	}
	if err := netlink.LinkSetUp(br); err != nil {
		return fmt.Errorf("set %s up: %w", n.Bridge, err)
	}
	return nil
}

// syncRoutes installs routes and removes the agent's routes not in it.
func syncRoutes(routes []Route) error {
	want := map[string]Route{}
	for _, r := range routes {
		want[r.CIDR.Masked().String()] = r
	}
	have, err := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Protocol: routeProtocol, Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
	if err != nil {
		return fmt.Errorf("list routes: %w", err)
	}
	var errs []error
	for _, r := range have {
		if r.Dst == nil {
			continue
		}
		if w, ok := want[r.Dst.String()]; ok && r.Gw.Equal(w.Via.AsSlice()) {
			continue
		}
		if err := netlink.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("remove route %s: %w", r.Dst, err))
		}
	}
	for _, w := range want {
		dst := &net.IPNet{IP: w.CIDR.Masked().Addr().AsSlice(), Mask: net.CIDRMask(w.CIDR.Bits(), 32)}
		r := &netlink.Route{Dst: dst, Gw: w.Via.AsSlice(), Protocol: routeProtocol}
		if err := netlink.RouteReplace(r); err != nil {
			errs = append(errs, fmt.Errorf("route %s via %s: %w", w.CIDR, w.Via, err))
		}
	}
	return errors.Join(errs...)
}

// vethName is the host-side name of key's veth (at most 15 bytes).
func vethName(key string) string {
	h := fnv.New32a()
	h.Write([]byte(key))
	return fmt.Sprintf("veth%08x", h.Sum32())
}

// Setup gives the pod its namespace, veth and address. A pod whose eth0 already
// has an address (an agent restart) keeps it.
func (n *PodNet) Setup(ctx context.Context, key string) (Pod, error) {
	n.mu.Lock()
	ipam := n.ipam
	n.mu.Unlock()
	if ipam == nil {
		return Pod{}, fmt.Errorf("node network not configured yet: %w", errdefs.ErrUnavailable)
	}
	pod, err := n.NetNS.Setup(ctx, key)
	if err != nil {
		return Pod{}, err
	}
	ns, err := netns.GetFromPath(pod.NetNSPath)
	if err != nil {
		return Pod{}, fmt.Errorf("open pod netns: %w", err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return Pod{}, fmt.Errorf("netlink in pod netns: %w", err)
	}
	defer h.Close()

	host := vethName(key)
	if eth, err := h.LinkByName("eth0"); err == nil {
		if _, herr := netlink.LinkByName(host); herr == nil {
			addrs, _ := h.AddrList(eth, netlink.FAMILY_V4)
			for _, a := range addrs {
				if ip, ok := netip.AddrFromSlice(a.IP.To4()); ok && ipam.CIDR().Contains(ip) {
					if err := ipam.Reserve(key, ip); err == nil {
						pod.IP = ip.String()
						return pod, nil
					}
				}
			}
		}
		_ = h.LinkDel(eth) // half made: start over
	}
	if l, err := netlink.LinkByName(host); err == nil {
		_ = netlink.LinkDel(l)
	}

	ip, err := ipam.Allocate(key)
	if err != nil {
		return Pod{}, err
	}
	br, err := netlink.LinkByName(n.Bridge)
	if err != nil {
		return Pod{}, fmt.Errorf("find bridge %s: %w", n.Bridge, err)
	}
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: host, MasterIndex: br.Attrs().Index, MTU: br.Attrs().MTU},
		PeerName:      "eth0",
		PeerNamespace: netlink.NsFd(int(ns)),
	}
	if err := netlink.LinkAdd(veth); err != nil {
		return Pod{}, fmt.Errorf("create veth %s: %w", host, err)
	}
	hl, err := netlink.LinkByName(host)
	if err != nil {
		return Pod{}, fmt.Errorf("find veth %s: %w", host, err)
	}
	_ = netlink.LinkSetAlias(hl, vethAliasPrefix+key)
	if err := netlink.LinkSetUp(hl); err != nil {
		return Pod{}, fmt.Errorf("set %s up: %w", host, err)
	}
	eth, err := h.LinkByName("eth0")
	if err != nil {
		return Pod{}, fmt.Errorf("find eth0 in pod: %w", err)
	}
	cidr := ipam.CIDR()
	if err := h.AddrAdd(eth, &netlink.Addr{IPNet: &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(cidr.Bits(), 32)}}); err != nil && !errors.Is(err, unix.EEXIST) {
		return Pod{}, fmt.Errorf("address %s on eth0: %w", ip, err)
	}
	if err := h.LinkSetUp(eth); err != nil {
		return Pod{}, fmt.Errorf("set eth0 up: %w", err)
	}
	def := &netlink.Route{LinkIndex: eth.Attrs().Index, Gw: ipam.Gateway().AsSlice()}
	if err := h.RouteReplace(def); err != nil {
		return Pod{}, fmt.Errorf("default route in pod: %w", err)
	}
	pod.IP = ip.String()
	n.Log.Debug("pod network ready", "pod", key, "ip", pod.IP, "veth", host)
	return pod, nil
}

// Teardown removes the pod's veth and namespace and releases its address.
func (n *PodNet) Teardown(ctx context.Context, key string) error {
	var errs []error
	if l, err := netlink.LinkByName(vethName(key)); err == nil {
		if err := netlink.LinkDel(l); err != nil {
			errs = append(errs, fmt.Errorf("remove veth: %w", err))
		}
	}
	if err := n.NetNS.Teardown(ctx, key); err != nil {
		errs = append(errs, err)
	}
	n.mu.Lock()
	ipam := n.ipam
	n.mu.Unlock()
	if ipam != nil {
		if err := ipam.Release(key); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// sweepLocked releases the addresses of pods whose namespace is gone and
// removes veths of the agent's that belong to no pod namespace.
func (n *PodNet) sweepLocked() error {
	keys, err := n.ipam.Keys()
	if err != nil {
		return err
	}
	var errs []error
	for _, k := range keys {
		if !IsNetNS(n.NetNS.Path(k)) {
			errs = append(errs, n.ipam.Release(k))
		}
	}
	links, err := netlink.LinkList()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, l := range links {
		alias := l.Attrs().Alias
		if len(alias) <= len(vethAliasPrefix) || alias[:len(vethAliasPrefix)] != vethAliasPrefix {
			continue
		}
		if !IsNetNS(n.NetNS.Path(alias[len(vethAliasPrefix):])) {
			errs = append(errs, netlink.LinkDel(l))
		}
	}
	return errors.Join(errs...)
}

// Remove takes the node's pod network down: routes to other nodes' pods, the
// bridge, the address allocations, and any pod veths and namespaces left
// behind (there are none once the node's pods are gone). IP forwarding is
// left as it is: other software on the node may rely on it.
func (n *PodNet) Remove(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	errs := []error{syncRoutes(nil)}
	if links, err := netlink.LinkList(); err != nil {
		errs = append(errs, fmt.Errorf("list links: %w", err))
	} else {
		for _, l := range links {
			if alias := l.Attrs().Alias; len(alias) > len(vethAliasPrefix) && alias[:len(vethAliasPrefix)] == vethAliasPrefix {
				if err := netlink.LinkDel(l); err != nil {
					errs = append(errs, fmt.Errorf("remove veth %s: %w", l.Attrs().Name, err))
				}
			}
		}
	}
	if br, err := netlink.LinkByName(n.Bridge); err == nil {
		if err := netlink.LinkDel(br); err != nil {
			errs = append(errs, fmt.Errorf("remove bridge %s: %w", n.Bridge, err))
		}
	}
	if n.NetNS != nil && n.NetNS.Dir != "" {
		entries, err := os.ReadDir(n.NetNS.Dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
		for _, e := range entries {
			errs = append(errs, DeleteNetNS(filepath.Join(n.NetNS.Dir, e.Name())))
		}
	}
	path := filepath.Join(n.StateDir, "ipam.json")
	if n.ipam != nil {
		path = n.ipam.path
	}
	for _, p := range []string{path, path + ".lock", path + ".tmp"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	n.ipam, n.cidr = nil, netip.Prefix{}
	return errors.Join(errs...)
}
