package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/test/framework"
)

// The application tests run real programs from images the project builds
// from Debian packages (make app-images: bin/etcd-oci.tar, bin/redis-oci.tar;
// internal/testimage.Apps), named as the upstream images their manifests use.

const (
	etcdImage  = "quay.io/coreos/etcd:v3.5.15"
	redisImage = "docker.io/library/redis:5.0-rc"
)

// missing ends a test that lacks a prerequisite, saying what: under CI=true
// it fails, elsewhere it skips.
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	if clus.Required() {
		t.Fatalf("missing prerequisite: "+format, args...)
	}
	t.Skipf("missing prerequisite: "+format, args...)
}

// needAppImage makes sure every node has the image ref, importing
// bin/<app>-oci.tar where it is not there yet.
func needAppImage(t *testing.T, app, ref string) {
	t.Helper()
	archive := filepath.Join(framework.RepoRoot(), "bin", app+"-oci.tar")
	if _, err := os.Stat(archive); err != nil {
		missing(t, "image archive %s (make app-images builds it)", archive)
	}
	for _, node := range clus.Nodes() {
		if strings.TrimSpace(framework.MustExec(t, clus, node, "ctr", "-n", "ordo", "images", "ls", "-q", "name=="+ref)) == ref {
			continue
		}
		framework.MustExec(t, clus, node, "ctr", "-n", "ordo", "images", "import", archive)
	}
}

// publishedManifest reads a published manifest kept in testdata and checks
// that ordo accepts it (a dry run). A manifest ordo refuses is a missing
// prerequisite; the message names what the manifest needs (needs).
func publishedManifest(t *testing.T, file, needs string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(framework.RepoRoot(), "test", "e2e", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := clus.Control().Apply(ctx, &ordov1.ApplyRequest{Manifest: b, DryRun: true}); err != nil {
		missing(t, "ordo does not accept testdata/%s yet:\n%v\nThe manifest needs %s", file, err, needs)
	}
	return b
}

// applyLogged applies a manifest and logs the warnings (fields accepted
// without effect).
func applyLogged(t *testing.T, what string, manifest []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := clus.Control().Apply(ctx, &ordov1.ApplyRequest{Manifest: manifest})
	if err != nil {
		t.Fatalf("apply %s: %v", what, err)
	}
	for _, w := range resp.GetWarnings() {
		t.Logf("apply %s: warning: %s", what, w)
	}
}

// appLogs logs, for a failed test, the pods of the sets and the tails of
// their containers' logs on the nodes.
func appLogs(t *testing.T, sets ...string) {
	t.Helper()
	if !t.Failed() {
		return
	}
	for _, set := range sets {
		pods := framework.ListPods(t, clus, set)
		for _, name := range keys(pods) {
			p := pods[name]
			t.Logf("pod %s: node %s phase %v ready %v restarts %d message %q", name, p.GetNodeName(), p.GetStatus().GetPhase(),
				p.GetStatus().GetReady(), p.GetStatus().GetRestarts(), p.GetStatus().GetMessage())
		}
	}
	logs, _ := filepath.Glob(filepath.Join(clus.Dir, "node-*", "agent", "logs", "*", "*.log"))
	sort.Strings(logs)
	for _, f := range logs {
		for _, set := range sets {
			// The logs of a pod are in a directory named after it.
			ordinal, ok := strings.CutPrefix(filepath.Base(filepath.Dir(f)), set+"-")
			if !ok || ordinal == "" || strings.Trim(ordinal, "0123456789") != "" {
				continue
			}
			b, _ := os.ReadFile(f)
			if len(b) > 3000 {
				b = b[len(b)-3000:]
			}
			t.Logf("==== %s (tail)\n%s", f, b)
		}
	}
}

// defaultLocalStorage is a default StorageClass named class (published
// manifests' claims name none) and one local volume of 1Gi on each node of
// pvNode (volume name -> node), kept under pvDir.
func defaultLocalStorage(class string, pvNode map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: %s
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
`, class)
	for _, name := range keys(pvNode) {
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: %s
spec:
  capacity:
    storage: 1Gi
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: %s
  local:
    path: %s
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kubernetes.io/hostname, operator: In, values: [%s]}
`, name, class, pvDir(pvNode[name], name), pvNode[name])
	}
	return b.String()
}

// podOutput runs a command that only reads in a pod's container and returns
// its output, asking again when the output comes back empty (ctr of
// containerd 1.6 now and then loses the output of a short process).
func podOutput(t *testing.T, node, pod, container string, cmd ...string) string {
	t.Helper()
	var out string
	for attempt := 0; attempt < 3; attempt++ {
		out = framework.MustExecInPod(t, clus, node, pod, container, cmd...)
		if strings.TrimSpace(out) != "" {
			break
		}
	}
	return out
}

// waitPodsReady waits until exactly the named pods of a set exist and are
// Ready, with a timeout of its own (applications take their time to form a
// cluster).
func waitPodsReady(t *testing.T, set string, timeout time.Duration, names ...string) map[string]*ordov1.Pod {
	t.Helper()
	var pods map[string]*ordov1.Pod
	framework.WaitFor(t, clus, fmt.Sprintf("%s ready as %v", set, names), timeout, func() bool {
		pods = framework.ListPods(t, clus, set)
		if len(pods) != len(names) {
			return false
		}
		for _, n := range names {
			if !framework.Ready(pods[n]) {
				return false
			}
		}
		return true
	})
	return pods
}

