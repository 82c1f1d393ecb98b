package agent

import (
	"fmt"
	"log/slog"
	"net"
	"os"
)

// Version is reported to the scheduler at registration.
var Version = "dev"

// Defaults of the Config fields that have a fixed one.
const (
	DefaultMaxPods           = 110
	DefaultContainerdAddress = "/run/containerd/containerd.sock" // when $CONTAINERD_ADDRESS is empty too
	DefaultNamespace         = "ordo"
	DefaultStateDir          = "/run/ordo-agent"
)

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
	ImportImages      []string          // image archives loaded into containerd at start (no registry needed)
	// Reserved for the system: left out of what the node reports allocatable.
	ReservedCPUMillis   int64
	ReservedMemoryBytes int64
	Logger              *slog.Logger

	// Volumes makes pod volumes available on the node; Run requires it. The
	// command builds a *volumes.Manager keeping its data under StateDir.
	Volumes VolumeManager
}

// WithDefaults returns c with its empty fields set to their defaults. It fails
// when c has no scheduler address or the host name cannot be read.
func (c Config) WithDefaults() (Config, error) {
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
		c.ContainerdAddress = DefaultContainerdAddress
	}
	if c.Namespace == "" {
		c.Namespace = DefaultNamespace
	}
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	if c.MaxPods <= 0 {
		c.MaxPods = DefaultMaxPods
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
