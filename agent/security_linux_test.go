package agent

import (
	"context"
	"strings"
	"testing"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func TestSecurityContextAppliesToContainers(t *testing.T) {
	c := sharedContainerd(t)
	ta := newTestAgent(t, c, t.TempDir())
	ctx := context.Background()
	i := func(v int64) *int64 { return &v }
	b := func(v bool) *bool { return &v }
	pod := testPod("sec-0", 1, &ordov1.Container{
		Name:         "app",
		Command:      []string{"sleep", "1000"},
		VolumeMounts: []*ordov1.VolumeMount{{Name: "scratch", MountPath: "/scratch"}},
		SecurityContext: &ordov1.SecurityContext{
			ReadOnlyRootFilesystem:   b(true),
			AllowPrivilegeEscalation: b(false),
			Capabilities:             &ordov1.Capabilities{Drop: []string{"ALL"}, Add: []string{"net_bind_service"}},
		},
	})
	pod.Spec.Containers = append(pod.Spec.Containers, &ordov1.Container{
		Name: "admin", Image: pod.Spec.Containers[0].Image, ImagePullPolicy: "Never", Command: []string{"sleep", "1000"},
		SecurityContext: &ordov1.SecurityContext{RunAsUser: i(0), RunAsNonRoot: b(false)},
	})
	pod.Spec.SecurityContext = &ordov1.PodSecurityContext{
		RunAsUser: i(1000), RunAsGroup: i(3000), RunAsNonRoot: b(true), SupplementalGroups: []int64{4000}, FsGroup: i(2000),
		SeccompProfile: "RuntimeDefault", Sysctls: []*ordov1.Sysctl{{Name: "kernel.shmmax", Value: "123456789"}},
	}
	pod.Spec.Volumes = []*ordov1.Volume{{Name: "scratch", EmptyDir: &ordov1.EmptyDirVolumeSource{}}}
	pod.ResolvedVolumes = []*ordov1.ResolvedVolume{{Name: "scratch", EmptyDir: &ordov1.EmptyDirVolumeSource{}}}
	ta.ApplyDesired([]*ordov1.Pod{pod})
	ta.waitReport(t, "sec-0 running", phaseIs("sec-0", 1, ordov1.PodPhase_POD_PHASE_RUNNING))
	app, admin := identity.ContainerID("default", "sec-0", "app"), identity.ContainerID("default", "sec-0", "admin")

	sh := func(id, script string) (string, int) {
		t.Helper()
		out, code, err := execOutput(ctx, ta.rt, id, "sh", "-c", script)
		if err != nil {
			t.Fatalf("%s: %s: %v", id, script, err)
		}
		return strings.TrimSpace(out), code
	}
	if out, _ := sh(app, "id -u; id -g; id -G"); out != "1000\n3000\n3000 2000 4000" {
		t.Errorf("app's ids = %q, want uid 1000, gid 3000, groups 3000 2000 4000", out)
	}
	if out, _ := sh(admin, "id -u"); out != "0" {
		t.Errorf("admin's uid = %q, want 0 (the container's runAsUser)", out)
	}
	if out, code := sh(app, "touch /x"); code == 0 {
		t.Errorf("touch / succeeded with readOnlyRootFilesystem: %q", out)
	}
	if out, code := sh(admin, "touch /x"); code != 0 {
		t.Errorf("touch / in the container without readOnlyRootFilesystem: %q %d", out, code)
	}
	// fsGroup: the emptyDir is group 2000, setgid, and files made there take the group.
	if out, code := sh(app, "touch /scratch/f && ls -ldn /scratch /scratch/f"); code != 0 ||
		!strings.Contains(out, "drwxrwsrwx") || strings.Count(out, " 2000 ") != 2 {
		t.Errorf("fsGroup volume: %q %d", out, code)
	}
	if out, _ := sh(app, "cat /proc/sys/kernel/shmmax"); out != "123456789" {
		t.Errorf("kernel.shmmax = %q", out)
	}
	status, _ := sh(app, "cat /proc/self/status")
	for _, want := range []string{"NoNewPrivs:\t1", "Seccomp:\t2", "CapBnd:\t0000000000000400"} {
		if !strings.Contains(status, want) {
			t.Errorf("app's /proc/self/status lacks %q:\n%s", want, status)
		}
	}
	if status, _ := sh(admin, "cat /proc/self/status"); !strings.Contains(status, "NoNewPrivs:\t0") {
		t.Errorf("admin has no_new_privs without allowPrivilegeEscalation: false:\n%s", status)
	}
	ta.ApplyDesired(nil)
	ta.waitReport(t, "sec-0 gone", phaseIs("sec-0", 1, ordov1.PodPhase_POD_PHASE_GONE))
}

func TestRunAsNonRootAndForbiddenSysctlAreRefused(t *testing.T) {
	c := sharedContainerd(t)
	ta := newTestAgent(t, c, t.TempDir())
	b := true
	root := testPod("nonroot-0", 1, &ordov1.Container{Name: "app", Command: []string{"sleep", "1000"},
		SecurityContext: &ordov1.SecurityContext{RunAsNonRoot: &b}})
	sysctl := testPod("sysctl-0", 1, &ordov1.Container{Name: "app", Command: []string{"sleep", "1000"}})
	sysctl.Spec.SecurityContext = &ordov1.PodSecurityContext{Sysctls: []*ordov1.Sysctl{{Name: "vm.swappiness", Value: "1"}}}
	ta.ApplyDesired([]*ordov1.Pod{root, sysctl})
	var refused, forbidden *ordov1.PodStatusReport
	ta.waitReport(t, "nonroot-0 and sysctl-0 refused", func(r *ordov1.PodStatusReport) bool {
		switch {
		case r.GetName() == "nonroot-0" && r.GetStatus().GetReason() == "CreateContainerConfigError":
			refused = r
		case r.GetName() == "sysctl-0" && r.GetStatus().GetReason() == "SysctlForbidden":
			forbidden = r
		}
		return refused != nil && forbidden != nil
	})
	if m := refused.GetStatus().GetMessage(); !strings.Contains(m, "container has runAsNonRoot and image will run as root") {
		t.Errorf("message = %q", m)
	}
	if refused.GetStatus().GetPhase() != ordov1.PodPhase_POD_PHASE_PENDING || forbidden.GetStatus().GetPhase() != ordov1.PodPhase_POD_PHASE_PENDING {
		t.Errorf("phases = %v %v", refused.GetStatus().GetPhase(), forbidden.GetStatus().GetPhase())
	}
	if m := forbidden.GetStatus().GetMessage(); !strings.Contains(m, `"vm.swappiness"`) {
		t.Errorf("message = %q", m)
	}
	ta.ApplyDesired(nil)
	gone := map[string]bool{}
	ta.waitReport(t, "both gone", func(r *ordov1.PodStatusReport) bool {
		if r.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_GONE {
			gone[r.GetName()] = true
		}
		return len(gone) == 2
	})
}
