package manifest_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/manifest"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"google.golang.org/protobuf/proto"
)

// base is a valid StatefulSet that the error cases below modify one line at a time.
const base = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: nginx
  replicas: 2
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: ordo.local/busybox:latest
        ports:
        - containerPort: 80
          name: web
`

func decodeOne(t *testing.T, doc string) *ordov1.StatefulSet {
	t.Helper()
	res, err := manifest.Decode([]byte(doc))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	objs := res.Objects
	if len(objs) != 1 || objs[0].GetStatefulSet() == nil {
		t.Fatalf("Decode returned %v, want one StatefulSet", objs)
	}
	return objs[0].GetStatefulSet()
}

func TestDecodeDefaults(t *testing.T) {
	s := decodeOne(t, strings.Replace(base, "  replicas: 2\n", "", 1))
	if got := s.Metadata.Namespace; got != "default" {
		t.Errorf("namespace = %q, want default", got)
	}
	spec := s.Spec
	if spec.Replicas != 1 {
		t.Errorf("replicas = %d, want 1 when absent", spec.Replicas)
	}
	if spec.PodManagementPolicy != "OrderedReady" {
		t.Errorf("podManagementPolicy = %q", spec.PodManagementPolicy)
	}
	if us := spec.UpdateStrategy; us.GetType() != "RollingUpdate" || us.GetRollingUpdate().GetMaxUnavailable() != 1 || us.GetRollingUpdate().GetPartition() != 0 {
		t.Errorf("updateStrategy = %v", us)
	}
	if spec.RevisionHistoryLimit != 10 {
		t.Errorf("revisionHistoryLimit = %d", spec.RevisionHistoryLimit)
	}
	ps := spec.Template.Spec
	if ps.RestartPolicy != "Always" || ps.GetTerminationGracePeriodSeconds() != 30 {
		t.Errorf("restartPolicy %q grace %d", ps.RestartPolicy, ps.GetTerminationGracePeriodSeconds())
	}
	c := ps.Containers[0]
	if c.ImagePullPolicy != "IfNotPresent" {
		t.Errorf("imagePullPolicy = %q", c.ImagePullPolicy)
	}
	if p := c.Ports[0]; p.Protocol != "TCP" || p.ContainerPort != 80 || p.Name != "web" {
		t.Errorf("port = %v", p)
	}
	if spec.ServiceName != "nginx" {
		t.Errorf("serviceName = %q", spec.ServiceName)
	}
}

func TestDecodeExplicitZeroReplicas(t *testing.T) {
	s := decodeOne(t, strings.Replace(base, "replicas: 2", "replicas: 0", 1))
	if s.Spec.Replicas != 0 {
		t.Errorf("replicas = %d, want 0", s.Spec.Replicas)
	}
}

func TestLatestTagKeepsIfNotPresent(t *testing.T) {
	s := decodeOne(t, strings.Replace(base, "busybox:latest", "nginx", 1))
	if got := s.Spec.Template.Spec.Containers[0].ImagePullPolicy; got != "IfNotPresent" {
		t.Errorf("imagePullPolicy = %q, want IfNotPresent", got)
	}
}

func TestDecodeAllFields(t *testing.T) {
	doc := `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: team-a
  labels: {tier: data}
  annotations: {example.com/owner: me}
  creationTimestamp: null
spec:
  replicas: 3
  serviceName: db
  podManagementPolicy: Parallel
  minReadySeconds: 5
  revisionHistoryLimit: 4
  ordinals: {start: 1}
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {partition: 2, maxUnavailable: 2}
  selector:
    matchLabels: {app: db}
    matchExpressions:
    - {key: tier, operator: NotIn, values: [web]}
  template:
    metadata:
      creationTimestamp: null
      labels: {app: db}
    spec:
      terminationGracePeriodSeconds: 5
      nodeSelector: {disk: ssd}
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - {key: kubernetes.io/hostname, operator: In, values: [node-1, node-2]}
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: db}}
            topologyKey: kubernetes.io/hostname
      containers:
      - name: db
        image: ordo.local/busybox:v2
        imagePullPolicy: Never
        command: [sh, -c]
        args: ["httpd -f -p 8080"]
        workingDir: /
        env: [{name: MODE, value: primary}]
        ports:
        - {name: http, containerPort: 8080}
        - {name: dns, containerPort: 53, protocol: UDP}
        readinessProbe:
          httpGet: {path: /healthz, port: http, httpHeaders: [{name: X-A, value: b}]}
          periodSeconds: 0.2
          timeoutSeconds: 0.05
          initialDelaySeconds: 1.5
          successThreshold: 2
          failureThreshold: 5
        livenessProbe:
          tcpSocket: {port: http}
        startupProbe:
          grpc: {port: 9090, service: health}
