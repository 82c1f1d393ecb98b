package main

import (
	"errors"
	"flag"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ordoproject/ordo/agent"
)

func TestParseFlags(t *testing.T) {
	t.Setenv("ORDO_ADDR", "")
	t.Setenv("CONTAINERD_ADDRESS", "")
	cfg, err := parseFlags([]string{
		"--scheduler", "unix:///tmp/ordo.sock", "--node-name", "n1", "--labels", "zone=a, disk = ssd",
		"--address", "10.0.0.1", "--address", "10.0.0.2", "--max-pods", "7",
		"--containerd-address", "/c.sock", "--namespace", "ns", "--state-dir", "/s",
		"--snapshotter", "native", "--cgroup-parent", "/p", "--dns-upstream", "1.1.1.1", "--dns-upstream", "none",
		"--reserved", "cpu=500m, memory=512Mi",
	}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Scheduler != "unix:///tmp/ordo.sock" || cfg.NodeName != "n1" || cfg.MaxPods != 7 ||
		cfg.ContainerdAddress != "/c.sock" || cfg.Namespace != "ns" || cfg.StateDir != "/s" ||
		cfg.Snapshotter != "native" || cfg.CgroupParent != "/p" || cfg.Logger == nil ||
		!maps.Equal(cfg.Labels, map[string]string{"zone": "a", "disk": "ssd"}) ||
		!slices.Equal(cfg.Addresses, []string{"10.0.0.1", "10.0.0.2"}) ||
		!slices.Equal(cfg.DNSUpstreams, []string{"1.1.1.1", "none"}) ||
		cfg.ReservedCPUMillis != 500 || cfg.ReservedMemoryBytes != 512<<20 {
		t.Fatalf("config: %+v", cfg)
	}
}

func TestParseReserved(t *testing.T) {
	for _, c := range []struct {
		in       string
		cpu, mem int64
		err      string
	}{
		{"", 0, 0, ""},
		{"cpu=500m,memory=512Mi", 500, 512 << 20, ""},
		{"cpu=2", 2000, 0, ""},
		{"cpu=0.25", 250, 0, ""},
		{"memory=1G", 0, 1e9, ""},
		{"cpu=-1", 0, 0, `--reserved: cpu: "-1" is not a quantity (examples: 500m, 2, 512Mi)`},
		{"memory=lots", 0, 0, `--reserved: memory: "lots" is not a quantity (examples: 500m, 2, 512Mi)`},
		{"gpu=1", 0, 0, `--reserved: unknown resource "gpu" (cpu, memory)`},
		{"cpu", 0, 0, `--reserved: "cpu" is not resource=quantity`},
	} {
		cpu, mem, err := parseReserved(c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || cpu != c.cpu || mem != c.mem {
			t.Errorf("%q: %d %d %v, want %d %d", c.in, cpu, mem, err, c.cpu, c.mem)
		}
	}
}

func TestParseFlagsDefaults(t *testing.T) {
	t.Setenv("ORDO_ADDR", "127.0.0.1:7070")
	t.Setenv("CONTAINERD_ADDRESS", "")
	cfg, err := parseFlags(nil, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if cfg.Scheduler != "127.0.0.1:7070" || cfg.NodeName != host || cfg.MaxPods != agent.DefaultMaxPods ||
		cfg.ContainerdAddress != agent.DefaultContainerdAddress || cfg.Namespace != agent.DefaultNamespace ||
		cfg.StateDir != agent.DefaultStateDir || cfg.Snapshotter != "" || cfg.CgroupParent != "" ||
		cfg.Labels == nil || len(cfg.Labels) != 0 || cfg.DNSUpstreams != nil ||
		cfg.ReservedCPUMillis != 0 || cfg.ReservedMemoryBytes != 0 {
		t.Fatalf("config: %+v", cfg)
	}

	t.Setenv("CONTAINERD_ADDRESS", "/env.sock")
	if cfg, err := parseFlags(nil, os.Stderr); err != nil || cfg.ContainerdAddress != "/env.sock" {
		t.Fatalf("containerd address from the environment: %q %v", cfg.ContainerdAddress, err)
	}
}

func TestParseFlagsErrors(t *testing.T) {
	t.Setenv("ORDO_ADDR", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "--scheduler (or ORDO_ADDR) is required"},
		{[]string{"--scheduler", "x", "--labels", "bad"}, `--labels: "bad" is not key=value`},
		{[]string{"--scheduler", "x", "--labels", "=v"}, `--labels: "=v" is not key=value`},
		{[]string{"--scheduler", "x", "extra"}, "unexpected arguments: [extra]"},
		{[]string{"--bogus"}, "flag provided but not defined: -bogus"},
	} {
		var stderr strings.Builder
		_, err := parseFlags(c.args, &stderr)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: error %v, want %q", c.args, err, c.want)
		}
	}

	var stderr strings.Builder
	if _, err := parseFlags([]string{"--help"}, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	if !strings.HasPrefix(stderr.String(), "Usage of ordo-agent:\n") || !strings.Contains(stderr.String(), "-dns-upstream value") {
		t.Fatalf("usage:\n%s", stderr.String())
	}
}
