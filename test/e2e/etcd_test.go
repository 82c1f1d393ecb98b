package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/test/framework"
)

// etcdNeeds is what testdata/etcd/etcd.yaml asks of ordo beyond what the
// seed scenarios use.
const etcdNeeds = `env valueFrom.fieldRef (metadata.name, metadata.namespace, ` +
	`metadata.annotations['serviceName']) and $(VAR) references to those variables in env values and args ` +
	`(--name=$(HOSTNAME), --initial-cluster=etcd-0=$(URI_SCHEME)://etcd-0.$(SERVICE_NAME):2380,...). ` +
	`It also uses, as ordo has them: httpGet readiness and liveness probes with timeouts and thresholds, ` +
	`required pod anti-affinity on kubernetes.io/hostname, podManagementPolicy Parallel, ` +
	`publishNotReadyAddresses, and claims of the default StorageClass.`

const etcdAllEndpoints = "etcd-0.etcd:2379,etcd-1.etcd:2379,etcd-2.etcd:2379"

// TestEtcdClusterFromPublishedManifest runs a three-member etcd cluster from
// the etcd project's own StatefulSet example (testdata/etcd/etcd.yaml,
// unchanged): the members find each other by their stable names
// (etcd-0.etcd ...), keep their data on local volumes, and a key survives
// deleting a pod, a rolling restart of every member (quorum polled all
// along) and scaling down and up.
//
// (The Kubernetes end-to-end etcd set, kubernetes/kubernetes
// test/e2e/testing-manifests/statefulset/etcd, was not taken: its script
// binds etcd to DNS names, --listen-peer-urls http://${HOSTNAME}.${SET_NAME}:2380,
// which etcd refuses since 3.2 while the set names etcd 3.2.24, and drives
// etcdctl through the v2 API.)
//
// Until ordo accepts the manifest the test reports what it needs (etcdNeeds):
// it fails under CI=true and skips elsewhere.
func TestEtcdClusterFromPublishedManifest(t *testing.T) {
	framework.Need(t, clus)
	if len(clus.Nodes()) < 3 {
		t.Fatalf("the etcd cluster needs 3 nodes (one member each), the lab has %d", len(clus.Nodes()))
	}
	manifest := publishedManifest(t, "etcd/etcd.yaml", etcdNeeds)
	needAppImage(t, "etcd", etcdImage)
	runEtcdCluster(t, func() { applyLogged(t, "testdata/etcd/etcd.yaml", manifest) })
}

// etcdClientSet is one pod with etcdctl from which the test talks to the
// cluster, so that no member it restarts carries the test's commands.
var etcdClientSet = setManifest("etcd-client", "OrderedReady", 1, `      containers:
      - name: etcdctl
        image: `+etcdImage+`
        command: ["sh", "-c", "exec sleep 100000"]
`)

// etcdCtl runs etcdctl in the client pod.
type etcdCtl struct {
	t    *testing.T
	node string
}

func (c etcdCtl) run(args ...string) (string, error) {
	return framework.ExecInPod(clus, c.node, "etcd-client-0", "etcdctl", append([]string{"etcdctl", "--dial-timeout=3s", "--command-timeout=5s"}, args...)...)
}