status: {}
`
	s := decodeOne(t, doc)
	want := &ordov1.StatefulSet{
		Metadata: &ordov1.ObjectMeta{Name: "db", Namespace: "team-a",
			Labels: map[string]string{"tier": "data"}, Annotations: map[string]string{"example.com/owner": "me"}},
		Spec: &ordov1.StatefulSetSpec{
			Replicas: 3, ServiceName: "db", PodManagementPolicy: "Parallel", MinReadySeconds: 5,
			RevisionHistoryLimit: 4, OrdinalsStart: 1,
			UpdateStrategy: &ordov1.UpdateStrategy{Type: "RollingUpdate",
				RollingUpdate: &ordov1.RollingUpdate{Partition: 2, MaxUnavailable: 2}},
			Selector: &ordov1.LabelSelector{MatchLabels: map[string]string{"app": "db"},
				MatchExpressions: []*ordov1.LabelSelectorRequirement{{Key: "tier", Operator: "NotIn", Values: []string{"web"}}}},
			Template: &ordov1.PodTemplate{
				Metadata: &ordov1.ObjectMeta{Labels: map[string]string{"app": "db"}},
				Spec: &ordov1.PodSpec{
					RestartPolicy:                 "Always",
					TerminationGracePeriodSeconds: proto.Int64(5),
					NodeSelector:                  map[string]string{"disk": "ssd"},
					Affinity: &ordov1.Affinity{
						NodeAffinityRequired: []*ordov1.NodeSelectorTerm{{MatchExpressions: []*ordov1.NodeSelectorRequirement{
							{Key: "kubernetes.io/hostname", Operator: "In", Values: []string{"node-1", "node-2"}}}}},
						PodAntiAffinityRequired: []*ordov1.PodAffinityTerm{{
							LabelSelector: &ordov1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
							TopologyKey:   "kubernetes.io/hostname"}},
					},
					Containers: []*ordov1.Container{{
						Name: "db", Image: "ordo.local/busybox:v2", ImagePullPolicy: "Never",
						Command: []string{"sh", "-c"}, Args: []string{"httpd -f -p 8080"}, WorkingDir: "/",
						Env: []*ordov1.EnvVar{{Name: "MODE", Value: "primary"}},
						Ports: []*ordov1.ContainerPort{
							{Name: "http", ContainerPort: 8080, Protocol: "TCP"},
							{Name: "dns", ContainerPort: 53, Protocol: "UDP"}},
						ReadinessProbe: &ordov1.Probe{
							HttpGet: &ordov1.HTTPGetAction{Path: "/healthz", Port: 8080, Scheme: "HTTP",
								HttpHeaders: []*ordov1.EnvVar{{Name: "X-A", Value: "b"}}},
							PeriodMs: 200, TimeoutMs: 50, InitialDelayMs: 1500, SuccessThreshold: 2, FailureThreshold: 5},
						LivenessProbe: &ordov1.Probe{TcpSocket: &ordov1.TCPSocketAction{Port: 8080},
							PeriodMs: 10000, TimeoutMs: 1000, SuccessThreshold: 1, FailureThreshold: 3},
						StartupProbe: &ordov1.Probe{Grpc: &ordov1.GRPCAction{Port: 9090, Service: "health"},
							PeriodMs: 10000, TimeoutMs: 1000, SuccessThreshold: 1, FailureThreshold: 3},
					}},
				},
			},
		},
	}
	if !proto.Equal(s, want) {
		t.Errorf("decoded\n%v\nwant\n%v", s, want)
	}
}

func TestFractionalProbeSeconds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{{"0.2", 200}, {"1", 1000}, {"0.001", 1}, {"2.5", 2500}, {"0.0504", 50}} {
		doc := base + "        readinessProbe:\n          exec: {command: [\"true\"]}\n          periodSeconds: " + tc.in + "\n"
		s := decodeOne(t, doc)
		if got := s.Spec.Template.Spec.Containers[0].ReadinessProbe.PeriodMs; got != tc.want {
			t.Errorf("periodSeconds %s -> %d ms, want %d", tc.in, got, tc.want)
		}
	}
}

func TestNamedProbePorts(t *testing.T) {
	doc := base + "        readinessProbe:\n          httpGet: {port: web}\n        livenessProbe:\n          tcpSocket: {port: 80}\n"
	c := decodeOne(t, doc).Spec.Template.Spec.Containers[0]
	if got := c.ReadinessProbe.HttpGet.Port; got != 80 {
		t.Errorf("httpGet.port web -> %d, want 80", got)
	}
	if got := c.ReadinessProbe.HttpGet.Path; got != "/" {
		t.Errorf("httpGet.path default %q, want /", got)
	}
	if got := c.LivenessProbe.TcpSocket.Port; got != 80 {
		t.Errorf("tcpSocket.port = %d", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	const cpath = "spec.template.spec.containers[0]"
	tests := []struct {
		name     string
		old, new string // replace old with new in base; old "" appends new
		want     string // error message must contain this
	}{
		{"negative replicas", "replicas: 2", "replicas: -1", `StatefulSet default/web: spec.replicas: must be >= 0`},
		{"replicas not a number", "replicas: 2", "replicas: two", `spec.replicas: must be an integer`},
		{"huge replicas", "replicas: 2", "replicas: 99999999999", `spec.replicas: 99999999999 is out of range`},
		{"fractional replicas", "replicas: 2", "replicas: 1.5", `spec.replicas: must be an integer`},
		{"unknown spec field", "replicas: 2", "replica: 2", `StatefulSet default/web: spec.replica: unknown field "replica" (did you mean "replicas"?)`},
		{"unknown container field", "        image: ordo", "        imagee: x\n        image: ordo", cpath + `.imagee: unknown field "imagee"`},
		{"resource claims", "", "        resources: {claims: [{name: gpu}]}\n", cpath + `.resources.claims: field not supported`},
		{"extended resource", "", "        resources: {limits: {nvidia.com/gpu: 1}}\n", cpath + `.resources.limits.nvidia.com/gpu: not supported (supported: cpu, memory)`},
		{"bad quantity", "", "        resources: {requests: {memory: 1Qi}}\n", cpath + `.resources.requests.memory: "1Qi" is not a quantity`},
		{"fractional memory", "", "        resources: {requests: {memory: 1.5}}\n", cpath + `.resources.requests.memory: "1.5" is not a whole number of bytes`},
		{"request above limit", "", "        resources: {requests: {cpu: 2}, limits: {cpu: 1}}\n", cpath + `.resources.requests.cpu: 2 must be less than or equal to the cpu limit 1`},
		{"volumeMounts name", "", "        volumeMounts: [{name: www, mountPath: /x}]\n", cpath + `.volumeMounts[0].name: "www" names no volume and no volume claim template`},
		{"mountPath relative", "", "        volumeMounts: [{name: d, mountPath: data}]\n", cpath + `.volumeMounts[0].mountPath: "data": must be an absolute path`},
		{"subPath escape", "", "        volumeMounts: [{name: d, mountPath: /data, subPath: a/../../b}]\n", cpath + `.volumeMounts[0].subPath: "a/../../b": must not contain '..'`},
		{"subPath absolute", "", "        volumeMounts: [{name: d, mountPath: /data, subPath: /b}]\n", cpath + `.volumeMounts[0].subPath: "/b": must be a relative path`},
		{"seLinuxOptions", "", "        securityContext: {seLinuxOptions: {level: s0}}\n", cpath + `.securityContext.seLinuxOptions: field not supported`},
		{"capability", "", "        securityContext: {capabilities: {add: [net_admin]}}\n", cpath + `.securityContext.capabilities.add[0]: "net_admin" is not a capability name`},
		{"seccomp localhost", "", "        securityContext: {seccompProfile: {type: Localhost}}\n", cpath + `.securityContext.seccompProfile.type: "Localhost" is not supported`},
		{"privileged escalation", "", "        securityContext: {privileged: true, allowPrivilegeEscalation: false}\n", cpath + `.securityContext.allowPrivilegeEscalation: cannot be false when privileged is true`},
		{"stopSignal", "", "        lifecycle: {stopSignal: SIGUSR1}\n", cpath + `.lifecycle.stopSignal: field not supported`},
		{"preStop two handlers", "", "        lifecycle: {preStop: {exec: {command: [x]}, sleep: {seconds: 1}}}\n", cpath + `.lifecycle.preStop: must have exactly one handler`},
		{"postStart named port", "", "        lifecycle: {postStart: {httpGet: {port: admin}}}\n", cpath + `.lifecycle.postStart.httpGet.port: no container port named "admin"`},
		{"nfs pod volume", "      containers:", "      volumes: [{name: d, nfs: {server: a, path: /x}}]\n      containers:", `spec.template.spec.volumes[0].nfs: field not supported`},
		{"csi volume", "      containers:", "      volumes: [{name: d, csi: {driver: x}}]\n      containers:", `spec.template.spec.volumes[0].csi: field not supported`},
		{"configMap volume name", "      containers:", "      volumes: [{name: d, configMap: {}}]\n      containers:", `spec.template.spec.volumes[0].configMap.name: required`},
		{"configMap item path", "      containers:", "      volumes: [{name: d, configMap: {name: x, items: [{key: a, path: ../a}]}}]\n      containers:", `spec.template.spec.volumes[0].configMap.items[0].path: "../a": must not contain '..'`},
		{"token projection", "      containers:", "      volumes: [{name: d, projected: {sources: [{serviceAccountToken: {path: t}}]}}]\n      containers:", `spec.template.spec.volumes[0].projected.sources[0].serviceAccountToken: field not supported`},
		{"hostPath relative", "      containers:", "      volumes: [{name: d, hostPath: {path: data}}]\n      containers:", `spec.template.spec.volumes[0].hostPath.path: "data": must be an absolute path`},
		{"hostPath dotdot", "      containers:", "      volumes: [{name: d, hostPath: {path: /a/../etc}}]\n      containers:", `spec.template.spec.volumes[0].hostPath.path: "/a/../etc": must not contain '..'`},
		{"ephemeralContainers", "      containers:", "      ephemeralContainers: [{name: x, image: y}]\n      containers:", `spec.template.spec.ephemeralContainers: field not supported`},
		{"init container probe", "      containers:", "      initContainers: [{name: init, image: i, readinessProbe: {exec: {command: [x]}}}]\n      containers:", `spec.template.spec.initContainers[0].readinessProbe: may not be set for an init container unless it is a sidecar`},
		{"init container name clash", "      containers:", "      initContainers: [{name: nginx, image: i}]\n      containers:", `spec.template.spec.containers[0].name: duplicate container name "nginx"`},
		{"container restartPolicy", "", "        restartPolicy: Always\n", cpath + `.restartPolicy: may only be set for init containers`},
		{"hostAliases", "      containers:", "      hostAliases: [{ip: 10.0.0.1, hostnames: [a]}]\n      containers:", `spec.template.spec.hostAliases: field not supported`},
		{"toleration operator", "      containers:", "      tolerations: [{key: a, operator: Exists, value: b}]\n      containers:", `spec.template.spec.tolerations[0].value: must be empty when operator is Exists`},
		{"spread skew", "      containers:", "      topologySpreadConstraints: [{maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]\n      containers:", `spec.template.spec.topologySpreadConstraints[0].maxSkew: must be >= 1`},
		{"spread minDomains", "      containers:", "      topologySpreadConstraints: [{maxSkew: 1, minDomains: 2, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]\n      containers:", `spec.template.spec.topologySpreadConstraints[0].minDomains: field not supported`},
		{"dnsPolicy", "      containers:", "      dnsPolicy: None\n      containers:", `spec.template.spec.dnsPolicy: "None" is not supported (supported: ClusterFirst, ClusterFirstWithHostNet)`},
		{"template namespace", "      labels:\n        app: nginx\n    spec", "      namespace: other\n      labels:\n        app: nginx\n    spec", `spec.template.metadata.namespace: "other": must be the set's namespace "default"`},
		{"claim template storage", "  serviceName: nginx", "  serviceName: nginx\n  volumeClaimTemplates: [{metadata: {name: www}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Qi}}}}]", `spec.volumeClaimTemplates[0].spec.resources.requests.storage: "1Qi" is not a quantity`},
		{"claim template modes", "  serviceName: nginx", "  serviceName: nginx\n  volumeClaimTemplates: [{metadata: {name: www}, spec: {accessModes: [ReadWriteSome], resources: {requests: {storage: 1Gi}}}}]", `spec.volumeClaimTemplates[0].spec.accessModes[0]: "ReadWriteSome" is not supported`},
		{"retention", "  serviceName: nginx", "  serviceName: nginx\n  persistentVolumeClaimRetentionPolicy: {whenScaled: Keep}", `spec.persistentVolumeClaimRetentionPolicy.whenScaled: "Keep" is not supported`},
		{"missing name", "  name: web\n", "  labels: {a: b}\n", `document 1 (StatefulSet): metadata.name: required`},
		{"bad name", "  name: web\n", "  name: Web_1\n", `metadata.name: "Web_1": must be a DNS-1123 label`},
		{"long name", "  name: web\n", "  name: " + strings.Repeat("a", 62) + "\n", `would exceed 63 characters`},
		{"bad namespace", "  name: web\n", "  name: web\n  namespace: Team\n", `metadata.namespace: "Team"`},
		{"no selector", "  selector:\n    matchLabels:\n      app: nginx\n", "", `StatefulSet default/web: spec.selector: required`},
		{"selector mismatch", "      app: nginx\n  template", "      app: other\n  template", `spec.selector: does not match spec.template.metadata.labels`},
		{"bad selector op", "    matchLabels:\n      app: nginx\n", "    matchExpressions:\n    - {key: app, operator: Equals, values: [nginx]}\n", `spec.selector.matchExpressions[0].operator: "Equals" is not supported`},
		{"Exists with values", "    matchLabels:\n      app: nginx\n", "    matchExpressions:\n    - {key: app, operator: Exists, values: [nginx]}\n", `spec.selector.matchExpressions[0].values: must be empty`},
		{"no containers", "      containers:\n", "      containers: []\n      x:\n", `spec.template.spec.x: unknown field`},
		{"container name duplicate", "", "      - name: nginx\n        image: busybox\n", `spec.template.spec.containers[1].name: duplicate container name "nginx"`},
		{"container name invalid", "      - name: nginx", "      - name: NGINX", cpath + `.name: "NGINX": must be a DNS-1123 label`},
		{"container name missing", "      - name: nginx\n", "      - \n", cpath + `.name: required`},
		{"image missing", "        image: ordo.local/busybox:latest\n", "", cpath + `.image: required`},
		{"restartPolicy", "      containers:", "      restartPolicy: Never\n      containers:", `spec.template.spec.restartPolicy: "Never" is not supported`},
		{"podManagementPolicy", "  replicas: 2", "  replicas: 2\n  podManagementPolicy: Random", `spec.podManagementPolicy: "Random" is not supported`},
		{"updateStrategy type", "  replicas: 2", "  replicas: 2\n  updateStrategy: {type: Recreate}", `spec.updateStrategy.type: "Recreate" is not supported`},
		{"partition", "  replicas: 2", "  replicas: 2\n  updateStrategy: {rollingUpdate: {partition: -1}}", `spec.updateStrategy.rollingUpdate.partition: must be >= 0`},
		{"maxUnavailable 0", "  replicas: 2", "  replicas: 2\n  updateStrategy: {rollingUpdate: {maxUnavailable: 0}}", `spec.updateStrategy.rollingUpdate.maxUnavailable: must be >= 1`},
		{"maxUnavailable percent", "  replicas: 2", "  replicas: 2\n  updateStrategy: {rollingUpdate: {maxUnavailable: 50%}}", `spec.updateStrategy.rollingUpdate.maxUnavailable: "50%": percentages are not supported`},
		{"ordinals.start", "  replicas: 2", "  replicas: 2\n  ordinals: {start: -3}", `spec.ordinals.start: must be >= 0`},
		{"minReadySeconds", "  replicas: 2", "  replicas: 2\n  minReadySeconds: -1", `spec.minReadySeconds: must be >= 0`},
		{"port 0", "containerPort: 80", "containerPort: 0", cpath + `.ports[0].containerPort: must be between 1 and 65535`},
		{"port too big", "containerPort: 80", "containerPort: 70000", cpath + `.ports[0].containerPort: must be between 1 and 65535`},
		{"port protocol", "          name: web\n", "          name: web\n          protocol: SCTP\n", cpath + `.ports[0].protocol: "SCTP" is not supported`},
		{"stdin", "", "        stdin: true\n", cpath + `.stdin: field not supported`},
		{"hostPort range", "          name: web\n", "          name: web\n          hostPort: 70000\n", cpath + `.ports[0].hostPort: must be between 1 and 65535`},
		{"probe no handler", "", "        readinessProbe: {periodSeconds: 1}\n", cpath + `.readinessProbe: must have exactly one handler`},
		{"probe two handlers", "", "        readinessProbe: {exec: {command: [\"true\"]}, tcpSocket: {port: 80}}\n", cpath + `.readinessProbe: must have exactly one handler`},
		{"probe period 0", "", "        readinessProbe: {exec: {command: [\"true\"]}, periodSeconds: 0}\n", cpath + `.readinessProbe.periodSeconds: must be > 0`},
		{"probe period negative", "", "        readinessProbe: {exec: {command: [\"true\"]}, periodSeconds: -0.5}\n", cpath + `.readinessProbe.periodSeconds: must be > 0`},
		{"probe failureThreshold", "", "        readinessProbe: {exec: {command: [\"true\"]}, failureThreshold: 0}\n", cpath + `.readinessProbe.failureThreshold: must be >= 1`},
		{"probe successThreshold", "", "        readinessProbe: {exec: {command: [\"true\"]}, successThreshold: 0}\n", cpath + `.readinessProbe.successThreshold: must be >= 1`},
		{"liveness successThreshold", "", "        livenessProbe: {exec: {command: [\"true\"]}, successThreshold: 2}\n", cpath + `.livenessProbe.successThreshold: must be 1 for liveness and startup probes`},
		{"startup successThreshold", "", "        startupProbe: {exec: {command: [\"true\"]}, successThreshold: 3}\n", cpath + `.startupProbe.successThreshold: must be 1`},
		{"probe unknown named port", "", "        readinessProbe: {httpGet: {port: http}}\n", cpath + `.readinessProbe.httpGet.port: no container port named "http"`},
		{"probe tcp unknown named port", "", "        livenessProbe: {tcpSocket: {port: metrics}}\n", cpath + `.livenessProbe.tcpSocket.port: no container port named "metrics"`},
		{"probe port range", "", "        readinessProbe: {tcpSocket: {port: 0}}\n", cpath + `.readinessProbe.tcpSocket.port: must be between 1 and 65535`},
		{"grpc port", "", "        readinessProbe: {grpc: {port: 99999}}\n", cpath + `.readinessProbe.grpc.port: must be between 1 and 65535`},
		{"exec no command", "", "        readinessProbe: {exec: {}}\n", cpath + `.readinessProbe.exec.command: required`},
		{"probe grace", "", "        readinessProbe: {exec: {command: [x]}, terminationGracePeriodSeconds: 3}\n", cpath + `.readinessProbe.terminationGracePeriodSeconds: field not supported`},
		{"label key", "      app: nginx\n    spec", "      app: nginx\n        -bad: x\n    spec", `spec.template.metadata.labels: invalid key "-bad"`},
		{"label value", "  name: web\n", "  name: web\n  labels: {app: \"a b\"}\n", `metadata.labels[app]: invalid value "a b"`},
		{"label value type", "  name: web\n", "  name: web\n  labels: {version: 2}\n", `metadata.labels[version]: must be a string`},
		{"node affinity op", "      containers:", "      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms:\n            - matchExpressions: [{key: a, operator: Gt, values: [\"1\"]}]\n      containers:",
			`spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator: "Gt" is not supported`},
		{"anti-affinity topologyKey", "      containers:", "      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n          - labelSelector: {matchLabels: {app: nginx}}\n      containers:",
			`spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: required`},
		{"podAffinity namespaces", "      containers:", "      affinity:\n        podAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n          - {labelSelector: {matchLabels: {app: db}}, topologyKey: zone, namespaces: [a]}\n      containers:", `spec.template.spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].namespaces: field not supported`},
		{"preferred weight", "      containers:", "      affinity:\n        nodeAffinity:\n          preferredDuringSchedulingIgnoredDuringExecution:\n          - {weight: 0, preference: {matchExpressions: [{key: disk, operator: In, values: [ssd]}]}}\n      containers:", `spec.template.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: must be between 1 and 100, got 0`},
		{"env valueFrom empty", "", "        env: [{name: A, valueFrom: {}}]\n", cpath + `.env[0].valueFrom: must have exactly one source`},
		{"env fileKeyRef", "", "        env: [{name: A, valueFrom: {fileKeyRef: {path: p, key: k, volumeName: v}}}]\n", cpath + `.env[0].valueFrom.fileKeyRef: field not supported`},
		{"env fieldPath", "", "        env: [{name: A, valueFrom: {fieldRef: {fieldPath: spec.hostname}}}]\n", cpath + `.env[0].valueFrom.fieldRef.fieldPath: "spec.hostname" is not supported`},
		{"env resource container", "", "        env: [{name: A, valueFrom: {resourceFieldRef: {resource: limits.cpu, containerName: other}}}]\n", cpath + `.env[0].valueFrom.resourceFieldRef.containerName: "other" names no container of the pod`},
		{"env key", "", "        env: [{name: A, valueFrom: {configMapKeyRef: {name: cfg, key: \"a b\"}}}]\n", cpath + `.env[0].valueFrom.configMapKeyRef.key: "a b"`},
		{"envFrom both", "", "        envFrom: [{configMapRef: {name: a}, secretRef: {name: b}}]\n", cpath + `.envFrom[0]: must name exactly one of configMapRef and secretRef`},
		{"imagePullPolicy", "", "        imagePullPolicy: Sometimes\n", cpath + `.imagePullPolicy: "Sometimes" is not supported`},
		{"serviceName", "serviceName: nginx", "serviceName: Nginx", `spec.serviceName: "Nginx"`},
		{"apiVersion", "apiVersion: apps/v1", "apiVersion: apps/v1beta1", `StatefulSet default/web: apiVersion: "apps/v1beta1" is not supported for kind StatefulSet (want apps/v1)`},
		{"kind", "kind: StatefulSet", "kind: Deployment", `Deployment web: kind "Deployment" is not supported (supported: StatefulSet, Service, PersistentVolume, PersistentVolumeClaim, StorageClass, ConfigMap, Secret, PodDisruptionBudget)`},
		{"wrong type", "  replicas: 2\n", "  replicas: 2\n  template2: 1\n", `spec.template2: unknown field "template2" (did you mean "template"?)`},
		{"template not an object", "  template:\n", "  template: []\n  x:\n", `spec.template: must be an object`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := base
			if tc.old == "" {
				doc += tc.new
			} else {
				if !strings.Contains(doc, tc.old) {
					t.Fatalf("test case does not apply: %q not in base", tc.old)
				}
				doc = strings.Replace(doc, tc.old, tc.new, 1)
			}
			res, err := manifest.Decode([]byte(doc))
			if err == nil {
				t.Fatalf("Decode succeeded (%v), want error containing %q", res.Objects, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tc.want)
			}
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if res != nil {
				t.Errorf("objects returned with an error: %v", res.Objects)
			}
		})
	}
}

