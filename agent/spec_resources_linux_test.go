package agent

import (
	"testing"

	"github.com/containerd/containerd/v2/pkg/oci"
)

func TestCPUConversions(t *testing.T) {
	for _, c := range []struct {
		milli  int64
		shares uint64
		quota  int64
	}{
		{0, 2, 1000}, {1, 2, 1000}, {100, 102, 10000}, {250, 256, 25000}, {1000, 1024, 100000}, {2500, 2560, 250000},
	} {
		if got := cpuShares(c.milli); got != c.shares {
			t.Errorf("cpuShares(%d) = %d, want %d", c.milli, got, c.shares)
		}
		if got := cpuQuota(c.milli); got != c.quota {
			t.Errorf("cpuQuota(%d) = %d, want %d", c.milli, got, c.quota)
		}
	}
}

func TestWithResourcesOnEmptySpec(t *testing.T) {
	defer func(f func() bool) { swapControllerAvailable = f }(swapControllerAvailable)
	swapControllerAvailable = func() bool { return true }

	var s oci.Spec
	apply(t, &s, WithResources(Resources{}))
	if s.Linux != nil {
		t.Fatal("no resources changed the spec")
	}
	apply(t, &s, WithResources(Resources{CPULimitMillis: 500, CPURequestMillis: 250, MemoryLimitBytes: 64 << 20}))
	cpu, mem := s.Linux.Resources.CPU, s.Linux.Resources.Memory
	if *cpu.Shares != 256 || *cpu.Quota != 50000 || *cpu.Period != 100000 {
		t.Errorf("cpu = shares %d quota %d period %d", *cpu.Shares, *cpu.Quota, *cpu.Period)
	}
	if *mem.Limit != 64<<20 || *mem.Swap != 64<<20 {
		t.Errorf("memory = limit %d swap %d", *mem.Limit, *mem.Swap)
	}

	// A limit without a request: the request is the limit, as Kubernetes defaults it.
	s = oci.Spec{}
	apply(t, &s, WithResources(Resources{CPULimitMillis: 2000}))
	if cpu := s.Linux.Resources.CPU; *cpu.Shares != 2048 || *cpu.Quota != 200000 || s.Linux.Resources.Memory != nil {
		t.Errorf("limit only: %+v %+v", cpu, s.Linux.Resources.Memory)
	}
	// A request without a limit: shares only.
	s = oci.Spec{}
	apply(t, &s, WithResources(Resources{CPURequestMillis: 1}))
	if cpu := s.Linux.Resources.CPU; *cpu.Shares != 2 || cpu.Quota != nil || cpu.Period != nil {
		t.Errorf("request only: %+v", cpu)
	}
	// Without a swap controller the memory+swap limit is left alone.
	swapControllerAvailable = func() bool { return false }
	s = oci.Spec{}
	apply(t, &s, WithResources(Resources{MemoryLimitBytes: 1 << 20}))
	if mem := s.Linux.Resources.Memory; *mem.Limit != 1<<20 || mem.Swap != nil || s.Linux.Resources.CPU != nil {
		t.Errorf("memory only: %+v cpu %+v", mem, s.Linux.Resources.CPU)
	}
}

func TestWithCgroupMountOnEmptySpec(t *testing.T) {
	var s oci.Spec
	apply(t, &s, WithCgroupMount(), WithCgroupMount())
	if len(s.Mounts) != 1 || s.Mounts[0].Destination != "/sys/fs/cgroup" || s.Mounts[0].Type != "cgroup" || s.Mounts[0].Options[4] != "ro" {
		t.Errorf("mounts = %+v", s.Mounts)
	}
}
