package agent

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
)

// Version is reported to the scheduler at registration.
var Version = "dev"

// Config is the agent's configuration.
type Config struct {
	Scheduler         string            // unix:///path or host:port
	NodeName          string            // default: the host name
	Labels            map[string]string // node labels
	Addresses         []string          // default: the node's non-loopback addresses
	MaxPods           int32             // default 110
	ContainerdAddress string            // default $CONTAINERD_ADDRESS or /run/containerd/containerd.sock
	Namespace         string            // containerd namespace, default "ordo"
	StateDir          string            // default /run/ordo-agent
	Snapshotter       string            // default: containerd's (overlayfs)
	CgroupParent      string            // default: containerd's /<namespace>/<container>
	DNSUpstreams      []string          // for names outside the cluster domain; default: /etc/resolv.conf; "none": refuse
	Logger            *slog.Logger
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// ParseFlags reads the agent's command line into a Config with defaults applied.
func ParseFlags(args []string) (Config, error) {
	fs := flag.NewFlagSet("ordo-agent", flag.ContinueOnError)
	var (
		cfg    Config
		labels string
		addrs  listFlag
		dnsUp  listFlag
		max    int
	)
	fs.StringVar(&cfg.Scheduler, "scheduler", os.Getenv("ORDO_ADDR"), "scheduler address: unix:///path/ordo.sock or host:port (env ORDO_ADDR)")
	fs.StringVar(&cfg.NodeName, "node-name", "", "node name (default: the host name)")
	fs.StringVar(&labels, "labels", "", "node labels k=v,k2=v2")
	fs.Var(&addrs, "address", "node address (repeatable; default: the node's non-loopback addresses)")
	fs.IntVar(&max, "max-pods", 110, "most pods this node runs")
	fs.StringVar(&cfg.ContainerdAddress, "containerd-address", "", "containerd socket (default $CONTAINERD_ADDRESS or /run/containerd/containerd.sock)")
	fs.StringVar(&cfg.Namespace, "namespace", "ordo", "containerd namespace")
	fs.StringVar(&cfg.StateDir, "state-dir", "/run/ordo-agent", "directory for pod network namespaces, files and logs")
	fs.StringVar(&cfg.Snapshotter, "snapshotter", "", "containerd snapshotter (default: containerd's default, overlayfs)")
	fs.StringVar(&cfg.CgroupParent, "cgroup-parent", "", "cgroup under which pod containers go, as <parent>/<container> (default: containerd's /<namespace>/<container>)")
	fs.Var(&dnsUp, "dns-upstream", "DNS server (host[:port], repeatable) for names outside the cluster domain; \"none\" refuses them (default: the node's /etc/resolv.conf)")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	l, err := parseLabels(labels)
	if err != nil {
		return Config{}, err
	}
	cfg.Labels = l
	cfg.Addresses = addrs
	cfg.DNSUpstreams = dnsUp
	cfg.MaxPods = int32(max)
	return cfg.withDefaults()
}

func parseLabels(s string) (map[string]string, error) {
	out := map[string]string{}
	if s == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("--labels: %q is not key=value", kv)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

func (c Config) withDefaults() (Config, error) {
	if c.Scheduler == "" {
		return c, fmt.Errorf("--scheduler (or ORDO_ADDR) is required")
	}
	if c.NodeName == "" {
		h, err := os.Hostname()
		if err != nil {
			return c, fmt.Errorf("node name: %w", err)
		}
		c.NodeName = h
	}
	if c.ContainerdAddress == "" {
		c.ContainerdAddress = os.Getenv("CONTAINERD_ADDRESS")
	}
	if c.ContainerdAddress == "" {
		c.ContainerdAddress = "/run/containerd/containerd.sock"
	}
	if c.Namespace == "" {
		c.Namespace = "ordo"
	}
	if c.StateDir == "" {
		c.StateDir = "/run/ordo-agent"
	}
	if c.MaxPods <= 0 {
		c.MaxPods = 110
	}
	if len(c.Addresses) == 0 {
		c.Addresses = hostAddresses()
	}
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// hostAddresses are the node's global unicast addresses.
func hostAddresses() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.IsGlobalUnicast() {
			out = append(out, ipn.IP.String())
		}
	}
	return out
}
