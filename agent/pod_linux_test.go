package agent

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/pkg/namespaces"
	cerrdefs "github.com/containerd/errdefs"

	"github.com/ordoproject/ordo/internal/identity"
	"github.com/ordoproject/ordo/network"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func TestPodRunsWithHostnameReadinessAndIsRemoved(t *testing.T) {
	c := sharedContainerd(t)
	ta := newTestAgent(t, c, t.TempDir())
	ctx := context.Background()

	pod := testPod("web-0", 3, &ordov1.Container{
		Name:    "app",
		Command: []string{"sh", "-c", "hostname > /tmp/h; sleep 1000"},
		ReadinessProbe: &ordov1.Probe{
			Exec:     &ordov1.ExecAction{Command: []string{"test", "-f", "/tmp/ready"}},
			PeriodMs: 100,
		},
	})
	ta.ApplyDesired([]*ordov1.Pod{pod})
	r := ta.waitReport(t, "web-0 running", phaseIs("web-0", 3, ordov1.PodPhase_POD_PHASE_RUNNING))
	if r.GetStatus().GetReady() {
		t.Fatal("pod ready before its readiness probe passed")
	}
	if r.GetStatus().GetStartedTime() == nil || r.GetStatus().GetObservedTime() == nil {
		t.Error("running report without started_time/observed_time")
	}
	id := identity.ContainerID("default", "web-0", "app")

	out, code, err := execOutput(ctx, ta.rt, id, "hostname")
	if err != nil || code != 0 || strings.TrimSpace(out) != "web-0" {
		t.Errorf("hostname in the container = %q (code %d, %v), want web-0", out, code, err)
	}
	out, _, _ = execOutput(ctx, ta.rt, id, "cat", "/etc/hosts")
	if !strings.Contains(out, "web-0.web.default.svc.cluster.local\tweb-0") || !strings.Contains(out, "127.0.0.1\tlocalhost") {
		t.Errorf("/etc/hosts = %q", out)
	}
	out, _, _ = execOutput(ctx, ta.rt, id, "sh", "-c", "echo $HOSTNAME")
	if strings.TrimSpace(out) != "web-0" {
		t.Errorf("HOSTNAME = %q", out)
	}
	_, code, err = execOutput(ctx, ta.rt, id, "sh", "-c", "echo x > /etc/hosts")
	if err != nil || code == 0 {
		t.Errorf("/etc/hosts is writable in the container (code %d, %v)", code, err)
	}

	// The container shares the pod's network namespace.
	nsPath := ta.net.Path("web-0")
	if !network.IsNetNS(nsPath) {
		t.Fatalf("no network namespace at %s", nsPath)
	}
	cctx := namespaces.WithNamespace(ctx, testNamespace)
	ctr, err := c.client.LoadContainer(cctx, id)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := ctr.Spec(cctx)
	if err != nil {
		t.Fatal(err)
	}
	joined := false
	for _, ns := range spec.Linux.Namespaces {
		joined = joined || (ns.Type == "network" && ns.Path == nsPath)
	}
	if !joined {
		t.Errorf("container does not join %s: %+v", nsPath, spec.Linux.Namespaces)
	}
	labels, _ := ctr.Labels(cctx)
	if labels[identity.LabelEpoch] != "3" || labels[identity.LabelPod] != "web-0" || labels[identity.LabelManaged] != "true" {
		t.Errorf("labels = %v", labels)
	}

	if _, code, err := execOutput(ctx, ta.rt, id, "touch", "/tmp/ready"); err != nil || code != 0 {
		t.Fatalf("touch: %d %v", code, err)
	}
	r = ta.waitReport(t, "web-0 ready", func(r *ordov1.PodStatusReport) bool { return r.GetName() == "web-0" && r.GetStatus().GetReady() })
	if r.GetStatus().GetReadyTime() == nil {
		t.Error("ready report without ready_time")
	}
	logPath := ta.env.logDir("web-0")
	if _, err := os.Stat(logPath); err != nil {
		t.Errorf("log dir: %v", err)
	}

	ta.ApplyDesired(nil)
	ta.waitReport(t, "web-0 terminating", phaseIs("web-0", 3, ordov1.PodPhase_POD_PHASE_TERMINATING))
	ta.waitReport(t, "web-0 gone", phaseIs("web-0", 3, ordov1.PodPhase_POD_PHASE_GONE))
	if _, err := c.client.LoadContainer(cctx, id); !cerrdefs.IsNotFound(err) {
		t.Errorf("container still there after GONE: %v", err)
	}
	if _, err := c.client.SnapshotService("overlayfs").Stat(cctx, id); !cerrdefs.IsNotFound(err) {
		t.Errorf("snapshot still there after GONE: %v", err)
	}
	if _, err := os.Stat(nsPath); !os.IsNotExist(err) {
		t.Errorf("network namespace still there after GONE: %v", err)
	}
	if _, err := os.Stat(ta.env.podDir("web-0")); !os.IsNotExist(err) {
		t.Errorf("pod files still there after GONE: %v", err)
	}
}

