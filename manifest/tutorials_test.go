package manifest_test

import (
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/manifest"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// The manifests of the Kubernetes documentation's StatefulSet tutorials
// apply unchanged.

// decodeTutorial decodes a file of test/e2e/testdata and returns its
// objects by "Kind/name".
func decodeTutorial(t *testing.T, name string) (map[string]*ordov1.Object, []string) {
	t.Helper()
	data, err := os.ReadFile("../test/e2e/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	res, err := manifest.Decode(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	objs := map[string]*ordov1.Object{}
	for _, o := range res.Objects {
		kind, _, n := manifest.Ref(o)
		objs[kind+"/"+n] = o
		// What the CLI sends, the scheduler normalizes again: nothing changes.
		again := proto.Clone(o).(*ordov1.Object)
		if err := manifest.Normalize(again); err != nil || !proto.Equal(again, o) {
			t.Errorf("%s %s: Normalize again: %v\n%v\n%v", name, n, err, again, o)
		}
	}
	return objs, res.Warnings
}

func TestTutorialWeb(t *testing.T) {
	objs, warnings := decodeTutorial(t, "web.yaml")
	if len(objs) != 2 || len(warnings) != 0 {
		t.Fatalf("objects %v, warnings %q", objs, warnings)
	}
	set := objs["StatefulSet/web"].GetStatefulSet()
	if set.GetSpec().GetServiceName() != "nginx" || set.GetSpec().GetReplicas() != 2 {
		t.Errorf("spec = %v", set.GetSpec())
	}
	if ct := set.GetSpec().GetVolumeClaimTemplates(); len(ct) != 1 || ct[0].GetSpec().GetStorageBytes() != 1<<30 || ct[0].GetSpec().GetStorageClassSet() {
		t.Errorf("claim templates = %v", ct)
	}
}

func TestTutorialZooKeeper(t *testing.T) {
	objs, warnings := decodeTutorial(t, "zookeeper.yaml")
	if len(objs) != 4 || len(warnings) != 0 {
		t.Fatalf("objects %v, warnings %q", objs, warnings)
	}
	pdb := objs["PodDisruptionBudget/zk-pdb"].GetPodDisruptionBudget()
	if pdb.GetSpec().GetMaxUnavailable() != "1" || pdb.GetSpec().GetMinAvailable() != "" ||
		pdb.GetSpec().GetSelector().GetMatchLabels()["app.kubernetes.io/name"] != "zk" {
		t.Errorf("pdb = %v", pdb)
	}
	if svc := objs["Service/zk-cs"].GetService(); svc.GetSpec().GetClusterIp() != "" || svc.GetSpec().GetPorts()[0].GetTargetPort() != 2181 {
		t.Errorf("zk-cs = %v", svc)
	}
	set := objs["StatefulSet/zk"].GetStatefulSet()
	ps := set.GetSpec().GetTemplate().GetSpec()
	aa := ps.GetAffinity().GetPodAntiAffinityRequired()
	if len(aa) != 1 || aa[0].GetTopologyKey() != "kubernetes.io/hostname" ||
		aa[0].GetLabelSelector().GetMatchExpressions()[0].GetKey() != "app" {
		t.Errorf("anti-affinity = %v", aa)
	}
	if sc := ps.GetSecurityContext(); sc.GetRunAsUser() != 1000 || sc.GetFsGroup() != 1000 || sc.RunAsGroup != nil {
		t.Errorf("pod securityContext = %v", sc)
	}
	c := ps.GetContainers()[0]
	if r := c.GetResources(); r.GetCpuRequestMillis() != 500 || r.GetMemoryRequestBytes() != 1<<30 ||
		r.GetRequests()["cpu"] != "0.5" || r.GetCpuLimitMillis() != 0 || len(r.GetLimits()) != 0 {
		t.Errorf("resources = %v", r)
	}
	if c.GetImagePullPolicy() != "Always" || len(c.GetPorts()) != 3 || !strings.HasPrefix(c.GetCommand()[2], "start-zookeeper --servers=3") {
		t.Errorf("container = %v", c)
	}
	for _, p := range []*ordov1.Probe{c.GetReadinessProbe(), c.GetLivenessProbe()} {
		if strings.Join(p.GetExec().GetCommand(), " ") != "sh -c zookeeper-ready 2181" || p.GetInitialDelayMs() != 10000 ||
			p.GetTimeoutMs() != 5000 || p.GetPeriodMs() != 10000 || p.GetFailureThreshold() != 3 {
			t.Errorf("probe = %v", p)
		}
	}
	if us := set.GetSpec().GetUpdateStrategy(); us.GetType() != "RollingUpdate" {
		t.Errorf("updateStrategy = %v", us)
	}
}

func TestTutorialMySQL(t *testing.T) {
	objs, warnings := decodeTutorial(t, "mysql.yaml")
	if len(objs) != 4 || len(warnings) != 0 {
		t.Fatalf("objects %v, warnings %q", objs, warnings)
	}
	cm := objs["ConfigMap/mysql"].GetConfigMap()
	if !strings.Contains(cm.GetData()["primary.cnf"], "log-bin") || !strings.Contains(cm.GetData()["replica.cnf"], "super-read-only") {
		t.Errorf("configmap = %v", cm)
	}
	ps := objs["StatefulSet/mysql"].GetStatefulSet().GetSpec().GetTemplate().GetSpec()
	init := ps.GetInitContainers()
	if len(init) != 2 || init[0].GetName() != "init-mysql" || init[1].GetName() != "clone-mysql" || init[0].GetRestartPolicy() != "" {
		t.Fatalf("init containers = %v", init)
	}
	if m := init[1].GetVolumeMounts()[0]; m.GetName() != "data" || m.GetSubPath() != "mysql" {
		t.Errorf("clone-mysql mount = %v", m)
	}
	vols := ps.GetVolumes()
	if len(vols) != 2 || vols[0].GetEmptyDir() == nil || vols[1].GetConfigMap().GetName() != "mysql" || len(vols[1].GetConfigMap().GetItems()) != 0 {
		t.Errorf("volumes = %v", vols)
	}
	cs := ps.GetContainers()
	if len(cs) != 2 || cs[1].GetResources().GetCpuRequestMillis() != 100 || cs[1].GetResources().GetMemoryRequestBytes() != 100<<20 {
		t.Errorf("containers = %v", cs)
	}
	if p := cs[0].GetReadinessProbe(); p.GetPeriodMs() != 2000 || p.GetTimeoutMs() != 1000 || p.GetInitialDelayMs() != 5000 {
		t.Errorf("readiness = %v", p)
	}
}

func TestTutorialCassandra(t *testing.T) {
	objs, warnings := decodeTutorial(t, "cassandra.yaml")
	if len(objs) != 3 {
		t.Fatalf("objects %v", objs)
	}
	// The StorageClass is stored, with a word that its provisioner and
	// parameters do nothing here.
	if len(warnings) != 2 || !strings.HasPrefix(warnings[0], "StorageClass fast: parameters: ") || !strings.HasPrefix(warnings[1], "StorageClass fast: provisioner: ") {
		t.Errorf("warnings = %q", warnings)
	}
	if sc := objs["StorageClass/fast"].GetStorageClass(); sc.GetProvisioner() != "k8s.io/minikube-hostpath" {
		t.Errorf("storage class = %v", sc)
	}
	set := objs["StatefulSet/cassandra"].GetStatefulSet()
	ps := set.GetSpec().GetTemplate().GetSpec()
	if ps.GetTerminationGracePeriodSeconds() != 500 {
		t.Errorf("grace = %d", ps.GetTerminationGracePeriodSeconds())
	}
	c := ps.GetContainers()[0]
	if pre := c.GetLifecycle().GetPreStop(); strings.Join(pre.GetExec().GetCommand(), " ") != "/bin/sh -c nodetool drain" || c.GetLifecycle().GetPostStart() != nil {
		t.Errorf("lifecycle = %v", c.GetLifecycle())
	}
	if caps := c.GetSecurityContext().GetCapabilities(); len(caps.GetAdd()) != 1 || caps.GetAdd()[0] != "IPC_LOCK" {
		t.Errorf("capabilities = %v", caps)
	}
	if r := c.GetResources(); r.GetCpuLimitMillis() != 500 || r.GetCpuRequestMillis() != 500 || r.GetMemoryLimitBytes() != 1<<30 {
		t.Errorf("resources = %v", r)
	}
	env := c.GetEnv()
	if e := env[len(env)-1]; e.GetName() != "POD_IP" || e.GetValueFrom().GetFieldRef().GetFieldPath() != "status.podIP" {
		t.Errorf("env = %v", env)
	}
	if ct := set.GetSpec().GetVolumeClaimTemplates()[0]; ct.GetSpec().GetStorageClassName() != "fast" || !ct.GetSpec().GetStorageClassSet() {
		t.Errorf("claim template = %v", ct)
	}
	if p := objs["Service/cassandra"].GetService().GetSpec().GetPorts()[0]; p.GetPort() != 9042 || p.GetTargetPort() != 9042 {
		t.Errorf("service port = %v", p)
	}
}