// must runs etcdctl and fails the test when it fails (asking again when
// its output got lost).
func (c etcdCtl) must(args ...string) string {
	c.t.Helper()
	for attempt := 0; ; attempt++ {
		out, err := c.run(args...)
		if err != nil {
			c.t.Fatalf("etcdctl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if strings.TrimSpace(out) != "" || attempt == 2 {
			return out
		}
	}
}

// healthy waits until `etcdctl endpoint health` calls each endpoint healthy.
func (c etcdCtl) healthy(endpoints ...string) {
	c.t.Helper()
	eventually(c.t, "etcdctl endpoint health "+strings.Join(endpoints, ","), 90*time.Second, func() string {
		out, err := c.run("--endpoints="+strings.Join(endpoints, ","), "endpoint", "health")
		for _, ep := range endpoints {
			if !strings.Contains(out, ep+" is healthy") {
				return fmt.Sprintf("%v\n%s", err, out)
			}
		}
		return ""
	})
}

// read waits until a read of key through endpoints gives want; serializable
// reads answer from the member itself, without asking the leader.
func (c etcdCtl) read(endpoints, key, want string, serializable bool) {
	c.t.Helper()
	args := []string{"--endpoints=" + endpoints, "get", key, "--print-value-only"}
	if serializable {
		args = append(args, "--consistency=s")
	}
	eventually(c.t, fmt.Sprintf("%s read from %s", key, endpoints), 60*time.Second, func() string {
		out, err := c.run(args...)
		if strings.TrimSpace(out) != want {
			return fmt.Sprintf("got %q (%v), want %q", out, err, want)
		}
		return ""
	})
}

type etcdMember struct{ id, status, peerURL, clientURL string }

// members lists the cluster's members by name.
func (c etcdCtl) members() map[string]etcdMember {
	c.t.Helper()
	out := c.must("--endpoints="+etcdAllEndpoints, "member", "list")
	m := map[string]etcdMember{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		// 8e9e05c52164694d, started, etcd-0, http://etcd-0.etcd:2380, http://etcd-0.etcd:2379, false
		f := strings.Split(line, ", ")
		if len(f) < 5 {
			c.t.Fatalf("etcdctl member list: %q", line)
		}
		m[f[2]] = etcdMember{id: f[0], status: f[1], peerURL: f[3], clientURL: f[4]}
	}
	return m
}

// checkMembers checks that the cluster has exactly etcd-0..2, started, each
// named by its stable DNS name, with the given IDs when ids is not nil.
func checkMembers(t *testing.T, c etcdCtl, ids map[string]string) map[string]string {
	t.Helper()
	m := c.members()
	got := map[string]string{}
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("etcd-%d", i)
		want := etcdMember{status: "started", peerURL: "http://" + name + ".etcd:2380", clientURL: "http://" + name + ".etcd:2379"}
		mm := m[name]
		want.id = mm.id
		if mm != want || mm.id == "" {
			t.Errorf("member %s = %+v, want %+v", name, mm, want)
		}
		got[name] = mm.id
	}
	if len(m) != 3 {
		t.Errorf("members = %+v", m)
	}
	if ids != nil && !mapsEqual(ids, got) {
		t.Errorf("member IDs changed: %v, before %v (a member was replaced instead of coming back)", got, ids)
	}
	return got
}

// quorumLook is one linearizable read of the key while pods are being
// replaced (it needs a quorum): what it gave and when the answer came.
type quorumLook struct {
	at   time.Time
	read string
}

// quorumWatch is what watchQuorum saw: the reads, and how many members
// `etcdctl endpoint health` found healthy, polled beside them.
type quorumWatch struct {
	start         time.Time // the cluster answered before: the test checked
	reads         []quorumLook
	healthLooks   int
	fewestHealthy int
}

