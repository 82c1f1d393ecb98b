package agent

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// detectNodeResources measures the node: its CPUs, its memory and the size
// of the filesystem holding dir (the agent's state directory), which is
// what the kubelet counts as ephemeral storage. What cannot be measured is 0.
func detectNodeResources(dir string) nodeResources {
	r := nodeResources{CPUMillis: int64(runtime.NumCPU()) * 1000}
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		r.MemoryBytes = int64(si.Totalram) * int64(si.Unit)
	}
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) == nil {
		r.EphemeralStorageBytes = int64(st.Blocks) * st.Bsize
	}
	return r
}