// The etcd image runs one etcd member from a plain manifest (no variables,
// data in an emptyDir): it becomes Ready through /readyz, answers etcdctl
// under its stable name and keeps a key.
func TestEtcdImageRunsOneMember(t *testing.T) {
	framework.Need(t, clus)
	needAppImage(t, "etcd", etcdImage)
	t.Cleanup(func() {
		deleteSetIfExists(t, "solo")
		_ = framework.Delete(clus, "svc", "solo")
	})
	t.Cleanup(func() { appLogs(t, "solo") })
	framework.Apply(t, clus, `apiVersion: v1
kind: Service
metadata:
  name: solo
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector:
    app: solo
  ports:
  - name: etcd-client
    port: 2379
  - name: etcd-server
    port: 2380
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: solo
spec:
  serviceName: solo
  replicas: 1
  selector:
    matchLabels:
      app: solo
  template:
    metadata:
      labels:
        app: solo
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: etcd
        image: `+etcdImage+`
        imagePullPolicy: IfNotPresent
        env:
        - name: ETCDCTL_ENDPOINTS
          value: solo-0.solo:2379
        command:
        - /usr/local/bin/etcd
        - --name=solo-0
        - --data-dir=/data
        - --wal-dir=/data/wal
        - --listen-peer-urls=http://0.0.0.0:2380
        - --listen-client-urls=http://0.0.0.0:2379
        - --advertise-client-urls=http://solo-0.solo:2379
        - --initial-advertise-peer-urls=http://solo-0.solo:2380
        - --initial-cluster=solo-0=http://solo-0.solo:2380
        - --initial-cluster-state=new
        - --listen-metrics-urls=http://0.0.0.0:8080
        readinessProbe:
          httpGet:
            path: /readyz
            port: 8080
          periodSeconds: 1
        livenessProbe:
          httpGet:
            path: /livez
            port: 8080
          initialDelaySeconds: 15
          periodSeconds: 10
        volumeMounts:
        - name: data
          mountPath: /data
      volumes:
      - name: data
        emptyDir: {}
`)
	pod := waitPodsReady(t, "solo", 90*time.Second, "solo-0")["solo-0"]
	node := pod.GetNodeName()
	etcdctl := func(args ...string) string {
		t.Helper()
		return podOutput(t, node, "solo-0", "etcd", append([]string{"etcdctl"}, args...)...)
	}
	if out := etcdctl("endpoint", "health"); !strings.Contains(out, "solo-0.solo:2379 is healthy") {
		t.Fatalf("etcdctl endpoint health:\n%s", out)
	}
	if out := etcdctl("version"); !strings.Contains(out, "etcdctl version: 3.5.") {
		t.Errorf("etcdctl version:\n%s", out)
	}
	etcdctl("put", "ordo/solo", "kept")
	if out := etcdctl("get", "ordo/solo", "--print-value-only"); strings.TrimSpace(out) != "kept" {
		t.Errorf("etcdctl get ordo/solo = %q", out)
	}
	if out := podOutput(t, node, "solo-0", "etcd", "ls", "/data", "/data/wal"); !strings.Contains(out, "member") || !strings.Contains(out, ".wal") {
		t.Errorf("data directory:\n%s", out)
	}
}

// The redis image runs redis-server from PATH in /data, the upstream image's
// working directory, where its append-only files land.
func TestRedisImageRunsServer(t *testing.T) {
	framework.Need(t, clus)
	needAppImage(t, "redis", redisImage)
	t.Cleanup(func() { deleteSetIfExists(t, "kv") })
	t.Cleanup(func() { appLogs(t, "kv") })
	framework.Apply(t, clus, setManifest("kv", "OrderedReady", 1, `      containers:
      - name: redis
        image: redis:5.0-rc
        command: ["redis-server", "--appendonly", "yes", "--protected-mode", "no"]
        readinessProbe:
          exec:
            command: ["sh", "-c", "redis-cli -h $(hostname) ping"]
          periodSeconds: 1
`))
	pod := waitPodsReady(t, "kv", 60*time.Second, "kv-0")["kv-0"]
	redis := func(args ...string) string {
		t.Helper()
		return strings.TrimSpace(podOutput(t, pod.GetNodeName(), "kv-0", "redis", append([]string{"redis-cli"}, args...)...))
	}
	if out := redis("set", "ordo", "kept"); out != "OK" {
		t.Fatalf("redis-cli set: %q", out)
	}
	if out := redis("get", "ordo"); out != "kept" {
		t.Errorf("redis-cli get: %q", out)
	}
	if out := redis("info", "server"); !strings.Contains(out, "redis_version:7.") {
		t.Errorf("redis-cli info server:\n%s", out)
	}
	if out := podOutput(t, pod.GetNodeName(), "kv-0", "redis", "ls", "/data"); !strings.Contains(out, "appendonlydir") {
		t.Errorf("ls /data: %q", out)
	}
}
