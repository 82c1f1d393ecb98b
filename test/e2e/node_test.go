package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/test/framework"
)

// getNode returns the stored node, or nil once it is gone.
func getNode(t testing.TB, name string) *ordov1.NodeInfo {
	t.Helper()
	for _, n := range framework.List(t, clus, "Node").GetNodes() {
		if n.GetMetadata().GetName() == name {
			return n
		}
	}
	return nil
}

// hasLine tells whether a line of out starts with prefix.
func hasLine(out, prefix string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), prefix) {
			return true
		}
	}
	return false
}

func hasBridge(t testing.TB, node string) bool {
	return strings.Contains(framework.MustExec(t, clus, node, "ip", "-o", "link"), ": ordo0:")
}

// A node with pods cannot be deleted; once empty it leaves: its agent takes
// the bridge, routes and DNS server down and exits, the other nodes stop
// routing to its pod CIDR. The node is started again at the end, as a new
// node, for the tests that follow.
func TestDeleteNodeLeavesCluster(t *testing.T) {
	framework.Need(t, clus)
	const node, set = "node-3", "leave"
	others := []string{"node-1", "node-2"}
	agentPid := filepath.Join(clus.Dir, node, "agent.pid")
	defer func() {
		// Bring the node back (a no-op while its agent still runs).
		lab(t, "agent", "start", node)
		framework.WaitFor(t, clus, node+" Ready again", 60*time.Second, func() bool { return nodeReady(t, node) })
		cidr := getNode(t, node).GetPodCidr()
		for _, o := range others {
			framework.WaitFor(t, clus, o+" routing to "+node+" again", 30*time.Second, func() bool {
				return hasLine(framework.MustExec(t, clus, o, "ip", "route"), cidr+" via ")
			})
		}
	}()
	before := getNode(t, node)
	if before == nil || !before.GetReady() || before.GetPodCidr() == "" {
		t.Fatalf("%s is not a Ready node with a pod CIDR: %v", node, before)
	}
	cidr := before.GetPodCidr()
	for _, o := range others {
		if !hasLine(framework.MustExec(t, clus, o, "ip", "route"), cidr+" via ") {
			t.Fatalf("%s has no route to %s's pod CIDR %s", o, node, cidr)
		}
	}

	framework.Apply(t, clus, setManifest(set, "Parallel", 1, "      nodeSelector:\n        kubernetes.io/hostname: "+node+"\n"+plainSleeper))
	defer deleteSetIfExists(t, set)
	framework.WaitSetReady(t, clus, set, set+"-0")
	err := framework.Delete(clus, "Node", node)
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "node "+node+" still runs "+set+"-0") {
		t.Fatalf("delete %s with %s-0 on it: %v, want FailedPrecondition naming the pod", node, set, err)
	}
	out, _ := ordoCLI(t, "", "delete", "node", node)
	if !strings.Contains(out, "still runs "+set+"-0: scale down or move them first") {
		t.Errorf("ordo delete node %s with a pod on it printed %q", node, out)
	}
	// Nothing changed.
	if n := getNode(t, node); n == nil || !n.GetReady() || n.GetPodCidr() != cidr {
		t.Fatalf("after the refused delete %s is %v", node, n)
	}
	framework.WaitSetReady(t, clus, set, set+"-0")
	if !hasBridge(t, node) {
		t.Errorf("%s lost its bridge after a refused delete", node)
	}

	scale(t, set, 0)
	framework.WaitFor(t, clus, set+"-0 gone", 60*time.Second, func() bool { return len(framework.ListPods(t, clus, set)) == 0 })
	out, err = ordoCLI(t, "", "delete", "node", node)
	if err != nil || !strings.Contains(out, `node "`+node+`" deleted`) {
		t.Fatalf("ordo delete node %s: %v\n%s", node, err, out)
	}
	if getNode(t, node) != nil {
		t.Errorf("%s is still listed after its deletion", node)
	}
	pid := strings.TrimSpace(readFile(agentPid))
	framework.WaitFor(t, clus, "the agent of "+node+" to exit", 60*time.Second, func() bool {
		_, err := os.Stat("/proc/" + pid + "/cmdline")
		if err != nil {
			return true
		}
		st, _ := os.ReadFile("/proc/" + pid + "/status")
		return strings.Contains(string(st), "State:\tZ")
	})
	if log := readFile(filepath.Join(clus.Dir, node, "agent.log")); !strings.Contains(log, "pod network removed") ||
		!strings.Contains(log, "node left the cluster") {
		t.Errorf("the agent log of %s does not tell that it removed its network and left", node)
	}
	if st := lab(t, "status"); !strings.Contains(st, node+": containerd running") || !hasLine(st, node+":") ||
		!strings.Contains(st[strings.Index(st, node+":"):], "agent stopped") {
		t.Errorf("scripts/lab status does not show the agent of %s stopped:\n%s", node, st)
	}
	if hasBridge(t, node) {
		t.Errorf("bridge ordo0 is still on %s", node)
	}
	if routes := framework.MustExec(t, clus, node, "ip", "route"); strings.Contains(routes, "10.244.") {
		t.Errorf("pod routes remain on %s:\n%s", node, routes)
	}
	for _, o := range others {
		framework.WaitFor(t, clus, o+" no longer routing to "+cidr, 30*time.Second, func() bool {
			return !strings.Contains(framework.MustExec(t, clus, o, "ip", "route"), cidr)
		})
	}
	if _, err := os.Stat(filepath.Join(clus.Dir, node, "agent", "network", "ipam.json")); !os.IsNotExist(err) {
		t.Errorf("the address file of %s remains (%v)", node, err)
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
