package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordoproject/ordo/internal/identity"
	"github.com/ordoproject/ordo/network"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// addressedNet gives pods a fixed address on top of their namespaces.
type addressedNet struct {
	*network.NetNS
	ip string
}

func (n addressedNet) Setup(ctx context.Context, key string) (network.Pod, error) {
	p, err := n.NetNS.Setup(ctx, key)
	p.IP = n.ip
	return p, err
}

func appConfig(conf string) *ordov1.ConfigMap {
	return &ordov1.ConfigMap{
		Metadata: &ordov1.ObjectMeta{Name: "app", Namespace: "default"},
		Data:     map[string]string{"MODE": "primary", "app.conf": conf, "bad key": "skipped"},
	}
}

var dbSecret = &ordov1.Secret{
	Metadata: &ordov1.ObjectMeta{Name: "db", Namespace: "default"},
	Data:     map[string][]byte{"password": []byte("s3cret")},
}

// waitExec runs args in the container until its output (trimmed) is want.
func waitExec(t *testing.T, ta *testAgent, id, want string, args ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var out string
	for time.Now().Before(deadline) {
		out, _, _ = execOutput(context.Background(), ta.rt, id, args...)
		if strings.TrimSpace(out) == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%v in %s = %q, want %q", args, id, out, want)
}

func TestPodEnvAndConfigVolumesFromDesiredPods(t *testing.T) {
	c := sharedContainerd(t)
	state := t.TempDir()
	ta := newTestAgent(t, c, state)
	ta.env.net = addressedNet{ta.net, "10.244.9.9"}
	ta.env.nodeIP = "192.0.2.10"
	ctx := context.Background()

	// cfg-0 takes its environment from the config data and mounts it.
	pod := testPod("cfg-0", 1, &ordov1.Container{
		Name:    "app",
		Command: []string{"sh", "-c", "echo '$(GREETING)' > /tmp/greeting; exec sleep 1000"},
		EnvFrom: []*ordov1.EnvFromSource{{ConfigMap: "app", Prefix: "APP_"}},
		Env: []*ordov1.EnvVar{
			fieldEnv("POD_NAME", "metadata.name"),
			fieldEnv("POD_IP", "status.podIP"),
			fieldEnv("HOST_IP", "status.hostIP"),
			fieldEnv("NODE", "spec.nodeName"),
			fieldEnv("ROLE", "metadata.labels['role']"),
			envVar("GREETING", "hi-$(POD_NAME)-$$(POD_NAME)"),
			{Name: "PASS", ValueFrom: &ordov1.EnvVarSource{SecretKeyRef: &ordov1.KeySelector{Name: "db", Key: "password"}}},
			{Name: "MEM", ValueFrom: &ordov1.EnvVarSource{ResourceFieldRef: &ordov1.ResourceFieldSelector{Resource: "limits.memory", Divisor: "1Mi"}}},
			{Name: "MISSING", ValueFrom: &ordov1.EnvVarSource{ConfigMapKeyRef: &ordov1.KeySelector{Name: "app", Key: "nope", Optional: true}}},
		},
		Resources: &ordov1.ResourceRequirements{Limits: map[string]string{"memory": "64Mi"}, MemoryLimitBytes: 64 << 20},
		VolumeMounts: []*ordov1.VolumeMount{
			{Name: "config", MountPath: "/etc/config"},
			{Name: "config", MountPath: "/etc/app.conf", SubPath: "app.conf"},
			{Name: "creds", MountPath: "/etc/creds"},
			{Name: "podinfo", MountPath: "/etc/podinfo"},
		},
	})
	pod.Metadata.Labels = map[string]string{"role": "primary"}
	vols := []*ordov1.ResolvedVolume{
		{Name: "config", ConfigMap: &ordov1.ConfigMapVolumeSource{Name: "app"}},
		{Name: "creds", Secret: &ordov1.SecretVolumeSource{SecretName: "db", DefaultMode: i32(0o400)}},
		{Name: "podinfo", DownwardApi: &ordov1.DownwardAPIVolumeSource{Items: []*ordov1.DownwardAPIVolumeFile{
			{Path: "labels", FieldRef: &ordov1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
		}}},
	}
	for _, v := range vols {
		pod.Spec.Volumes = append(pod.Spec.Volumes, &ordov1.Volume{Name: v.GetName()})
	}
	pod.ResolvedVolumes = vols
	// env-0 only has environment from the config data.
	envPod := testPod("env-0", 1, &ordov1.Container{
		Name:    "app",
		Command: []string{"sleep", "1000"},
		Env:     []*ordov1.EnvVar{{Name: "MODE", ValueFrom: &ordov1.EnvVarSource{ConfigMapKeyRef: &ordov1.KeySelector{Name: "app", Key: "MODE"}}}},
	})
	pods := []*ordov1.Pod{pod, envPod}

	// Without the data, neither starts, and each says why.
	ta.ApplyDesiredPods(&ordov1.DesiredPods{Pods: pods, Version: 1})
	waiting := map[string]*ordov1.PodStatus{}
	ta.waitReport(t, "env-0 and cfg-0 waiting for their config data", func(r *ordov1.PodStatusReport) bool {
		switch reason := r.GetStatus().GetReason(); {
		case r.GetName() == "env-0" && reason == reasonCreateContainerConfigError,
			r.GetName() == "cfg-0" && reason == reasonFailedMount:
			waiting[r.GetName()] = r.GetStatus()
		}
		return len(waiting) == 2
	})
	if st := waiting["env-0"]; st.GetMessage() != `configmap "app" not found` || st.GetPhase() != ordov1.PodPhase_POD_PHASE_PENDING {
		t.Errorf("env-0 status = %v", st)
	}
	if st := waiting["cfg-0"]; !strings.Contains(st.GetMessage(), `volume "config"`) || !strings.Contains(st.GetMessage(), `configmap "app" not found`) {
		t.Errorf("cfg-0 status = %v", st)
	}
	if st := waiting["env-0"].GetContainers(); len(st) != 1 || st[0].GetReason() != reasonCreateContainerConfigError {
		t.Errorf("env-0 container status = %v", st)
	}

	// The data arrives: both start without waiting out their back-off.
	ta.ApplyDesiredPods(&ordov1.DesiredPods{Pods: pods, Version: 2,
		ConfigMaps: []*ordov1.ConfigMap{appConfig("v1")}, Secrets: []*ordov1.Secret{dbSecret}})
	running := map[string]bool{}
	ta.waitReport(t, "both pods running", func(r *ordov1.PodStatusReport) bool {
		if r.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_RUNNING {
			running[r.GetName()] = true
		}
		return running["cfg-0"] && running["env-0"]
	})

	id := identity.ContainerID("default", "cfg-0", "app")
	out, code, err := execOutput(ctx, ta.rt, id, "env")
	if err != nil || code != 0 {
		t.Fatalf("env: %d %v", code, err)
	}
	env := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(l, "=")
		env[k] = v
	}
	for k, want := range map[string]string{
		"APP_MODE": "primary", "APP_app.conf": "v1", "POD_NAME": "cfg-0", "POD_IP": "10.244.9.9", "HOST_IP": "192.0.2.10",
		"NODE": "node-1", "ROLE": "primary", "GREETING": "hi-cfg-0-$(POD_NAME)", "PASS": "s3cret", "MEM": "64",
	} {
		if env[k] != want {
			t.Errorf("%s in the container = %q, want %q", k, env[k], want)
		}
	}
	for _, k := range []string{"MISSING", "APP_bad key"} {
		if _, ok := env[k]; ok {
			t.Errorf("%s is set in the container", k)
		}
	}
	waitExec(t, ta, id, "hi-cfg-0-$(POD_NAME)", "cat", "/tmp/greeting")
	if out, _, _ := execOutput(ctx, ta.rt, identity.ContainerID("default", "env-0", "app"), "sh", "-c", "echo $MODE"); strings.TrimSpace(out) != "primary" {
		t.Errorf("MODE in env-0 = %q", out)
	}

	// The volumes: files through ..data, read-only, with their modes.
	for path, want := range map[string]string{
		"/etc/config/app.conf": "v1", "/etc/config/MODE": "primary", "/etc/app.conf": "v1",
		"/etc/creds/password": "s3cret", "/etc/podinfo/labels": `role="primary"`,
	} {
		if out, _, _ := execOutput(ctx, ta.rt, id, "cat", path); out != want {
			t.Errorf("%s = %q, want %q", path, out, want)
		}
	}
	if out, _, _ := execOutput(ctx, ta.rt, id, "/bin/busybox", "readlink", "/etc/config/app.conf"); strings.TrimSpace(out) != "..data/app.conf" {
		t.Errorf("/etc/config/app.conf -> %q", out)
	}
	if out, _, _ := execOutput(ctx, ta.rt, id, "/bin/busybox", "stat", "-L", "-c", "%a", "/etc/creds/password"); strings.TrimSpace(out) != "400" {
		t.Errorf("mode of /etc/creds/password = %q, want 400", out)
	}
	if _, code, _ := execOutput(ctx, ta.rt, id, "touch", "/etc/config/new"); code == 0 {
		t.Error("configMap volume is writable in the container")
	}
	root := filepath.Join(state, "config-volumes")
	for _, d := range []string{root, filepath.Join(root, "cfg-0")} {
		if st, err := os.Stat(d); err != nil || st.Mode().Perm() != 0o750 {
			t.Errorf("%s: %v %v, want mode 0750", d, st.Mode(), err)
		}
	}

	// A changed ConfigMap: the file changes in the running container; a
	// subPath mount and the environment do not (as in Kubernetes).
	ta.ApplyDesiredPods(&ordov1.DesiredPods{Pods: pods, Version: 3,
		ConfigMaps: []*ordov1.ConfigMap{appConfig("v2")}, Secrets: []*ordov1.Secret{dbSecret}})
	waitExec(t, ta, id, "v2", "cat", "/etc/config/app.conf")
	if out, _, _ := execOutput(ctx, ta.rt, id, "cat", "/etc/app.conf"); out != "v1" {
		t.Errorf("subPath mount after the update = %q, want v1", out)
	}
	if out, _, _ := execOutput(ctx, ta.rt, id, "sh", "-c", "echo $PASS"); strings.TrimSpace(out) != "s3cret" {
		t.Errorf("PASS after the update = %q", out)
	}

	// The ConfigMap goes away: the volume keeps its last content.
	ta.ApplyDesiredPods(&ordov1.DesiredPods{Pods: pods, Version: 4, Secrets: []*ordov1.Secret{dbSecret}})
	time.Sleep(300 * time.Millisecond)
	if out, _, _ := execOutput(ctx, ta.rt, id, "cat", "/etc/config/app.conf"); out != "v2" {
		t.Errorf("after the ConfigMap went: %q, want v2", out)
	}

	// A restarted agent adopts the pod and keeps its volume up to date.
	ta.exit()
	ta = newTestAgent(t, c, state)
	ta.ApplyDesiredPods(&ordov1.DesiredPods{Pods: pods, Version: 5,
		ConfigMaps: []*ordov1.ConfigMap{appConfig("v3")}, Secrets: []*ordov1.Secret{dbSecret}})
	waitExec(t, ta, id, "v3", "cat", "/etc/config/app.conf")
	if out, _, _ := execOutput(ctx, ta.rt, id, "sh", "-c", "echo $POD_IP"); strings.TrimSpace(out) != "10.244.9.9" {
		t.Errorf("POD_IP after adoption = %q (the container was recreated?)", out)
	}

	ta.ApplyDesired(nil)
	gone := map[string]bool{}
	ta.waitReport(t, "both pods gone", func(r *ordov1.PodStatusReport) bool {
		if r.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_GONE {
			gone[r.GetName()] = true
		}
		return gone["cfg-0"] && gone["env-0"]
	})
	if _, err := os.Stat(filepath.Join(root, "cfg-0")); !os.IsNotExist(err) {
		t.Errorf("config volumes of cfg-0 left after GONE: %v", err)
	}
}
