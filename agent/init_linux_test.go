package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/pkg/namespaces"
	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/identity"
	"github.com/ordoproject/ordo/internal/testimage"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// withVolume gives pod a volume mounted at path in every container.
func withVolume(pod *ordov1.Pod, rv *ordov1.ResolvedVolume, path string) {
	pod.ResolvedVolumes = append(pod.ResolvedVolumes, rv)
	for _, c := range append(append([]*ordov1.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...) {
		c.VolumeMounts = append(c.VolumeMounts, &ordov1.VolumeMount{Name: rv.Name, MountPath: path})
	}
}

func shContainer(name, script string) *ordov1.Container {
	return &ordov1.Container{Name: name, Image: testimage.DefaultName, ImagePullPolicy: "Never", Command: []string{"sh", "-c", script}}
}

func TestInitContainersRunInOrderAndSidecarKeepsRunning(t *testing.T) {
	c := sharedContainerd(t)
	state := t.TempDir()
	ta := newTestAgent(t, c, state)
	ctx := context.Background()
	pod := testPod("init-0", 1, shContainer("app", "echo app >> /work/log; sleep 1000"))
	side := shContainer("side", "echo side >> /work/log; sleep 1000")
	side.RestartPolicy = "Always"
	pod.Spec.InitContainers = []*ordov1.Container{
		side,
		shContainer("first", "echo first >> /work/log"),
		shContainer("second", "sleep 0.5; echo second >> /work/log"),
	}
	withVolume(pod, &ordov1.ResolvedVolume{Name: "work", EmptyDir: &ordov1.EmptyDirVolumeSource{}}, "/work")
	ta.ApplyDesired([]*ordov1.Pod{pod})
	reasons := map[string]bool{}
	r := ta.waitReport(t, "init-0 ready", func(r *ordov1.PodStatusReport) bool {
		if r.GetName() != "init-0" {
			return false
		}
		reasons[r.GetStatus().GetReason()] = true
		if r.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_RUNNING && len(r.GetStatus().GetContainers()) == 1 &&
			!r.GetStatus().GetContainers()[0].GetRunning() {
			t.Error("pod Running before its app container")
		}
		return r.GetStatus().GetReady()
	})
	if !reasons["Init:2/3"] {
		t.Errorf("reasons seen = %v, want Init:2/3 while the second init container runs", reasons)
	}
	ics := r.GetStatus().GetInitContainers()
	if len(ics) != 3 || ics[0].GetName() != "side" || !ics[0].GetRunning() || ics[1].GetReason() != "Completed" ||
		ics[2].GetReason() != "Completed" || ics[2].GetRunning() || ics[1].GetContainerId() != identity.ContainerID("default", "init-0", "first") {
		t.Errorf("init container statuses = %v", ics)
	}
	app := identity.ContainerID("default", "init-0", "app")
	if out, _, _ := execOutput(ctx, ta.rt, app, "cat", "/work/log"); out != "side\nfirst\nsecond\napp\n" {
		t.Errorf("order of runs = %q", out)
	}
	cctx := namespaces.WithNamespace(ctx, testNamespace)
	for _, name := range []string{"side", "first", "second"} {
		if _, err := c.client.LoadContainer(cctx, identity.ContainerID("default", "init-0", name)); err != nil {
			t.Errorf("init container %s not in containerd: %v", name, err)
		}
	}

	// A sidecar that dies is started again; the app keeps running.
	if err := ta.rt.Signal(ctx, identity.ContainerID("default", "init-0", "side"), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r = ta.waitReport(t, "sidecar restarted", func(r *ordov1.PodStatusReport) bool {
		ics := r.GetStatus().GetInitContainers()
		return r.GetName() == "init-0" && len(ics) == 3 && ics[0].GetRestartCount() == 1 && ics[0].GetRunning()
	})
	if cs := r.GetStatus().GetContainers()[0]; !cs.GetRunning() || cs.GetRestartCount() != 0 {
		t.Errorf("app after the sidecar restarted: %v", cs)
	}
	if out, _, _ := execOutput(ctx, ta.rt, app, "cat", "/work/log"); out != "side\nfirst\nsecond\napp\nside\n" {
		t.Errorf("runs after the sidecar restarted = %q", out)
	}

	// A restarted agent adopts the pod without running its init containers again.
	ta.exit()
	ta = newTestAgent(t, c, state)
	ta.ApplyDesired([]*ordov1.Pod{pod})
	r = ta.waitReport(t, "init-0 adopted", func(r *ordov1.PodStatusReport) bool { return r.GetName() == "init-0" && r.GetStatus().GetReady() })
	if ics := r.GetStatus().GetInitContainers(); len(ics) != 3 || !ics[0].GetRunning() || ics[0].GetRestartCount() != 1 || ics[2].GetReason() != "Completed" {
		t.Errorf("init container statuses after adoption = %v", ics)
	}
	if out, _, _ := execOutput(ctx, ta.rt, app, "cat", "/work/log"); out != "side\nfirst\nsecond\napp\nside\n" {
		t.Errorf("runs after the agent restarted = %q", out)
	}
	ta.ApplyDesired(nil)
	ta.waitReport(t, "init-0 gone", phaseIs("init-0", 1, ordov1.PodPhase_POD_PHASE_GONE))
	for _, name := range []string{"side", "first", "app"} {
		if _, err := c.client.LoadContainer(cctx, identity.ContainerID("default", "init-0", name)); err == nil {
			t.Errorf("container %s left after GONE", name)
		}
	}
}

func TestFailingInitContainerHoldsThePod(t *testing.T) {
	c := sharedContainerd(t)
	ta := newTestAgent(t, c, t.TempDir())
	pod := testPod("initfail-0", 1, shContainer("app", "sleep 1000"))
	pod.Spec.InitContainers = []*ordov1.Container{shContainer("ok", "true"), shContainer("bad", "exit 3")}
	ta.ApplyDesired([]*ordov1.Pod{pod})
	seen := map[string]bool{}
	r := ta.waitReport(t, "Init:CrashLoopBackOff", func(r *ordov1.PodStatusReport) bool {
		if r.GetName() != "initfail-0" {
			return false
		}
		seen[r.GetStatus().GetReason()] = true
		if len(r.GetStatus().GetContainers()) > 0 && r.GetStatus().GetContainers()[0].GetRunning() {
			t.Fatal("app container started though an init container fails")
		}
		return r.GetStatus().GetReason() == "Init:CrashLoopBackOff"
	})
	if !seen["Init:Error"] {
		t.Errorf("reasons seen = %v, want Init:Error before Init:CrashLoopBackOff", seen)
	}
	if r.GetStatus().GetPhase() != ordov1.PodPhase_POD_PHASE_PENDING {
		t.Errorf("phase = %v", r.GetStatus().GetPhase())
	}
	if ics := r.GetStatus().GetInitContainers(); len(ics) != 2 || ics[1].GetLastExitCode() != 3 || ics[1].GetRestartCount() < 1 {
		t.Errorf("init statuses = %v", ics)
	}
	ta.ApplyDesired(nil)
	ta.waitReport(t, "initfail-0 gone", phaseIs("initfail-0", 1, ordov1.PodPhase_POD_PHASE_GONE))

	// With restartPolicy Never the pod fails, still showing Init:Error.
	pod = testPod("initnever-0", 1, shContainer("app", "sleep 1000"))
	pod.Spec.RestartPolicy = "Never"
	pod.Spec.InitContainers = []*ordov1.Container{shContainer("bad", "exit 1")}
	ta.ApplyDesired([]*ordov1.Pod{pod})
	r = ta.waitReport(t, "initnever-0 failed", phaseIs("initnever-0", 1, ordov1.PodPhase_POD_PHASE_FAILED))
	if r.GetStatus().GetReason() != "Init:Error" {
		t.Errorf("reason = %q, want Init:Error", r.GetStatus().GetReason())
	}
	ta.ApplyDesired(nil)
	ta.waitReport(t, "initnever-0 gone", phaseIs("initnever-0", 1, ordov1.PodPhase_POD_PHASE_GONE))
}

func TestLifecycleHooks(t *testing.T) {
	c := sharedContainerd(t)
	ta := newTestAgent(t, c, t.TempDir())
	ctx := context.Background()
	out := t.TempDir()
	app := shContainer("app", "trap 'echo term >> /out/order; exit 0' TERM; while true; do sleep 0.1; done")
	app.Lifecycle = &ordov1.Lifecycle{
		PostStart: &ordov1.LifecycleHandler{Exec: &ordov1.ExecAction{Command: []string{"sh", "-c", "echo started > /out/post"}}},
		PreStop:   &ordov1.LifecycleHandler{Exec: &ordov1.ExecAction{Command: []string{"sh", "-c", "echo prestop >> /out/order"}}},
	}
	slow := shContainer("slow", "sleep 1000")
	slow.Lifecycle = &ordov1.Lifecycle{PreStop: &ordov1.LifecycleHandler{Sleep: true, SleepSeconds: 30}}
	pod := testPod("hooks-0", 1, app)
	pod.Spec.Containers = append(pod.Spec.Containers, slow)
	pod.Spec.TerminationGracePeriodSeconds = proto.Int64(2)
	withVolume(pod, &ordov1.ResolvedVolume{Name: "out", HostPath: &ordov1.HostPathVolumeSource{Path: out}}, "/out")
	ta.ApplyDesired([]*ordov1.Pod{pod})
	ta.waitReport(t, "hooks-0 running", phaseIs("hooks-0", 1, ordov1.PodPhase_POD_PHASE_RUNNING))
	// The hook ran before the pod was reported running.
	if b, err := os.ReadFile(filepath.Join(out, "post")); err != nil || string(b) != "started\n" {
		t.Errorf("postStart effect = %q %v", b, err)
	}
	if s, _, _ := execOutput(ctx, ta.rt, identity.ContainerID("default", "hooks-0", "app"), "cat", "/out/post"); s != "started\n" {
		t.Errorf("postStart effect in the container = %q", s)
	}
	t0 := time.Now()
	ta.ApplyDesired(nil)
	ta.waitReport(t, "hooks-0 gone", phaseIs("hooks-0", 1, ordov1.PodPhase_POD_PHASE_GONE))
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("stopping took %v with a 2s grace period (a 30s preStop sleep must not hold it)", d)
	}
	if b, err := os.ReadFile(filepath.Join(out, "order")); err != nil || string(b) != "prestop\nterm\n" {
		t.Errorf("preStop then SIGTERM: %q %v", b, err)
	}
}

func TestFailingPostStartHookKillsTheContainer(t *testing.T) {
	c := sharedContainerd(t)
	ta := newTestAgent(t, c, t.TempDir())
	app := shContainer("app", "sleep 1000")
	app.Lifecycle = &ordov1.Lifecycle{PostStart: &ordov1.LifecycleHandler{HttpGet: &ordov1.HTTPGetAction{Port: 1, Path: "/"}}}
	pod := testPod("hookfail-0", 1, app)
	ta.ApplyDesired([]*ordov1.Pod{pod})
	r := ta.waitReport(t, "PostStartHookError", func(r *ordov1.PodStatusReport) bool {
		cs := r.GetStatus().GetContainers()
		return r.GetName() == "hookfail-0" && len(cs) == 1 && !cs[0].GetRunning() && cs[0].GetReason() == "PostStartHookError"
	})
	if m := r.GetStatus().GetContainers()[0].GetMessage(); !strings.Contains(m, "PostStartHook failed") {
		t.Errorf("message = %q", m)
	}
	ta.waitReport(t, "restarted after the hook failed", func(r *ordov1.PodStatusReport) bool {
		return r.GetName() == "hookfail-0" && r.GetStatus().GetRestarts() >= 1
	})
	ta.ApplyDesired(nil)
	ta.waitReport(t, "hookfail-0 gone", phaseIs("hookfail-0", 1, ordov1.PodPhase_POD_PHASE_GONE))
}
