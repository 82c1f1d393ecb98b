package e2e

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// taskPIDs maps container ID to the PID of its running task on a node.
func taskPIDs(t testing.TB, node string) map[string]string {
	t.Helper()
	out := lab(t, "exec", node, "--", "ctr", "-n", "ordo", "tasks", "ls")
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
	resp, err := control.List(ctx, &ordov1.ListRequest{Kind: "Node"})
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
	needLab(t)
	const set = "survive"
	apply(t, setManifest(set, "Parallel", 3, plainSleeper))
	defer deleteSet(t, set)
	pods := waitSetReady(t, set, "survive-0", "survive-1", "survive-2")
	before := map[string]map[string]string{}
	for i := 1; i <= labNodes; i++ {
		node := fmt.Sprintf("node-%d", i)
		before[node] = taskPIDs(t, node)
	}
	victim := pods["survive-0"].GetNodeName()

	lab(t, "agent", "stop", victim, "--signal", "KILL")
	waitFor(t, victim+" NotReady", 30*time.Second, func() bool { return !nodeReady(t, victim) })
	lab(t, "agent", "start", victim)
	waitFor(t, victim+" Ready again", 30*time.Second, func() bool { return nodeReady(t, victim) })

	after := waitSetReady(t, set, "survive-0", "survive-1", "survive-2")
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
	needLab(t)
	const set = "resume"
	rec := record(t, set)
	apply(t, setManifest(set, "OrderedReady", 3, probedSleeper))
	defer deleteSet(t, set)

	makeReady := func(name string) {
		t.Helper()
		var p *ordov1.Pod
		waitFor(t, name+" running", 60*time.Second, func() bool {
			p = listPods(t, set)[name]
			return running(p)
		})
		if out, err := execInPod(t, p.GetNodeName(), name, "app", "touch", "/tmp/ready"); err != nil {
			t.Fatalf("touch in %s: %v\n%s", name, err, out)
		}
	}
	makeReady("resume-0")
	var p1 *ordov1.Pod
	waitFor(t, "resume-1 running", 60*time.Second, func() bool {
		p1 = listPods(t, set)["resume-1"]
		return running(p1)
	})
	before := epochs(listPods(t, set))
	rec.stop()

	lab(t, "scheduler", "stop", "--signal", "KILL")
	// While the scheduler is down, resume-1 becomes Ready on its node.
	if out, err := execInPod(t, p1.GetNodeName(), "resume-1", "app", "touch", "/tmp/ready"); err != nil {
		t.Fatalf("touch in resume-1: %v\n%s", err, out)
	}
	lab(t, "scheduler", "start")

	makeReady("resume-2")
	pods := waitSetReady(t, set, "resume-0", "resume-1", "resume-2")
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
