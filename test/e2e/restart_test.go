package e2e

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/test/framework"
)

// taskPIDs maps container ID to the PID of its running task on a node.
func taskPIDs(t testing.TB, node string) map[string]string {
	t.Helper()
	out := framework.MustExec(t, clus, node, "ctr", "-n", "ordo", "tasks", "ls")
	pids := map[string]string{}
	for _, l := range strings.Split(out, "\n")[1:] {
		f := strings.Fields(l)
		if len(f) >= 3 && f[2] == "RUNNING" {
			pids[f[0]] = f[1]
		}
	}
	return pids
}

func nodeReady(t testing.TB, name string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := clus.Control().List(ctx, &ordov1.ListRequest{Kind: "Node"})
	if err != nil {
		return false
	}
	for _, n := range resp.GetNodes() {
		if n.GetMetadata().GetName() == name {
			return n.GetReady()
		}
	}
	return false
}

func epochs(pods map[string]*ordov1.Pod) map[string]uint64 {
	out := map[string]uint64{}
	for n, p := range pods {
		out[n] = p.GetEpoch()
	}
	return out
}

// SIGKILL an agent and start it again: it adopts the containers it runs (same
// tasks, no duplicate), the pods never stop, and their status recovers.
func TestAgentRestartAdoptsPods(t *testing.T) {
	framework.Need(t, clus)
	const set = "survive"
	framework.Apply(t, clus, setManifest(set, "Parallel", 3, plainSleeper))
	defer framework.DeleteSet(t, clus, set)
	pods := framework.WaitSetReady(t, clus, set, "survive-0", "survive-1", "survive-2")
	before := map[string]map[string]string{}
	for _, node := range clus.Nodes() {
		before[node] = taskPIDs(t, node)
	}
	victim := pods["survive-0"].GetNodeName()

	lab(t, "agent", "stop", victim, "--signal", "KILL")
	framework.WaitFor(t, clus, victim+" NotReady", 30*time.Second, func() bool { return !nodeReady(t, victim) })
	lab(t, "agent", "start", victim)
	framework.WaitFor(t, clus, victim+" Ready again", 30*time.Second, func() bool { return nodeReady(t, victim) })

	after := framework.WaitSetReady(t, clus, set, "survive-0", "survive-1", "survive-2")
	if !maps.Equal(epochs(pods), epochs(after)) {
		t.Errorf("epochs changed across the agent restart: %v -> %v", epochs(pods), epochs(after))
	}
	for name, p := range after {
		if p.GetStatus().GetRestarts() != 0 {
			t.Errorf("%s restarted %d times", name, p.GetStatus().GetRestarts())
		}
	}
	for node, pids := range before {
		if got := taskPIDs(t, node); !maps.Equal(got, pids) {
			t.Errorf("%s tasks changed across the agent restart: %v -> %v", node, pids, got)
		}
	}
	checkContainers(t, set, after)
}

// Restart the scheduler in the middle of an ordered bring-up: it resumes from its
// store and completes the order without duplicating any pod.
func TestSchedulerRestartMidBringUp(t *testing.T) {
	framework.Need(t, clus)
	const set = "resume"
	rec := framework.Record(t, clus, set)
	framework.Apply(t, clus, setManifest(set, "OrderedReady", 3, probedSleeper))
	defer framework.DeleteSet(t, clus, set)

	makeReady := func(name string) {
		t.Helper()
		var p *ordov1.Pod
		framework.WaitFor(t, clus, name+" running", 60*time.Second, func() bool {
			p = framework.ListPods(t, clus, set)[name]
			return framework.Running(p)
		})
		if out, err := framework.ExecInPod(clus, p.GetNodeName(), name, "app", "touch", "/tmp/ready"); err != nil {
			t.Fatalf("touch in %s: %v\n%s", name, err, out)
		}
	}
	makeReady("resume-0")
	var p1 *ordov1.Pod
	framework.WaitFor(t, clus, "resume-1 running", 60*time.Second, func() bool {
		p1 = framework.ListPods(t, clus, set)["resume-1"]
		return framework.Running(p1)
	})
	before := epochs(framework.ListPods(t, clus, set))
	rec.Stop()

	lab(t, "scheduler", "stop", "--signal", "KILL")
	// While the scheduler is down, resume-1 becomes Ready on its node.
	if out, err := framework.ExecInPod(clus, p1.GetNodeName(), "resume-1", "app", "touch", "/tmp/ready"); err != nil {
		t.Fatalf("touch in resume-1: %v\n%s", err, out)
	}
	lab(t, "scheduler", "start")

	makeReady("resume-2")
	pods := framework.WaitSetReady(t, clus, set, "resume-0", "resume-1", "resume-2")
	for name, e := range before {
		if pods[name].GetEpoch() != e {
			t.Errorf("%s epoch %d -> %d: the scheduler recreated it", name, e, pods[name].GetEpoch())
		}
	}
	ready1 := pods["resume-1"].GetStatus().GetReadyObservedTime().AsTime()
	if c := pods["resume-2"].GetMetadata().GetCreationTime().AsTime(); c.Before(ready1) {
		t.Errorf("resume-2 created at %v before resume-1 was Ready at %v", c, ready1)
	}
	checkContainers(t, set, pods)
}
