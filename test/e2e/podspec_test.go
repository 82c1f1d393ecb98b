package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ordoproject/ordo/test/framework"
)

// specConfig is the ConfigMap and Secret the pod of TestPodSpecOfRealApps
// takes its environment and files from; conf is the content of app.conf.
func specConfig(conf string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: spec-config
data:
  MODE: replica
  app.conf: %q
---
apiVersion: v1
kind: Secret
metadata:
  name: spec-secret
type: Opaque
stringData:
  password: s3cret
`, conf)
}

// specSet uses, through the whole path (manifest, scheduler, agent,
// containerd), the pod spec fields that published stateful manifests
// declare: env from fields, resources, ConfigMaps and Secrets; config
// volumes with items, modes and subPath; init containers, one of them a
// sidecar; resource limits; a postStart hook; a security context.
var specSet = setManifest("spec", "OrderedReady", 1, `      securityContext:
        runAsUser: 1000
        runAsGroup: 3000
        fsGroup: 2000
        supplementalGroups: [4000]
      initContainers:
      - name: first
        image: ordo.local/busybox:latest
        command: ["sh", "-c", "echo first >> /work/order"]
        volumeMounts: [{name: work, mountPath: /work}]
      - name: second
        image: ordo.local/busybox:latest
        command: ["sh", "-c", "echo second >> /work/order"]
        volumeMounts: [{name: work, mountPath: /work}]
      - name: sidecar
        image: ordo.local/busybox:latest
        restartPolicy: Always
        command: ["sh", "-c", "echo sidecar >> /work/sidecar; exec sleep 100000"]
        volumeMounts: [{name: work, mountPath: /work}]
      containers:
      - name: app
        image: ordo.local/busybox:latest
        command: ["sh", "-c"]
        args: ["echo $(GREETING) > /work/greeting; exec sleep 100000"]
        env:
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
        - {name: POD_UID, valueFrom: {fieldRef: {fieldPath: metadata.uid}}}
        - {name: APP_LABEL, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
        - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
        - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
        - {name: MEM_MI, valueFrom: {resourceFieldRef: {containerName: app, resource: limits.memory, divisor: 1Mi}}}
        - {name: CPU_M, valueFrom: {resourceFieldRef: {resource: requests.cpu, divisor: 1m}}}
        - {name: MODE, valueFrom: {configMapKeyRef: {name: spec-config, key: MODE}}}
        - {name: PASSWORD, valueFrom: {secretKeyRef: {name: spec-secret, key: password}}}
        - {name: OPTIONAL, valueFrom: {secretKeyRef: {name: spec-secret, key: nope, optional: true}}}
        - {name: GREETING, value: "hello-$(POD_NAME)"}
        envFrom:
        - {prefix: CM_, configMapRef: {name: spec-config}}
        resources:
          requests: {cpu: 100m, memory: 32Mi}
          limits: {cpu: 500m, memory: 64Mi}
        lifecycle:
          postStart:
            exec:
              command: ["sh", "-c", "echo started > /work/poststart"]
        volumeMounts:
        - {name: work, mountPath: /work}
        - {name: config, mountPath: /etc/config}
        - {name: config, mountPath: /etc/app.conf, subPath: app.conf}
        - {name: secret, mountPath: /etc/secret}
        - {name: podinfo, mountPath: /etc/podinfo}
      volumes:
      - name: work
        emptyDir: {}
      - name: config
        configMap:
          name: spec-config
          items: [{key: app.conf, path: app.conf, mode: 0640}]
      - name: secret
        secret:
          secretName: spec-secret
          defaultMode: 0400
      - name: podinfo
        downwardAPI:
          items:
          - {path: labels, fieldRef: {fieldPath: metadata.labels}}
`)

// TestPodSpecOfRealApps runs a pod that uses the fields of published
// stateful manifests through the scheduler and an agent on real containerd,
// and checks each inside the running containers.
func TestPodSpecOfRealApps(t *testing.T) {
	framework.Need(t, clus)
	t.Cleanup(func() {
		deleteSetIfExists(t, "spec")
		_ = framework.Delete(clus, "cm", "spec-config")
		_ = framework.Delete(clus, "secret", "spec-secret")
	})
	t.Cleanup(func() { appLogs(t, "spec") })
	framework.Apply(t, clus, specConfig("level=1\n"))
	framework.Apply(t, clus, specSet)
	pod := waitPodsReady(t, "spec", 90*time.Second, "spec-0")["spec-0"]
	node := pod.GetNodeName()
	in := func(container string, cmd ...string) string {
		t.Helper()
		return strings.TrimSpace(podOutput(t, node, "spec-0", container, cmd...))
	}
	app := func(script string) string {
		t.Helper()
		return in("app", "sh", "-c", script)
	}

	// Environment.
	env := map[string]string{}
	for _, line := range strings.Split(in("app", "env"), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	want := map[string]string{
		"POD_NAME": "spec-0", "POD_NAMESPACE": "default", "POD_UID": pod.GetMetadata().GetUid(),
		"APP_LABEL": "spec", "NODE": node, "POD_IP": pod.GetStatus().GetPodIp(),
		"MEM_MI": "64", "CPU_M": "100", "MODE": "replica", "PASSWORD": "s3cret",
		"GREETING": "hello-spec-0", "CM_MODE": "replica",
	}
	for k, v := range want {
		if got, ok := env[k]; !ok || got != v {
			t.Errorf("env %s = %q (set %v), want %q", k, got, ok, v)
		}
	}
	// An optional key that is missing leaves the variable unset.
	if v, ok := env["OPTIONAL"]; ok {
		t.Errorf("env OPTIONAL = %q, want it unset (optional key missing)", v)
	}
	// $(VAR) in args, init containers in order, the sidecar kept running,
	// the postStart hook.
	if got := app("cat /work/greeting"); got != "hello-spec-0" {
		t.Errorf("args expanded to %q, want hello-spec-0", got)
	}
	if got := app("cat /work/order"); got != "first\nsecond" {
		t.Errorf("init containers wrote %q, want first then second", got)
	}
	if got := in("sidecar", "cat", "/work/sidecar"); got != "sidecar" {
		t.Errorf("sidecar wrote %q", got)
	}
	if got := app("cat /work/poststart"); got != "started" {
		t.Errorf("postStart hook wrote %q", got)
	}
	// Security context.
	if got := app("id -u; id -g; id -G | tr ' ' '\\n' | sort | tr '\\n' ' '"); got != "1000\n3000\n2000 3000 4000" {
		t.Errorf("id in app = %q, want uid 1000, gid 3000, groups 2000 (fsGroup) 3000 4000", got)
	}
	// Limits as cgroup limits of the container (cgroup v2 or v1).
	if got := app("cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes"); got != fmt.Sprint(64<<20) {
		t.Errorf("memory limit = %q, want %d", got, 64<<20)
	}
	if got := app("cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us"); got != "50000 100000" && got != "50000" {
		t.Errorf("cpu quota = %q, want 50000 per 100000", got)
	}
	// Config volumes: items with modes, a secret's default mode, the
	// downward API, a subPath into a ConfigMap. The files belong to the
	// fsGroup, which may read them (the kubelet adds group read).
	if got := app("cat /etc/config/app.conf; stat -L -c '%a %g' /etc/config/app.conf; ls /etc/config"); got != "level=1\n640 2000\napp.conf" {
		t.Errorf("configMap volume: %q", got)
	}
	if got := app("cat /etc/secret/password; echo; stat -L -c '%a %g' /etc/secret/password"); got != "s3cret\n440 2000" {
		t.Errorf("secret volume: %q", got)
	}
	if got := app("cat /etc/podinfo/labels"); !strings.Contains(got, `app="spec"`) {
		t.Errorf("downwardAPI labels: %q", got)
	}
	if got := app("cat /etc/app.conf"); got != "level=1" {
		t.Errorf("subPath app.conf: %q", got)
	}

	// A change of the ConfigMap reaches the running pod's volume; a subPath
	// mount keeps what it had, as in Kubernetes. The pod is not replaced.
	framework.Apply(t, clus, specConfig("level=2\n"))
	eventually(t, "app.conf updated in the running pod", 60*time.Second, func() string {
		if got := app("cat /etc/config/app.conf"); got != "level=2" {
			return "app.conf is " + got
		}
		return ""
	})
	if got := app("cat /etc/app.conf"); got != "level=1" {
		t.Errorf("subPath app.conf after the change: %q, want the old content", got)
	}
	if p := framework.ListPods(t, clus, "spec")["spec-0"]; p.GetEpoch() != pod.GetEpoch() {
		t.Errorf("spec-0 was replaced by a ConfigMap change (epoch %d -> %d)", pod.GetEpoch(), p.GetEpoch())
	}
}

// A container that goes over its memory limit is killed by the kernel and
// its status says OOMKilled, through the scheduler as on the node.
func TestMemoryLimitOOMKilledThroughScheduler(t *testing.T) {
	framework.Need(t, clus)
	t.Cleanup(func() { deleteSetIfExists(t, "oom") })
	framework.Apply(t, clus, setManifest("oom", "Parallel", 1, `      containers:
      - name: app
        image: ordo.local/busybox:latest
        command: ["/bin/busybox", "dd", "if=/dev/zero", "of=/dev/shm/fill", "bs=1M", "count=200"]
        resources:
          limits: {memory: 20Mi}
`))
	framework.WaitFor(t, clus, "oom-0 OOMKilled", 60*time.Second, func() bool {
		p := framework.ListPods(t, clus, "oom")["oom-0"]
		for _, c := range p.GetStatus().GetContainers() {
			if c.GetReason() == "OOMKilled" || strings.Contains(c.GetMessage(), "OOMKilled") {
				return c.GetLastExitCode() == 137
			}
		}
		return false
	})
}