func TestDecodeServiceErrors(t *testing.T) {
	const svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: nginx\nspec:\n  clusterIP: None\n  selector: {app: nginx}\n  ports:\n  - {port: 80, name: web}\n"
	tests := []struct{ old, new, want string }{
		{"port: 80", "port: 0", `Service default/nginx: spec.ports[0].port: must be between 1 and 65535`},
		{"name: web}", "name: web, targetPort: http}", `spec.ports[0].targetPort: "http": named target ports are not supported`},
		{"name: web}", "name: web, targetPort: 70000}", `spec.ports[0].targetPort: must be between 1 and 65535`},
		{"name: web}", "name: web, nodePort: 30000}", `spec.ports[0].nodePort: field not supported`},
		{"name: web}", "name: web, protocol: SCTP}", `spec.ports[0].protocol: "SCTP" is not supported`},
		{"clusterIP: None", "type: NodePort", `spec.type: "NodePort" is not supported`},
		{"clusterIP: None", "clusterIP: nope", `spec.clusterIP: "nope": must be None or an IP address`},
		{"clusterIP: None", "sessionAffinity: ClientIP", `spec.sessionAffinity: "ClientIP" is not supported (supported: None)`},
		{"clusterIP: None", "clusterIP: None\n  externalIPs: [1.2.3.4]", `spec.externalIPs: field not supported`},
		{"clusterIP: None", "clusterIP: None\n  clusterIPs: [10.0.0.1]", `spec.clusterIPs: "10.0.0.1" differs from spec.clusterIP "None"`},
		{"  name: nginx", "  name: nginx.svc", `metadata.name: "nginx.svc": must be a DNS-1123 label`},
		{"  - {port: 80, name: web}\n", "  - {port: 80, name: web}\n  - {port: 81, name: web}\n", `spec.ports[1].name: duplicate port name "web"`},
		{"  - {port: 80, name: web}\n", "  - {port: 80, name: web}\n  - {port: 81}\n", `spec.ports[1].name: required when the service has more than one port`},
		{"apiVersion: v1", "apiVersion: apps/v1", `apiVersion: "apps/v1" is not supported for kind Service (want v1)`},
		{"selector: {app: nginx}", "selector: {app: [nginx]}", `spec.selector[app]: must be a string`},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if !strings.Contains(svc, tc.old) {
				t.Fatalf("test case does not apply: %q", tc.old)
			}
			_, err := manifest.Decode([]byte(strings.Replace(svc, tc.old, tc.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestServiceDefaults(t *testing.T) {
	res, err := manifest.Decode([]byte("apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec:\n  type: ClusterIP\n  selector: {app: api}\n  ports: [{port: 8080}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	objs := res.Objects
	s := objs[0].GetService()
	want := &ordov1.Service{
		Metadata: &ordov1.ObjectMeta{Name: "api", Namespace: "default"},
		Spec: &ordov1.ServiceSpec{Selector: map[string]string{"app": "api"},
			Ports: []*ordov1.ServicePort{{Port: 8080, TargetPort: 8080, Protocol: "TCP"}}},
	}
	if !proto.Equal(s, want) {
		t.Errorf("got %v, want %v", s, want)
	}
	if kind, ns, name := manifest.Ref(objs[0]); kind != "Service" || ns != "default" || name != "api" {
		t.Errorf("Ref = %s %s %s", kind, ns, name)
	}
}

func TestMultiDocumentErrorsNameTheDocument(t *testing.T) {
	doc := base + "---\n# comment only\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n"
	_, err := manifest.Decode([]byte(doc))
	if err == nil || err.Error() != `Deployment x: kind "Deployment" is not supported (supported: StatefulSet, Service, PersistentVolume, PersistentVolumeClaim, StorageClass, ConfigMap, Secret, PodDisruptionBudget)` {
		t.Fatalf("error = %v", err)
	}
	_, err = manifest.Decode([]byte(base + "---\n" + base))
	if err == nil || !strings.Contains(err.Error(), `StatefulSet default/web: defined more than once`) {
		t.Fatalf("duplicate: error = %v", err)
	}
	_, err = manifest.Decode([]byte("# nothing\n---\n"))
	if !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("empty manifest: error = %v", err)
	}
	_, err = manifest.Decode([]byte(base + "---\nkind: Service\n  bad: [indent\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "document 2: invalid YAML") || !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("bad yaml: error = %v", err)
	}
}

func TestDecodeJSON(t *testing.T) {
	doc := `{"apiVersion":"v1","kind":"List","items":[
	  {"apiVersion":"v1","kind":"Service","metadata":{"name":"nginx"},"spec":{"clusterIP":"None","selector":{"app":"nginx"}}},
	  {"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"web"},"spec":{"replicas":3,
	    "selector":{"matchLabels":{"app":"nginx"}},
	    "template":{"metadata":{"labels":{"app":"nginx"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}]}`
	res, err := manifest.Decode([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	objs := res.Objects
	if len(objs) != 2 || objs[0].GetService().GetSpec().GetClusterIp() != "None" || objs[1].GetStatefulSet().GetSpec().GetReplicas() != 3 {
		t.Fatalf("objects = %v", objs)
	}
	_, err = manifest.Decode([]byte(`{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"web"},"spec":{"replicas":-2}}`))
	if err == nil || !strings.Contains(err.Error(), "spec.replicas: must be >= 0") {
		t.Fatalf("error = %v", err)
	}
}

func TestReferenceWebManifest(t *testing.T) {
	data, err := os.ReadFile("testdata/web.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := manifest.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	objs := res.Objects
	if len(objs) != 2 {
		t.Fatalf("got %d objects", len(objs))
	}
	svc := objs[0].GetService()
	if svc.GetMetadata().GetName() != "nginx" || svc.GetSpec().GetClusterIp() != "None" || svc.GetSpec().GetPorts()[0].GetTargetPort() != 80 {
		t.Errorf("service = %v", svc)
	}
	sts := objs[1].GetStatefulSet()
	if sts.GetMetadata().GetName() != "web" || sts.GetSpec().GetReplicas() != 2 || sts.GetSpec().GetServiceName() != "nginx" {
		t.Errorf("statefulset = %v", sts)
	}
	c := sts.GetSpec().GetTemplate().GetSpec().GetContainers()[0]
	if c.GetImage() != "registry.cn-hangzhou.aliyuncs.com/chenshi-kubernetes/nginx-slim:0.8" || c.GetPorts()[0].GetName() != "web" {
		t.Errorf("container = %v", c)
	}
	if m := c.GetVolumeMounts(); len(m) != 1 || m[0].GetName() != "www" || m[0].GetMountPath() != "/usr/share/nginx/html" {
		t.Errorf("volumeMounts = %v", m)
	}
	tmpl := sts.GetSpec().GetVolumeClaimTemplates()
	if len(tmpl) != 1 || tmpl[0].GetMetadata().GetName() != "www" || tmpl[0].GetSpec().GetStorageBytes() != 10<<20 ||
		tmpl[0].GetSpec().GetStorageClassName() != "local-storage" || tmpl[0].GetSpec().GetAccessModes()[0] != "ReadWriteOnce" {
		t.Errorf("volumeClaimTemplates = %v", tmpl)
	}
}

func TestReferenceMongoManifest(t *testing.T) {
	data, err := os.ReadFile("testdata/mongo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := manifest.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	sts := res.Objects[1].GetStatefulSet()
	spec := sts.GetSpec()
	if spec.GetReplicas() != 3 || spec.GetPodManagementPolicy() != "Parallel" {
		t.Errorf("spec = %v", spec)
	}
	aa := spec.GetTemplate().GetSpec().GetAffinity().GetPodAntiAffinityRequired()
	if len(aa) != 1 || aa[0].GetTopologyKey() != "kubernetes.io/hostname" ||
		aa[0].GetLabelSelector().GetMatchExpressions()[0].GetValues()[0] != "mongo" {
		t.Errorf("anti-affinity = %v", aa)
	}
	if got := spec.GetTemplate().GetSpec().GetContainers()[0].GetCommand(); strings.Join(got, " ") != "mongod --bind_ip_all --replSet rs0" {
		t.Errorf("command = %v", got)
	}
	// The published version mounts hostPath volumes.
	withVolumes := string(data) + "        volumeMounts:\n        - {name: mongo-data, mountPath: /data/db}\n      volumes:\n      - name: mongo-data\n        hostPath: {path: /home/x/mongodb/db}\n"
	res, err = manifest.Decode([]byte(withVolumes))
	if err != nil {
		t.Fatal(err)
	}
	if v := res.Objects[1].GetStatefulSet().GetSpec().GetTemplate().GetSpec().GetVolumes(); len(v) != 1 || v[0].GetHostPath().GetPath() != "/home/x/mongodb/db" {
		t.Errorf("volumes = %v", v)
	}
}

func TestNormalizeTyped(t *testing.T) {
	obj := &ordov1.Object{Kind: &ordov1.Object_StatefulSet{StatefulSet: &ordov1.StatefulSet{
		Metadata: &ordov1.ObjectMeta{Name: "web"},
		Spec: &ordov1.StatefulSetSpec{
			Replicas: 0,
			Selector: &ordov1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: &ordov1.PodTemplate{
				Metadata: &ordov1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: &ordov1.PodSpec{Containers: []*ordov1.Container{{Name: "c", Image: "i",
					ReadinessProbe: &ordov1.Probe{Exec: &ordov1.ExecAction{Command: []string{"true"}}}}}},
			},
		},
	}}}
	if err := manifest.Normalize(obj); err != nil {
		t.Fatal(err)
	}
	s := obj.GetStatefulSet()
	if s.Spec.Replicas != 0 || s.Metadata.Namespace != "default" || s.Spec.RevisionHistoryLimit != 10 {
		t.Errorf("spec = %v", s.Spec)
	}
	p := s.Spec.Template.Spec.Containers[0].ReadinessProbe
	if p.PeriodMs != 10000 || p.TimeoutMs != 1000 || p.SuccessThreshold != 1 || p.FailureThreshold != 3 {
		t.Errorf("probe defaults = %v", p)
	}
	// Idempotent.
	again := proto.Clone(obj).(*ordov1.Object)
	if err := manifest.Normalize(again); err != nil || !proto.Equal(again, obj) {
		t.Errorf("second Normalize changed the object or failed: %v", err)
	}

	s.Spec.Replicas = -1
	err := manifest.Normalize(obj)
	if err == nil || err.Error() != "spec.replicas: must be >= 0" || !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("error = %v", err)
	}
	s.Spec.Replicas = 1
	s.Spec.Template.Spec.Containers[0].ReadinessProbe.PeriodMs = -5
	if err := manifest.Normalize(obj); err == nil || !strings.Contains(err.Error(), "readinessProbe.periodSeconds: must be > 0") {
		t.Errorf("error = %v", err)
	}
	if err := manifest.Normalize(&ordov1.Object{}); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("empty object: %v", err)
	}
}
