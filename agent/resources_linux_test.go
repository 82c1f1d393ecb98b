package agent

import (
	"context"
	"strings"
	"syscall"
	"testing"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// cgroupValue reads a file of the container's own cgroup from inside it, as
// cgroup v1 (file) or v2 (file2) names it.
func cgroupValue(t *testing.T, ta *testAgent, id, v1, v2 string) string {
	t.Helper()
	out, code, err := execOutput(context.Background(), ta.rt, id, "sh", "-c", "cat "+v1+" 2>/dev/null || cat "+v2)
	if err != nil || code != 0 {
		t.Fatalf("read cgroup in %s: %q %d %v", id, out, code, err)
	}
	return strings.TrimSpace(out)
}

func TestResourcesBecomeCgroupLimits(t *testing.T) {
	c := sharedContainerd(t)
	ta := newTestAgent(t, c, t.TempDir())
	pod := testPod("res-0", 1, &ordov1.Container{
		Name:    "app",
		Command: []string{"sleep", "1000"},
		Resources: &ordov1.ResourceRequirements{
			CpuLimitMillis: 500, CpuRequestMillis: 250, MemoryLimitBytes: 64 << 20,
		},
	})
	ta.ApplyDesired([]*ordov1.Pod{pod})
	ta.waitReport(t, "res-0 running", phaseIs("res-0", 1, ordov1.PodPhase_POD_PHASE_RUNNING))
	id := identity.ContainerID("default", "res-0", "app")

	if got := cgroupValue(t, ta, id, "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max"); got != "67108864" {
		t.Errorf("memory limit in the container = %q, want 67108864", got)
	}
	got := cgroupValue(t, ta, id, "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu.max")
	if got != "50000" && got != "50000 100000" {
		t.Errorf("cpu quota in the container = %q, want 50000 (per 100000)", got)
	}
	got = cgroupValue(t, ta, id, "/sys/fs/cgroup/cpu/cpu.shares", "/sys/fs/cgroup/cpu.weight")
	// v2 weight is converted from the shares by runc: 1 + ((256-2)*9999)/262142.
	if got != "256" && got != "10" {
		t.Errorf("cpu shares in the container = %q, want 256 (v2: weight 10)", got)
	}
	ta.ApplyDesired(nil)
	ta.waitReport(t, "res-0 gone", phaseIs("res-0", 1, ordov1.PodPhase_POD_PHASE_GONE))
}

func TestContainerOverItsMemoryLimitIsOOMKilled(t *testing.T) {
	c := sharedContainerd(t)
	ta := newTestAgent(t, c, t.TempDir())
	// tmpfs pages count against the container's memory: 200 MiB into /dev/shm
	// cannot fit under a 20 MiB limit.
	pod := testPod("oom-0", 1, &ordov1.Container{
		Name:      "app",
		Command:   []string{"/bin/busybox", "dd", "if=/dev/zero", "of=/dev/shm/x", "bs=1M", "count=200"},
		Resources: &ordov1.ResourceRequirements{MemoryLimitBytes: 20 << 20},
	})
	ta.ApplyDesired([]*ordov1.Pod{pod})
	// The container restarts with back-off: the kill shows as the reason, or,
	// once back-off has begun, in the back-off message.
	r := ta.waitReport(t, "oom-0 OOMKilled", func(r *ordov1.PodStatusReport) bool {
		cs := r.GetStatus().GetContainers()
		return r.GetName() == "oom-0" && len(cs) == 1 && (cs[0].GetReason() == "OOMKilled" || strings.Contains(cs[0].GetMessage(), "OOMKilled"))
	})
	cs := r.GetStatus().GetContainers()[0]
	if cs.GetLastExitCode() != 137 || r.GetStatus().GetExitCode() != 137 {
		t.Errorf("exit code = %d/%d, want 137", cs.GetLastExitCode(), r.GetStatus().GetExitCode())
	}
	if r.GetStatus().GetReason() != "OOMKilled" && !strings.Contains(r.GetStatus().GetMessage(), "OOMKilled") {
		t.Errorf("pod reason %q, message %q: want OOMKilled", r.GetStatus().GetReason(), r.GetStatus().GetMessage())
	}
	ta.ApplyDesired(nil)
	ta.waitReport(t, "oom-0 gone", phaseIs("oom-0", 1, ordov1.PodPhase_POD_PHASE_GONE))

	// A container killed by SIGKILL from outside is not OOMKilled.
	pod = testPod("kill-0", 1, &ordov1.Container{Name: "app", Command: []string{"sleep", "1000"},
		Resources: &ordov1.ResourceRequirements{MemoryLimitBytes: 20 << 20}})
	ta.ApplyDesired([]*ordov1.Pod{pod})
	ta.waitReport(t, "kill-0 running", phaseIs("kill-0", 1, ordov1.PodPhase_POD_PHASE_RUNNING))
	if err := ta.rt.Signal(context.Background(), identity.ContainerID("default", "kill-0", "app"), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r = ta.waitReport(t, "kill-0 exited", func(r *ordov1.PodStatusReport) bool {
		cs := r.GetStatus().GetContainers()
		return r.GetName() == "kill-0" && len(cs) == 1 && cs[0].GetLastExitCode() == 137
	})
	if reason := r.GetStatus().GetContainers()[0].GetReason(); reason != "Error" {
		t.Errorf("reason of a container killed by a signal = %q, want Error", reason)
	}
	ta.ApplyDesired(nil)
	ta.waitReport(t, "kill-0 gone", phaseIs("kill-0", 1, ordov1.PodPhase_POD_PHASE_GONE))
}
