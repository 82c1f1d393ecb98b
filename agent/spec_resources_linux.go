package agent

import (
	"context"
	"os"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// CPU constants of Kubernetes' cgroup conversion.
const (
	cfsPeriodUs    = 100000 // the CFS period every quota is given against
	minQuotaUs     = 1000   // the smallest quota the kernel accepts
	minCPUShares   = 2
	sharesPerCPU   = 1024
	milliCPUPerCPU = 1000
)

// cpuShares is Kubernetes' conversion of a CPU request to cgroup shares.
func cpuShares(milli int64) uint64 {
	shares := milli * sharesPerCPU / milliCPUPerCPU
	if shares < minCPUShares {
		return minCPUShares
	}
	return uint64(shares)
}

// cpuQuota is the CFS quota of a CPU limit against a period of cfsPeriodUs.
func cpuQuota(milli int64) int64 {
	q := milli * cfsPeriodUs / milliCPUPerCPU
	if q < minQuotaUs {
		return minQuotaUs
	}
	return q
}

// swapControllerAvailable tells whether the node's memory cgroup controls swap;
// then a memory limit also forbids swapping beyond it, as Kubernetes does.
var swapControllerAvailable = func() bool {
	for _, p := range []string{
		"/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", // v1
		"/sys/fs/cgroup/memory.swap.max",                    // v2 (any child has it)
	} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// WithResources sets the container's cgroup limits the way the kubelet does: a
// CPU limit is a CFS quota per 100 ms period, a CPU request (or, without one,
// the limit) is cpu.shares (milliCPU·1024/1000, at least 2), a memory limit
// is memory.limit (and the memory+swap limit, when the node has it).
// Containers without a request keep the cgroup's default shares.
func WithResources(r Resources) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		req := r.CPURequestMillis
		if req == 0 {
			req = r.CPULimitMillis
		}
		if req == 0 && r.CPULimitMillis == 0 && r.MemoryLimitBytes == 0 {
			return nil
		}
		if s.Linux == nil {
			s.Linux = &specs.Linux{}
		}
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		res := s.Linux.Resources
		if req > 0 || r.CPULimitMillis > 0 {
			if res.CPU == nil {
				res.CPU = &specs.LinuxCPU{}
			}
		}
		if req > 0 {
			shares := cpuShares(req)
			res.CPU.Shares = &shares
		}
		if r.CPULimitMillis > 0 {
			quota, period := cpuQuota(r.CPULimitMillis), uint64(cfsPeriodUs)
			res.CPU.Quota, res.CPU.Period = &quota, &period
		}
		if r.MemoryLimitBytes > 0 {
			if res.Memory == nil {
				res.Memory = &specs.LinuxMemory{}
			}
			limit := r.MemoryLimitBytes
			res.Memory.Limit = &limit
			if swapControllerAvailable() {
				swap := limit
				res.Memory.Swap = &swap
			}
		}
		return nil
	}
}

// WithCgroupMount mounts the container's own cgroups read-only at
// /sys/fs/cgroup, as Kubernetes does, so that programs can read their limits
// (a JVM sizes its heap from memory.limit_in_bytes or memory.max). A mount
// already there is kept.
func WithCgroupMount() oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		for _, m := range s.Mounts {
			if m.Destination == "/sys/fs/cgroup" {
				return nil
			}
		}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup",
			Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}})
		return nil
	}
}