// watchQuorum polls the cluster from the client pod, a quorum read of key
// and the health of every member side by side, until the returned function
// is called (or the test ends); that returns what it saw. Timeouts are
// short: a read that waited out an outage would hide it.
func watchQuorum(c etcdCtl, key string) func() quorumWatch {
	read := []string{"etcdctl", "--endpoints=" + etcdAllEndpoints, "--dial-timeout=1s", "--command-timeout=2s", "get", key, "--print-value-only"}
	health := []string{"etcdctl", "--endpoints=" + etcdAllEndpoints, "--dial-timeout=1s", "--command-timeout=2s", "endpoint", "health"}
	var (
		mu   sync.Mutex
		w    = quorumWatch{start: time.Now(), fewestHealthy: 3}
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	poll := func(cmd []string, record func(out string)) {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			out, _ := framework.ExecInPod(clus, c.node, "etcd-client-0", "etcdctl", cmd...)
			if strings.TrimSpace(out) != "" { // else the output got lost: no look
				mu.Lock()
				record(out)
				mu.Unlock()
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	wg.Add(2)
	go poll(read, func(out string) {
		w.reads = append(w.reads, quorumLook{at: time.Now(), read: strings.TrimSpace(out)})
	})
	go poll(health, func(out string) {
		w.healthLooks++
		w.fewestHealthy = min(w.fewestHealthy, strings.Count(out, " is healthy"))
	})
	var once sync.Once
	stop := func() quorumWatch {
		once.Do(func() { close(done); wg.Wait() })
		mu.Lock()
		defer mu.Unlock()
		return w
	}
	c.t.Cleanup(func() { stop() })
	return stop
}

// checkQuorum checks what watchQuorum saw: the cluster was looked at while
// pods were replaced, and never went longer than maxGap without answering a
// quorum read with want. That time runs from the last good answer before (or
// the start of the watch) to the first good answer after, so it includes the
// time between reads (about a second; up to 2s for a read that fails). A
// leader election takes a second or two (more on a busy machine); a lost
// quorum lasts until a stopped member runs again: two members stopped for 8s
// show as 10s. (That ordo replaces one member at a time, each once the one
// before is Ready, the test checks on the pods themselves.)
func checkQuorum(t *testing.T, what string, w quorumWatch, want string, maxGap time.Duration) {
	t.Helper()
	reads := w.reads
	if len(reads) < 3 {
		t.Fatalf("%s: the cluster was read only %d times", what, len(reads))
	}
	var worst time.Duration
	lastOK := w.start
	failing := false
	for _, r := range reads {
		if r.read != want {
			failing = true
			continue
		}
		if failing {
			worst = max(worst, r.at.Sub(lastOK))
			failing = false
		}
		lastOK = r.at
	}
	if failing {
		worst = max(worst, reads[len(reads)-1].at.Sub(lastOK))
	}
	t.Logf("%s: %d quorum reads over %v, longest time without one at most %v; %d health checks, fewest members healthy %d",
		what, len(reads), reads[len(reads)-1].at.Sub(reads[0].at).Round(time.Millisecond), worst.Round(time.Millisecond), w.healthLooks, w.fewestHealthy)
	if worst > maxGap {
		var b strings.Builder
		for _, r := range reads {
			fmt.Fprintf(&b, "%s %.100q\n", r.at.Format("15:04:05.000"), r.read)
		}
		t.Errorf("%s: the cluster went %v without answering a quorum read (limit %v):\n%s", what, worst, maxGap, b.String())
	}
}

// runEtcdCluster is the scenario of TestEtcdClusterFromPublishedManifest;
// applyEtcd creates the Service and StatefulSet etcd.
func runEtcdCluster(t *testing.T, applyEtcd func()) {
	pvNode := map[string]string{"etcd-pv-1": "node-1", "etcd-pv-2": "node-2", "etcd-pv-3": "node-3"}
	for name, node := range pvNode {
		if err := os.MkdirAll(pvDir(node, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	names := framework.PodNames("etcd", 3)
	t.Cleanup(func() {
		deleteSetIfExists(t, "etcd-client")
		deleteSetIfExists(t, "etcd")
		_ = framework.Delete(clus, "svc", "etcd")
		for _, n := range names {
			_ = framework.Delete(clus, "pvc", "etcd-data-"+n)
		}
		for name, node := range pvNode {
			_ = framework.Delete(clus, "pv", name)
			os.RemoveAll(pvDir(node, name))
		}
		_ = framework.Delete(clus, "sc", "etcd-local")
	})
	t.Cleanup(func() { appLogs(t, "etcd", "etcd-client") })

	framework.Apply(t, clus, defaultLocalStorage("etcd-local", pvNode))
	framework.Apply(t, clus, etcdClientSet)
	applyEtcd()
	pods := waitPodsReady(t, "etcd", 3*time.Minute, names...)
	client := waitPodsReady(t, "etcd-client", 60*time.Second, "etcd-client-0")["etcd-client-0"]
	c := etcdCtl{t: t, node: client.GetNodeName()}

	// One member per node (required anti-affinity), each on the volume of
	// its node, where etcd keeps its data and WAL.
	nodes := map[string]string{}
	for _, n := range names {
		p := pods[n]
		if other, ok := nodes[p.GetNodeName()]; ok {
			t.Fatalf("%s and %s both on %s", n, other, p.GetNodeName())
		}
		nodes[p.GetNodeName()] = n
		claim := getClaim("etcd-data-" + n)
		vol := claim.GetSpec().GetVolumeName()
		if claim.GetStatus().GetPhase() != "Bound" || pvNode[vol] != p.GetNodeName() {
			t.Fatalf("%s on %s, its claim %v", n, p.GetNodeName(), claim)
		}
		for _, sub := range []string{"member", "wal"} {
			if _, err := os.Stat(filepath.Join(pvDir(pvNode[vol], vol), sub)); err != nil {
				t.Errorf("%s's volume %s: %v", n, vol, err)
			}
		}
	}

	// Healthy under their stable names, seen from the client and from each
	// member (its ETCDCTL_ENDPOINTS is $(HOSTNAME).$(SERVICE_NAME):2379).
	c.healthy("etcd-0.etcd:2379", "etcd-1.etcd:2379", "etcd-2.etcd:2379")
	for _, n := range names {
		out := podOutput(t, pods[n].GetNodeName(), n, "etcd", "etcdctl", "endpoint", "health")
		if !strings.Contains(out, n+".etcd:2379 is healthy") {
			t.Errorf("etcdctl endpoint health in %s:\n%s", n, out)
		}
	}
	ids := checkMembers(t, c, nil)
	const key, value = "ordo/e2e/etcd", "kept-across-restarts"
	c.must("--endpoints="+etcdAllEndpoints, "put", key, value)
	c.read(etcdAllEndpoints, key, value, false)

	// Delete a member's pod: it comes back as the same member, with its data.
	old := pods["etcd-1"].GetEpoch()
	stop := watchQuorum(c, key)
	if err := framework.Delete(clus, "pod", "etcd-1"); err != nil {
		t.Fatal(err)
	}
	framework.WaitFor(t, clus, "etcd-1 recreated", 90*time.Second, func() bool {
		p := framework.ListPods(t, clus, "etcd")["etcd-1"]
		return p != nil && p.GetEpoch() != old
	})
	pods = waitPodsReady(t, "etcd", 3*time.Minute, names...)
	checkQuorum(t, "deleting etcd-1", stop(), value, 8*time.Second)
	c.healthy("etcd-0.etcd:2379", "etcd-1.etcd:2379", "etcd-2.etcd:2379")
	checkMembers(t, c, ids)
	c.read("etcd-1.etcd:2379", key, value, true)

	// A rolling restart replaces every member, one at a time, each once the
	// one before is Ready: the cluster keeps its quorum throughout.
	before := pods
	oldRev := getSet(t, "etcd").GetStatus().GetUpdateRevision()
	rec := framework.Record(t, clus, "etcd")
	stop = watchQuorum(c, key)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, err := clus.Control().RolloutRestart(ctx, &ordov1.RolloutRestartRequest{Name: "etcd"})
	cancel()
	if err != nil {
		t.Fatalf("rollout restart sts/etcd: %v", err)
	}
	var newRev string
	framework.WaitFor(t, clus, "a new revision of etcd", 30*time.Second, func() bool {
		newRev = getSet(t, "etcd").GetStatus().GetUpdateRevision()
		return newRev != "" && newRev != oldRev
	})
	pods = waitRevision(t, "etcd", newRev, names...)
	checkQuorum(t, "rolling restart", stop(), value, 8*time.Second)
	rec.Stop()
	if order := replayUpdate(t, rec, before, 3, newRev, 1, true); !slices.Equal(order, []string{"etcd-2", "etcd-1", "etcd-0"}) {
		t.Errorf("rolling restart order %v, want etcd-2, etcd-1, etcd-0", order)
	}
	for _, n := range names {
		if pods[n].GetEpoch() == before[n].GetEpoch() {
			t.Errorf("%s was not replaced by the rolling restart", n)
		}
		if pods[n].GetNodeName() != before[n].GetNodeName() {
			t.Errorf("%s moved from %s to %s", n, before[n].GetNodeName(), pods[n].GetNodeName())
		}
	}
	c.healthy("etcd-0.etcd:2379", "etcd-1.etcd:2379", "etcd-2.etcd:2379")
	checkMembers(t, c, ids)
	c.read(etcdAllEndpoints, key, value, false)

	// Scale down to 2: etcd-2 stops, its member stays (down) and the other
	// two keep the quorum; writes go on.
	scale(t, "etcd", 2)
	framework.WaitFor(t, clus, "etcd-2 gone", 90*time.Second, func() bool {
		return framework.ListPods(t, clus, "etcd")["etcd-2"] == nil
	})
	waitPodsReady(t, "etcd", time.Minute, names[:2]...)
	two := "etcd-0.etcd:2379,etcd-1.etcd:2379"
	c.healthy("etcd-0.etcd:2379", "etcd-1.etcd:2379")
	c.read(two, key, value, false)
	const key2, value2 = "ordo/e2e/etcd-while-two", "written-with-two-members"
	c.must("--endpoints="+two, "put", key2, value2)
	if cl := getClaim("etcd-data-etcd-2"); cl.GetStatus().GetPhase() != "Bound" {
		t.Fatalf("claim of etcd-2 after scaling down: %v", cl)
	}

	// Scale up to 3: etcd-2 comes back on its volume's node, as the same
	// member, and catches up with what was written without it.
	scale(t, "etcd", 3)
	pods = waitPodsReady(t, "etcd", 3*time.Minute, names...)
	if pods["etcd-2"].GetNodeName() != before["etcd-2"].GetNodeName() {
		t.Errorf("etcd-2 came back on %s, its volume is on %s", pods["etcd-2"].GetNodeName(), before["etcd-2"].GetNodeName())
	}
	c.healthy("etcd-0.etcd:2379", "etcd-1.etcd:2379", "etcd-2.etcd:2379")
	checkMembers(t, c, ids)
	c.read("etcd-2.etcd:2379", key2, value2, true)
	c.read("etcd-2.etcd:2379", key, value, true)
	c.read(etcdAllEndpoints, key, value, false)
}