func TestExitedContainerIsRestartedWithBackoff(t *testing.T) {
	c := sharedContainerd(t)
	state := t.TempDir()
	ta := newTestAgent(t, c, state)
	pod := testPod("crash-0", 1, &ordov1.Container{Name: "app", Command: []string{"sh", "-c", "sleep 0.1; exit 3"}})
	ta.ApplyDesired([]*ordov1.Pod{pod})
	r := ta.waitReport(t, "crash-0 restarted twice", func(r *ordov1.PodStatusReport) bool {
		return r.GetName() == "crash-0" && r.GetStatus().GetRestarts() >= 2
	})
	cs := r.GetStatus().GetContainers()[0]
	if cs.GetLastExitCode() != 3 || r.GetStatus().GetExitCode() != 3 {
		t.Errorf("last exit code = %d/%d, want 3", cs.GetLastExitCode(), r.GetStatus().GetExitCode())
	}
	r = ta.waitReport(t, "crash-0 in CrashLoopBackOff", func(r *ordov1.PodStatusReport) bool {
		return r.GetName() == "crash-0" && r.GetStatus().GetReason() == "CrashLoopBackOff"
	})
	if r.GetStatus().GetReady() {
		t.Error("crashed pod reported ready")
	}
	if !strings.Contains(r.GetStatus().GetMessage(), "back-off") {
		t.Errorf("message = %q", r.GetStatus().GetMessage())
	}
	seen := r.GetStatus().GetRestarts()

	// The restart count survives an agent restart.
	ta.exit()
	next := newTestAgent(t, c, state)
	next.ApplyDesired([]*ordov1.Pod{pod})
	r = next.waitReport(t, "crash-0 adopted", func(r *ordov1.PodStatusReport) bool { return r.GetName() == "crash-0" })
	if r.GetStatus().GetRestarts() < seen {
		t.Errorf("restarts after an agent restart = %d, was %d", r.GetStatus().GetRestarts(), seen)
	}
	next.ApplyDesired(nil)
	next.waitReport(t, "crash-0 gone", phaseIs("crash-0", 1, ordov1.PodPhase_POD_PHASE_GONE))
}

func TestMissingImageWithNeverPolicyIsReported(t *testing.T) {
	c := sharedContainerd(t)
	ta := newTestAgent(t, c, t.TempDir())
	pod := testPod("noimg-0", 1, &ordov1.Container{Name: "app", Image: "ordo.local/absent:1", ImagePullPolicy: "Never"})
	ta.ApplyDesired([]*ordov1.Pod{pod})
	r := ta.waitReport(t, "ErrImageNeverPull", func(r *ordov1.PodStatusReport) bool {
		return r.GetName() == "noimg-0" && r.GetStatus().GetReason() == "ErrImageNeverPull"
	})
	if r.GetStatus().GetPhase() != ordov1.PodPhase_POD_PHASE_PENDING || !strings.Contains(r.GetStatus().GetMessage(), "ordo.local/absent:1") {
		t.Errorf("report = %v", r.GetStatus())
	}
	ta.ApplyDesired(nil)
	ta.waitReport(t, "noimg-0 gone", phaseIs("noimg-0", 1, ordov1.PodPhase_POD_PHASE_GONE))
}

