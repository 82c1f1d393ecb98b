package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ordoproject/ordo/agent"
	"github.com/ordoproject/ordo/internal/cliflag"
	"k8s.io/apimachinery/pkg/api/resource"
)

// parseFlags reads the agent's command line into an agent.Config with defaults
// applied. Usage and flag errors go to stderr.
func parseFlags(args []string, stderr io.Writer) (agent.Config, error) {
	fs := flag.NewFlagSet("ordo-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg     agent.Config
		labels  string
		addrs   cliflag.List
		dnsUp   cliflag.List
		imports cliflag.List
		maxPods int
		reserve string
	)
	fs.StringVar(&cfg.Scheduler, "scheduler", os.Getenv("ORDO_ADDR"), "scheduler address: unix:///path/ordo.sock or host:port (env ORDO_ADDR)")
	fs.StringVar(&cfg.NodeName, "node-name", "", "node name (default: the host name)")
	fs.StringVar(&labels, "labels", "", "node labels k=v,k2=v2")
	fs.Var(&addrs, "address", "node address (repeatable; default: the node's non-loopback addresses)")
	fs.IntVar(&maxPods, "max-pods", agent.DefaultMaxPods, "most pods this node runs")
	fs.StringVar(&cfg.ContainerdAddress, "containerd-address", "", "containerd socket (default $CONTAINERD_ADDRESS or "+agent.DefaultContainerdAddress+")")
	fs.StringVar(&cfg.Namespace, "namespace", agent.DefaultNamespace, "containerd namespace")
	fs.StringVar(&cfg.StateDir, "state-dir", agent.DefaultStateDir, "directory for pod network namespaces, files and logs")
	fs.StringVar(&cfg.Snapshotter, "snapshotter", "", "containerd snapshotter (default: containerd's default, overlayfs)")
	fs.StringVar(&cfg.CgroupParent, "cgroup-parent", "", "cgroup under which pod containers go, as <parent>/<container> (default: containerd's /<namespace>/<container>)")
	fs.Var(&dnsUp, "dns-upstream", "DNS server (host[:port], repeatable) for names outside the cluster domain; \"none\" refuses them (default: the node's /etc/resolv.conf)")
	fs.Var(&imports, "import-image", "OCI or Docker image archive to load into containerd at start (repeatable), for nodes without a registry")
	fs.StringVar(&reserve, "reserved", "", "resources kept for the system, left out of what pods may request: cpu=500m,memory=512Mi (default none)")
	if err := fs.Parse(args); err != nil {
		return agent.Config{}, err
	}
	if fs.NArg() > 0 {
		return agent.Config{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	l, err := parseLabels(labels)
	if err != nil {
		return agent.Config{}, err
	}
	cfg.Labels = l
	if cfg.ReservedCPUMillis, cfg.ReservedMemoryBytes, err = parseReserved(reserve); err != nil {
		return agent.Config{}, err
	}
	cfg.Addresses = addrs
	cfg.DNSUpstreams = dnsUp
	cfg.ImportImages = imports
	cfg.MaxPods = int32(maxPods)
	return cfg.WithDefaults()
}

// parseLabels reads --labels: k=v pairs separated by commas.
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

// parseReserved reads --reserved: cpu=<quantity>,memory=<quantity> (either
// may be left out), as Kubernetes writes them ("500m", "1.5", "512Mi").
func parseReserved(s string) (cpuMillis, memoryBytes int64, err error) {
	if strings.TrimSpace(s) == "" {
		return 0, 0, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || v == "" {
			return 0, 0, fmt.Errorf("--reserved: %q is not resource=quantity", kv)
		}
		q, qerr := resource.ParseQuantity(v)
		if qerr != nil || q.Sign() < 0 {
			return 0, 0, fmt.Errorf("--reserved: %s: %q is not a quantity (examples: 500m, 2, 512Mi)", k, v)
		}
		switch k {
		case "cpu":
			cpuMillis = q.MilliValue()
		case "memory":
			memoryBytes = q.Value()
		default:
			return 0, 0, fmt.Errorf("--reserved: unknown resource %q (cpu, memory)", k)
		}
	}
	return cpuMillis, memoryBytes, nil
}
