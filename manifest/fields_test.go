package manifest_test

import (
	"errors"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/manifest"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// set is a StatefulSet whose pod spec is spec (indented by six spaces,
// below "spec:" of the template).
func set(spec string) string {
	return `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
` + spec
}

// podSpec decodes a set and returns its pod spec and the warnings.
func podSpec(t *testing.T, spec string) (*ordov1.PodSpec, []string) {
	t.Helper()
	res, err := manifest.Decode([]byte(set(spec)))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return res.Objects[0].GetStatefulSet().GetSpec().GetTemplate().GetSpec(), res.Warnings
}

func equal(t *testing.T, what string, got, want proto.Message) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

func i64(v int64) *int64 { return &v }
func i32(v int32) *int32 { return &v }
func yes() *bool         { v := true; return &v }

func TestEnvSources(t *testing.T) {
	ps, _ := podSpec(t, `      containers:
      - name: db
        image: i
        env:
        - {name: A, value: "x $(B)"}
        - name: POD
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        - name: ZONE
          valueFrom: {fieldRef: {apiVersion: v1, fieldPath: "metadata.labels['topology.kubernetes.io/zone']"}}
        - name: MEM
          valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}
        - name: CONF
          valueFrom: {configMapKeyRef: {name: cfg, key: app.conf}}
        - name: PASS
          valueFrom: {secretKeyRef: {name: creds, key: password, optional: true}}
        envFrom:
        - {configMapRef: {name: cfg}}
        - {prefix: DB_, secretRef: {name: creds, optional: true}}
`)
	c := ps.GetContainers()[0]
	equal(t, "env", &ordov1.Container{Env: c.Env, EnvFrom: c.EnvFrom}, &ordov1.Container{
		Env: []*ordov1.EnvVar{
			{Name: "A", Value: "x $(B)"},
			{Name: "POD", ValueFrom: &ordov1.EnvVarSource{FieldRef: &ordov1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "ZONE", ValueFrom: &ordov1.EnvVarSource{FieldRef: &ordov1.ObjectFieldSelector{FieldPath: "metadata.labels['topology.kubernetes.io/zone']"}}},
			{Name: "MEM", ValueFrom: &ordov1.EnvVarSource{ResourceFieldRef: &ordov1.ResourceFieldSelector{Resource: "limits.memory", Divisor: "1Mi"}}},
			{Name: "CONF", ValueFrom: &ordov1.EnvVarSource{ConfigMapKeyRef: &ordov1.KeySelector{Name: "cfg", Key: "app.conf"}}},
			{Name: "PASS", ValueFrom: &ordov1.EnvVarSource{SecretKeyRef: &ordov1.KeySelector{Name: "creds", Key: "password", Optional: true}}},
		},
		EnvFrom: []*ordov1.EnvFromSource{{ConfigMap: "cfg"}, {Prefix: "DB_", Secret: "creds", Optional: true}},
	})
}

func TestResources(t *testing.T) {
	ps, warnings := podSpec(t, `      containers:
      - name: db
        image: i
        resources:
          limits: {cpu: 2, memory: 1.5Gi, ephemeral-storage: 1Gi}
          requests: {cpu: 250m}
      - name: side
        image: i
        resources:
          requests: {memory: 64Mi, cpu: 0.1}
`)
	equal(t, "resources", ps.GetContainers()[0].GetResources(), &ordov1.ResourceRequirements{
		Limits:         map[string]string{"cpu": "2", "memory": "1.5Gi"},
		Requests:       map[string]string{"cpu": "250m", "memory": "1.5Gi"}, // the request defaults to the limit
		CpuLimitMillis: 2000, CpuRequestMillis: 250, MemoryLimitBytes: 3 << 29, MemoryRequestBytes: 3 << 29,
	})
	equal(t, "requests only", ps.GetContainers()[1].GetResources(), &ordov1.ResourceRequirements{
		Requests: map[string]string{"cpu": "0.1", "memory": "64Mi"}, CpuRequestMillis: 100, MemoryRequestBytes: 64 << 20,
	})
	if len(warnings) != 1 || warnings[0] != "StatefulSet default/db: spec.template.spec.containers[0].resources.limits.ephemeral-storage: local storage is not limited here; accepted without effect" {
		t.Errorf("warnings = %q", warnings)
	}
}

func TestLifecycle(t *testing.T) {
	ps, _ := podSpec(t, `      containers:
      - name: db
        image: i
        ports: [{name: admin, containerPort: 9000}]
        lifecycle:
          postStart: {httpGet: {path: /started, port: admin}}
          preStop: {sleep: {seconds: 5}}
      - name: side
        image: i
        lifecycle:
          preStop: {tcpSocket: {port: 7000}}
`)
	equal(t, "lifecycle", ps.GetContainers()[0].GetLifecycle(), &ordov1.Lifecycle{
		PostStart: &ordov1.LifecycleHandler{HttpGet: &ordov1.HTTPGetAction{Path: "/started", Port: 9000, Scheme: "HTTP"}},
		PreStop:   &ordov1.LifecycleHandler{Sleep: true, SleepSeconds: 5},
	})
	equal(t, "tcp preStop", ps.GetContainers()[1].GetLifecycle(), &ordov1.Lifecycle{
		PreStop: &ordov1.LifecycleHandler{TcpSocket: &ordov1.TCPSocketAction{Port: 7000}},
	})
}

func TestSecurityContexts(t *testing.T) {
	ps, _ := podSpec(t, `      securityContext:
        runAsUser: 1000
        runAsGroup: 3000
        runAsNonRoot: true
        fsGroup: 2000
        supplementalGroups: [4000, 5000]
        seccompProfile: {type: RuntimeDefault}
        sysctls: [{name: net.core.somaxconn, value: "1024"}]
      containers:
      - name: db
        image: i
        securityContext:
          runAsUser: 0
          privileged: false
          readOnlyRootFilesystem: true
          allowPrivilegeEscalation: false
          capabilities: {add: [IPC_LOCK, SYS_RESOURCE], drop: [ALL]}
          seccompProfile: {type: Unconfined}
`)
	equal(t, "pod", ps.GetSecurityContext(), &ordov1.PodSecurityContext{
		RunAsUser: i64(1000), RunAsGroup: i64(3000), RunAsNonRoot: yes(), FsGroup: i64(2000),
		SupplementalGroups: []int64{4000, 5000}, SeccompProfile: "RuntimeDefault",
		Sysctls: []*ordov1.Sysctl{{Name: "net.core.somaxconn", Value: "1024"}},
	})
	no := false
	equal(t, "container", ps.GetContainers()[0].GetSecurityContext(), &ordov1.SecurityContext{
		RunAsUser: i64(0), Privileged: &no, ReadOnlyRootFilesystem: yes(), AllowPrivilegeEscalation: &no,
		Capabilities:   &ordov1.Capabilities{Add: []string{"IPC_LOCK", "SYS_RESOURCE"}, Drop: []string{"ALL"}},
		SeccompProfile: "Unconfined",
	})
}

func TestInitContainersAndSidecars(t *testing.T) {
	ps, _ := podSpec(t, `      initContainers:
      - name: setup
        image: i
        command: [sh, -c, "echo ok"]
      - name: proxy
        image: p
        restartPolicy: Always
        readinessProbe: {tcpSocket: {port: 15000}}
      containers:
      - name: db
        image: i
`)
	init := ps.GetInitContainers()
	if len(init) != 2 || init[0].GetName() != "setup" || init[0].GetRestartPolicy() != "" || init[0].GetImagePullPolicy() != "IfNotPresent" {
		t.Fatalf("init containers = %v", init)
	}
	if init[1].GetRestartPolicy() != "Always" || init[1].GetReadinessProbe().GetTcpSocket().GetPort() != 15000 || init[1].GetReadinessProbe().GetPeriodMs() != 10000 {
		t.Errorf("sidecar = %v", init[1])
	}
}

func TestConfigVolumes(t *testing.T) {
	ps, _ := podSpec(t, `      volumes:
      - name: conf
        configMap:
          name: cfg
          defaultMode: 0440
          items: [{key: app.conf, path: conf/app.conf, mode: 0400}]
      - name: creds
        secret: {secretName: creds, optional: true}
      - name: info
        downwardAPI:
          items:
          - {path: labels, fieldRef: {fieldPath: metadata.labels}}
          - {path: cpu, resourceFieldRef: {containerName: db, resource: requests.cpu, divisor: 1m}}
      - name: all
        projected:
          defaultMode: 0444
          sources:
          - configMap: {name: cfg}
          - secret: {name: creds, items: [{key: password, path: pw}]}
          - downwardAPI: {items: [{path: name, fieldRef: {fieldPath: metadata.name}}]}
      containers:
      - name: db
        image: i
        volumeMounts:
        - {name: conf, mountPath: /etc/app}
        - {name: creds, mountPath: /etc/creds, readOnly: true}
        - {name: info, mountPath: /etc/info}
        - {name: all, mountPath: /etc/all}
`)
	equal(t, "volumes", &ordov1.PodSpec{Volumes: ps.GetVolumes()}, &ordov1.PodSpec{Volumes: []*ordov1.Volume{
		{Name: "conf", ConfigMap: &ordov1.ConfigMapVolumeSource{Name: "cfg", DefaultMode: i32(0o440),
			Items: []*ordov1.KeyToPath{{Key: "app.conf", Path: "conf/app.conf", Mode: i32(0o400)}}}},
		{Name: "creds", Secret: &ordov1.SecretVolumeSource{SecretName: "creds", Optional: true}},
		{Name: "info", DownwardApi: &ordov1.DownwardAPIVolumeSource{Items: []*ordov1.DownwardAPIVolumeFile{
			{Path: "labels", FieldRef: &ordov1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
			{Path: "cpu", ResourceFieldRef: &ordov1.ResourceFieldSelector{ContainerName: "db", Resource: "requests.cpu", Divisor: "1m"}},
		}}},
		{Name: "all", Projected: &ordov1.ProjectedVolumeSource{DefaultMode: i32(0o444), Sources: []*ordov1.VolumeProjection{
			{ConfigMap: &ordov1.ConfigMapVolumeSource{Name: "cfg"}},
			{Secret: &ordov1.SecretVolumeSource{SecretName: "creds", Items: []*ordov1.KeyToPath{{Key: "password", Path: "pw"}}}},
			{DownwardApi: &ordov1.DownwardAPIVolumeSource{Items: []*ordov1.DownwardAPIVolumeFile{
				{Path: "name", FieldRef: &ordov1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}},
		}}},
	}})
}

func TestAffinitiesAndSpread(t *testing.T) {
	ps, _ := podSpec(t, `      affinity:
        nodeAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 20
            preference: {matchExpressions: [{key: disk, operator: In, values: [ssd]}]}
        podAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - {labelSelector: {matchLabels: {app: cache}}, topologyKey: topology.kubernetes.io/zone}
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 50
            podAffinityTerm: {labelSelector: {matchLabels: {app: web}}, topologyKey: kubernetes.io/hostname}
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm: {labelSelector: {matchLabels: {app: db}}, topologyKey: kubernetes.io/hostname}
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: ScheduleAnyway
        labelSelector: {matchLabels: {app: db}}
      containers: [{name: db, image: i}]
`)
	sel := func(k, v string) *ordov1.LabelSelector {
		return &ordov1.LabelSelector{MatchLabels: map[string]string{k: v}}
	}
	equal(t, "affinity", ps.GetAffinity(), &ordov1.Affinity{
		NodeAffinityPreferred: []*ordov1.PreferredSchedulingTerm{{Weight: 20, Preference: &ordov1.NodeSelectorTerm{
			MatchExpressions: []*ordov1.NodeSelectorRequirement{{Key: "disk", Operator: "In", Values: []string{"ssd"}}}}}},
		PodAffinityRequired: []*ordov1.PodAffinityTerm{{LabelSelector: sel("app", "cache"), TopologyKey: "topology.kubernetes.io/zone"}},
		PodAffinityPreferred: []*ordov1.WeightedPodAffinityTerm{{Weight: 50,
			PodAffinityTerm: &ordov1.PodAffinityTerm{LabelSelector: sel("app", "web"), TopologyKey: "kubernetes.io/hostname"}}},
		PodAntiAffinityPreferred: []*ordov1.WeightedPodAffinityTerm{{Weight: 100,
			PodAffinityTerm: &ordov1.PodAffinityTerm{LabelSelector: sel("app", "db"), TopologyKey: "kubernetes.io/hostname"}}},
	})
	equal(t, "spread", &ordov1.PodSpec{TopologySpreadConstraints: ps.GetTopologySpreadConstraints()}, &ordov1.PodSpec{
		TopologySpreadConstraints: []*ordov1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "kubernetes.io/hostname",
			WhenUnsatisfiable: "ScheduleAnyway", LabelSelector: sel("app", "db")}},
	})
}

func TestTolerations(t *testing.T) {
	ps, warnings := podSpec(t, `      tolerations:
      - {key: dedicated, value: db, effect: NoSchedule}
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 30}
      containers: [{name: db, image: i}]
`)
	equal(t, "tolerations", &ordov1.PodSpec{Tolerations: ps.GetTolerations()}, &ordov1.PodSpec{Tolerations: []*ordov1.Toleration{
		{Key: "dedicated", Operator: "Equal", Value: "db", Effect: "NoSchedule"},
		{Key: "node.kubernetes.io/unreachable", Operator: "Exists", Effect: "NoExecute", TolerationSeconds: i64(30)},
	}})
	if len(warnings) != 1 || warnings[0] != "StatefulSet default/db: spec.template.spec.tolerations: nodes here have no taints; accepted without effect" {
		t.Errorf("warnings = %q", warnings)
	}
}

func TestHostPorts(t *testing.T) {
	ps, _ := podSpec(t, `      containers:
      - name: db
        image: i
        ports: [{containerPort: 5432, hostPort: 15432, hostIP: 127.0.0.1}]
`)
	equal(t, "port", ps.GetContainers()[0].GetPorts()[0], &ordov1.ContainerPort{ContainerPort: 5432, Protocol: "TCP", HostPort: 15432, HostIp: "127.0.0.1"})
}

func TestConfigObjects(t *testing.T) {
	res, err := manifest.Decode([]byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: team}
data: {app.conf: "port=1\n"}
binaryData: {blob: AAEC}
immutable: true
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
type: kubernetes.io/basic-auth
data: {username: YWRtaW4=, password: b2xk}
stringData: {password: new}
---
apiVersion: v1
kind: Secret
metadata: {name: plain}
stringData: {token: t}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: db}
spec:
  minAvailable: 50%
  selector: {matchLabels: {app: db}}
`))
	if err != nil {
		t.Fatal(err)
	}
	o := res.Objects
	equal(t, "configmap", o[0].GetConfigMap(), &ordov1.ConfigMap{
		Metadata: &ordov1.ObjectMeta{Name: "cfg", Namespace: "team"},
		Data:     map[string]string{"app.conf": "port=1\n"}, BinaryData: map[string][]byte{"blob": {0, 1, 2}}, Immutable: true,
	})
	equal(t, "secret", o[1].GetSecret(), &ordov1.Secret{
		Metadata: &ordov1.ObjectMeta{Name: "creds", Namespace: "default"}, Type: "kubernetes.io/basic-auth",
		Data: map[string][]byte{"username": []byte("admin"), "password": []byte("new")}, // stringData wins
	})
	if s := o[2].GetSecret(); s.GetType() != "Opaque" || string(s.GetData()["token"]) != "t" {
		t.Errorf("secret = %v", s)
	}
	equal(t, "pdb", o[3].GetPodDisruptionBudget(), &ordov1.PodDisruptionBudget{
		Metadata: &ordov1.ObjectMeta{Name: "db", Namespace: "default"},
		Spec:     &ordov1.PodDisruptionBudgetSpec{MinAvailable: "50%", Selector: &ordov1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}},
	})
	if k, ns, n := manifest.Ref(o[3]); k != "PodDisruptionBudget" || ns != "default" || n != "db" {
		t.Errorf("Ref = %s %s %s", k, ns, n)
	}

	for _, tc := range []struct{ doc, want string }{
		{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {\"a/b\": x}\n", `ConfigMap default/c: data[a/b]: invalid key`},
		{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: x}\nbinaryData: {a: eA==}\n", `binaryData[a]: the key is in data too`},
		{"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: \"not base64!\"}\n", `Secret default/s: data[a]: must be base64 text`},
		{"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: {minAvailable: 1, maxUnavailable: 1}\n", `spec: minAvailable and maxUnavailable may not both be set`},
		{"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: {maxUnavailable: 150%}\n", `spec.maxUnavailable: "150%": must be no more than 100%`},
		{"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: {maxUnavailable: -1}\n", `spec.maxUnavailable: must be >= 0`},
		{"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: {minAvailable: 1, unhealthyPodEvictionPolicy: AlwaysAllow}\n", `spec.unhealthyPodEvictionPolicy: field not supported`},
		{"apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: {minAvailable: 1}\n", `apiVersion: "policy/v1beta1" is not supported for kind PodDisruptionBudget (want policy/v1)`},
	} {
		_, err := manifest.Decode([]byte(tc.doc))
		if err == nil || !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Decode(%q)\nerror = %v\nwant   %q", tc.doc, err, tc.want)
		}
	}
}

// Fields that can have no effect here are accepted, each with a warning
// that names it and says so.
func TestWarnings(t *testing.T) {
	res, err := manifest.Decode([]byte(`apiVersion: v1
kind: ServiceAccount
metadata: {name: zk}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: zk}
---
apiVersion: v1
kind: Service
metadata: {name: db, resourceVersion: "12"}
spec:
  clusterIP: None
  sessionAffinity: None
  selector: {app: db}
  ports: [{port: 5432, appProtocol: postgresql}]
---
` + set(`      serviceAccountName: zk
      automountServiceAccountToken: false
      imagePullSecrets: [{name: registry}]
      priorityClassName: high
      dnsPolicy: ClusterFirst
      volumes:
      - {name: data, emptyDir: {}}
      containers:
      - name: db
        image: i
        terminationMessagePath: /dev/termination-log
        terminationMessagePolicy: File
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata:
      name: data
      annotations: {volume.beta.kubernetes.io/storage-class: fast}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
`)))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Objects) != 2 {
		t.Fatalf("objects = %v (service accounts and RBAC are not stored)", res.Objects)
	}
	want := []string{
		"ServiceAccount default/zk: not stored: pods here have no API to call, so service accounts and their permissions have no effect",
		"ClusterRoleBinding zk: not stored: pods here have no API to call, so service accounts and their permissions have no effect",
		"Service default/db: metadata.resourceVersion: written by a Kubernetes API server; ignored",
		"Service default/db: spec.ports[0].appProtocol: read by no proxy here; accepted without effect",
		"Service default/db: spec.sessionAffinity: connections are not pinned to a pod here; accepted without effect",
		"StatefulSet default/db: spec.template.spec.volumes[0]: the volume claim template \"data\" takes the place of this volume, as in Kubernetes; dropped",
		"StatefulSet default/db: spec.template.spec.containers[0].terminationMessagePath: termination messages are not collected here; accepted without effect",
		"StatefulSet default/db: spec.template.spec.containers[0].terminationMessagePolicy: termination messages are not collected here; accepted without effect",
		"StatefulSet default/db: spec.template.spec.serviceAccountName: pods here have no API to reach; accepted without effect",
		"StatefulSet default/db: spec.template.spec.automountServiceAccountToken: pods here have no API to reach; accepted without effect",
		"StatefulSet default/db: spec.template.spec.imagePullSecrets: images are pulled without credentials here; accepted without effect",
		"StatefulSet default/db: spec.template.spec.dnsPolicy: pods resolve names through the cluster DNS already; accepted without effect",
		"StatefulSet default/db: spec.template.spec.priorityClassName: pods here have no priorities or preemption; accepted without effect",
	}
	got := append([]string(nil), res.Warnings...)
	if strings.Join(sorted(got), "\n") != strings.Join(sorted(want), "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	spec := res.Objects[1].GetStatefulSet().GetSpec()
	if v := spec.GetTemplate().GetSpec().GetVolumes(); len(v) != 0 {
		t.Errorf("volumes = %v, want the pod volume dropped", v)
	}
	if ct := spec.GetVolumeClaimTemplates()[0].GetSpec(); ct.GetStorageClassName() != "fast" || !ct.GetStorageClassSet() {
		t.Errorf("claim template class = %q (set %t), want the annotation's", ct.GetStorageClassName(), ct.GetStorageClassSet())
	}
	if sa := spec.GetTemplate().GetSpec().GetServiceAccountName(); sa != "zk" {
		t.Errorf("serviceAccountName = %q", sa)
	}
}

func sorted(s []string) []string {
	sort.Strings(s)
	return s
}

// One Decode names every problem of every document, each with its object.
func TestAllProblemsAtOnce(t *testing.T) {
	doc := set(`      hostPID: true
      containers:
      - name: db
        imagee: i
        ports: [{containerPort: 0}]
        readinessProbe: {httpGet: {port: http}}
`) + `---
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  type: LoadBalancer
  ports: [{port: "5432"}]
---
kind: StatefulSet
apiVersion: apps/v1
metadata: {labels: {a: b}}
spec: {replicas: many}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ok}
---
apiVersion: v1
kind: Secret
metadata: {name: bad
`
	_, err := manifest.Decode([]byte(doc))
	if err == nil || !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("error = %v", err)
	}
	var merr *manifest.Error
	if !errors.As(err, &merr) {
		t.Fatalf("error %T is no *manifest.Error", err)
	}
	want := []string{
		`StatefulSet default/db: spec.template.spec.containers[0].imagee: unknown field "imagee" (did you mean "image"?)`,
		`StatefulSet default/db: spec.template.spec.hostPID: field not supported`,
		`StatefulSet default/db: spec.template.spec.containers[0].readinessProbe.httpGet.port: no container port named "http"`,
		`StatefulSet default/db: spec.template.spec.containers[0].image: required`,
		`StatefulSet default/db: spec.template.spec.containers[0].ports[0].containerPort: must be between 1 and 65535, got 0`,
		`Service default/db: spec.ports[0].port: must be an integer, got string "5432"`,
		`Service default/db: spec.type: "LoadBalancer" is not supported (supported: ClusterIP)`,
		`document 3 (StatefulSet): spec.replicas: must be an integer, got string "many"`,
		`document 3 (StatefulSet): metadata.name: required`,
		`document 3 (StatefulSet): spec.selector: required`,
		`document 3 (StatefulSet): spec.template.spec.containers: must have at least one container`,
	}
	if got := strings.Join(merr.Problems[:len(merr.Problems)-1], "\n"); got != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if last := merr.Problems[len(merr.Problems)-1]; !strings.HasPrefix(last, "document 5: invalid YAML: ") {
		t.Errorf("last problem = %q", last)
	}
	if err.Error() != strings.Join(merr.Problems, "\n") {
		t.Errorf("Error() = %q", err.Error())
	}
}

// terminationGracePeriodSeconds: 0 is kept (stop at once); unset is 30.
func TestZeroGracePeriodKept(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "": 30, "7": 7} {
		grace := ""
		if in != "" {
			grace = "      terminationGracePeriodSeconds: " + in + "\n"
		}
		res, err := manifest.Decode([]byte("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web}\nspec:\n  serviceName: web\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n" + grace + "      containers: [{name: c, image: busybox}]\n"))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		ps := res.Objects[0].GetStatefulSet().GetSpec().GetTemplate().GetSpec()
		if ps.TerminationGracePeriodSeconds == nil || *ps.TerminationGracePeriodSeconds != want {
			t.Errorf("%q: grace %v, want %d", in, ps.TerminationGracePeriodSeconds, want)
		}
	}
}
