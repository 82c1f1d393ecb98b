package agent

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// nodeCapacity is what the node has (CPUs the agent may run on, MemTotal) and
// what pods may request of it: that less what is reserved for the system.
func nodeCapacity(maxPods int32, reservedCPUMillis, reservedMemoryBytes int64) *ordov1.NodeCapacity {
	c := &ordov1.NodeCapacity{MaxPods: maxPods, CpuMillis: int64(runtime.NumCPU()) * 1000}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		c.MemoryBytes = memTotal(f)
		f.Close()
	}
	c.AllocatableCpuMillis = allocatable(c.CpuMillis, reservedCPUMillis)
	c.AllocatableMemoryBytes = allocatable(c.MemoryBytes, reservedMemoryBytes)
	return c
}

// allocatable is capacity less reserved, never below 0; 0 (not reported)
// when the capacity is unknown.
func allocatable(capacity, reserved int64) int64 {
	if capacity <= 0 {
		return 0
	}
	return max(capacity-max(reserved, 0), 0)
}

// memTotal reads MemTotal (in bytes) from /proc/meminfo's format; 0 if absent.
func memTotal(r interface{ Read([]byte) (int, error) }) int64 {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}
