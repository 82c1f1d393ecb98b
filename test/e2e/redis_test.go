package e2e

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ordoproject/ordo/test/framework"
)

// redisNeeds is what testdata/redis/redis-cluster.yml asks of ordo beyond
// what the seed scenarios use.
const redisNeeds = `a ConfigMap and a configMap volume with defaultMode 0755 (the container's ` +
	`command is a script from it), env valueFrom.fieldRef status.podIP, exec readiness and ` +
	`liveness probes, and claims of the default StorageClass.`

// TestRedisClusterFromPublishedManifest runs a six-node Redis Cluster (three
// masters, three replicas) from a widely copied published manifest
// (testdata/redis/redis-cluster.yml, unchanged): each pod starts through a
// script in a ConfigMap volume that writes the pod's IP (from fieldRef
// status.podIP) into the cluster's node table kept on its claim. The test
// forms the cluster as the manifest's README does (redis-cli --cluster
// create with the pods' IPs), writes a key, and checks that a deleted master
// comes back as the same cluster node with its slots and the key.
func TestRedisClusterFromPublishedManifest(t *testing.T) {
	framework.Need(t, clus)
	manifest := publishedManifest(t, "redis/redis-cluster.yml", redisNeeds)
	needAppImage(t, "redis", redisImage)

	// Three local volumes per node: the set has no anti-affinity, so up to
	// three of its six pods may land on one node.
	pvNode := map[string]string{}
	for i, node := range []string{"node-1", "node-2", "node-3"} {
		for j := 0; j < 3; j++ {
			pvNode[fmt.Sprintf("redis-pv-%d", 3*i+j)] = node
		}
	}
	for name, node := range pvNode {
		if err := os.MkdirAll(pvDir(node, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	names := framework.PodNames("redis-cluster", 6)
	t.Cleanup(func() {
		deleteSetIfExists(t, "redis-cluster")
		_ = framework.Delete(clus, "svc", "redis-cluster")
		_ = framework.Delete(clus, "cm", "redis-cluster")
		for _, n := range names {
			_ = framework.Delete(clus, "pvc", "data-"+n)
		}
		for name, node := range pvNode {
			_ = framework.Delete(clus, "pv", name)
			os.RemoveAll(pvDir(node, name))
		}
		_ = framework.Delete(clus, "sc", "redis-local")
	})
	t.Cleanup(func() { appLogs(t, "redis-cluster") })

	framework.Apply(t, clus, defaultLocalStorage("redis-local", pvNode))
	applyLogged(t, "testdata/redis/redis-cluster.yml", manifest)
	// OrderedReady with a 15s initial readiness delay: about 20s per pod.
	pods := waitPodsReady(t, "redis-cluster", 5*time.Minute, names...)

	cli := func(pod string, args ...string) string {
		t.Helper()
		return strings.TrimSpace(podOutput(t, pods[pod].GetNodeName(), pod, "redis", append([]string{"redis-cli"}, args...)...))
	}
	// fix-ip.sh saw the pod's IP in POD_IP; redis-server runs from it with
	// the configuration of the ConfigMap volume.
	var addrs []string
	for _, n := range names {
		ip := pods[n].GetStatus().GetPodIp()
		if ip == "" {
			t.Fatalf("%s has no pod IP", n)
		}
		addrs = append(addrs, ip+":6379")
		if got := strings.TrimSpace(podOutput(t, pods[n].GetNodeName(), n, "redis", "sh", "-c", "echo $POD_IP")); got != ip {
			t.Errorf("%s: POD_IP=%q, its pod IP is %s", n, got, ip)
		}
	}
	if out := cli("redis-cluster-0", "config", "get", "cluster-config-file"); !strings.Contains(out, "/data/nodes.conf") {
		t.Errorf("redis-cluster-0 does not run with /conf/redis.conf: config get cluster-config-file = %q", out)
	}

	// Form the cluster: three masters with one replica each.
	create := append([]string{"redis-cli", "--cluster", "create"}, addrs...)
	create = append(create, "--cluster-replicas", "1", "--cluster-yes")
	if out, err := framework.ExecInPod(clus, pods["redis-cluster-0"].GetNodeName(), "redis-cluster-0", "redis", create...); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	clusterOK := func(what string) {
		t.Helper()
		eventually(t, what, 2*time.Minute, func() string {
			for _, n := range names {
				out := cli(n, "cluster", "info")
				if !strings.Contains(out, "cluster_state:ok") || !strings.Contains(out, "cluster_known_nodes:6") ||
					!strings.Contains(out, "cluster_slots_ok:16384") {
					return fmt.Sprintf("cluster info in %s:\n%s", n, out)
				}
			}
			return ""
		})
	}
	clusterOK("cluster formed")
	masters := redisRoles(t, cli("redis-cluster-0", "cluster", "nodes"))
	if len(masters) != 3 {
		t.Fatalf("cluster has masters %v, want 3", masters)
	}

	// A key written through one node is read through another (-c follows
	// the MOVED redirect to the key's master).
	const key, value = "ordo-e2e", "kept-across-pods"
	if out := cli("redis-cluster-0", "-c", "set", key, value); out != "OK" {
		t.Fatalf("set %s: %q", key, out)
	}
	if out := cli("redis-cluster-5", "-c", "get", key); out != value {
		t.Fatalf("get %s through redis-cluster-5: %q", key, out)
	}

	// Delete a master's pod: it comes back with the same cluster node ID
	// (kept in nodes.conf on its claim), the cluster is whole again, and
	// the key is still there.
	victim := ""
	for _, n := range names {
		if _, ok := masters[strings.TrimSpace(cli(n, "cluster", "myid"))]; ok && n != "redis-cluster-0" {
			victim = n
			break
		}
	}
	if victim == "" {
		t.Fatalf("no master besides redis-cluster-0 among %v", masters)
	}
	id := cli(victim, "cluster", "myid")
	old := pods[victim].GetEpoch()
	if err := framework.Delete(clus, "pod", victim); err != nil {
		t.Fatal(err)
	}
	framework.WaitFor(t, clus, victim+" recreated", 90*time.Second, func() bool {
		p := framework.ListPods(t, clus, "redis-cluster")[victim]
		return p != nil && p.GetEpoch() != old
	})
	pods = waitPodsReady(t, "redis-cluster", 2*time.Minute, names...)
	if got := cli(victim, "cluster", "myid"); got != id {
		t.Errorf("%s came back as cluster node %q, it was %q", victim, got, id)
	}
	clusterOK(victim + " back in the cluster")
	if out := cli(victim, "-c", "get", key); out != value {
		t.Errorf("get %s through %s after its restart: %q", key, victim, out)
	}
	if out := cli("redis-cluster-0", "--cluster", "check", addrs[0]); !strings.Contains(out, "[OK] All 16384 slots covered") {
		t.Errorf("redis-cli --cluster check:\n%s", out)
	}
}

var redisNodeLine = regexp.MustCompile(`^([0-9a-f]{40}) \S+ (\S+)`)

// redisRoles returns the IDs of the masters in the output of CLUSTER NODES.
func redisRoles(t *testing.T, nodes string) map[string]bool {
	t.Helper()
	masters := map[string]bool{}
	for _, line := range strings.Split(nodes, "\n") {
		m := redisNodeLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		if strings.Contains(m[2], "master") {
			masters[m[1]] = true
		}
	}
	return masters
}