func TestRestartedAgentAdoptsRunningPod(t *testing.T) {
	c := sharedContainerd(t)
	state := t.TempDir()
	cctx := namespaces.WithNamespace(context.Background(), testNamespace)
	id := identity.ContainerID("default", "db-0", "app")
	pod := testPod("db-0", 7, &ordov1.Container{Name: "app", Command: []string{"sleep", "1000"}})

	first := newTestAgent(t, c, state)
	first.ApplyDesired([]*ordov1.Pod{pod})
	first.waitReport(t, "db-0 running", phaseIs("db-0", 7, ordov1.PodPhase_POD_PHASE_RUNNING))
	ctr, err := c.client.LoadContainer(cctx, id)
	if err != nil {
		t.Fatal(err)
	}
	task, err := ctr.Task(cctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	pid := task.Pid()
	first.exit()
	if st, err := task.Status(cctx); err != nil || st.Status != "running" {
		t.Fatalf("pod stopped with its agent: %v %v", st, err)
	}

	second := newTestAgent(t, c, state)
	hello := second.hello("s").GetHello()
	if len(hello.GetRunning()) != 1 || hello.GetRunning()[0].GetName() != "db-0" || hello.GetRunning()[0].GetEpoch() != 7 {
		t.Fatalf("hello after restart = %v, want db-0 with epoch 7", hello.GetRunning())
	}
	second.ApplyDesired([]*ordov1.Pod{pod})
	r := second.waitReport(t, "db-0 adopted", func(r *ordov1.PodStatusReport) bool {
		return r.GetName() == "db-0" && r.GetStatus().GetReady()
	})
	if r.GetEpoch() != 7 || r.GetStatus().GetRestarts() != 0 {
		t.Errorf("adopted report = epoch %d restarts %d", r.GetEpoch(), r.GetStatus().GetRestarts())
	}
	task, err = ctr.Task(cctx, nil)
	if err != nil || task.Pid() != pid {
		t.Errorf("adopted pod's process changed: pid %d -> %v (%v)", pid, task, err)
	}

	// A new epoch replaces the old incarnation: old GONE before the new one runs.
	pod8 := testPod("db-0", 8, &ordov1.Container{Name: "app", Command: []string{"sleep", "1000"}})
	second.ApplyDesired([]*ordov1.Pod{pod8})
	sawGone := false
	second.waitReport(t, "db-0 epoch 8 running", func(r *ordov1.PodStatusReport) bool {
		if r.GetName() == "db-0" && r.GetEpoch() == 7 && r.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_GONE {
			sawGone = true
		}
		if r.GetEpoch() == 8 && r.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_RUNNING && !sawGone {
			t.Error("epoch 8 ran before epoch 7 was gone")
		}
		return r.GetEpoch() == 8 && r.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_RUNNING
	})
	second.exit()

	// A restarted agent stops found pods that are no longer desired, and only
	// once it got its desired list.
	third := newTestAgent(t, c, state)
	if _, err := c.client.LoadContainer(cctx, id); err != nil {
		t.Fatalf("found pod removed before the first desired list: %v", err)
	}
	third.ApplyDesired(nil)
	third.waitReport(t, "db-0 epoch 8 gone", phaseIs("db-0", 8, ordov1.PodPhase_POD_PHASE_GONE))
	if _, err := c.client.LoadContainer(cctx, id); !cerrdefs.IsNotFound(err) {
		t.Errorf("container of the undesired pod still there: %v", err)
	}
}
