package e2e

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/test/framework"
)

func podsOnNodes(pods map[string]*ordov1.Pod) map[string][]string {
	want := map[string][]string{}
	for _, node := range clus.Nodes() {
		want[node] = nil
	}
	for name, p := range pods {
		node := p.GetNodeName()
		c := p.GetSpec().GetContainers()[0].GetName()
		want[node] = append(want[node], identity.ContainerID(identity.DefaultNamespace, name, c))
	}
	for n := range want {
		sort.Strings(want[n])
	}
	return want
}

// checkContainers asserts that `ctr -n ordo containers ls` on every node shows
// exactly the containers of the given pods of set that live there.
func checkContainers(t testing.TB, set string, pods map[string]*ordov1.Pod) {
	t.Helper()
	want := podsOnNodes(pods)
	for node, ids := range want {
		var got []string
		for _, id := range framework.Containers(t, clus, node) {
			if strings.HasPrefix(id, set+"-") {
				got = append(got, id)
			}
		}
		if !slices.Equal(got, ids) {
			t.Errorf("%s: ctr shows %v, want %v", node, got, ids)
		}
	}
}

const probedSleeper = `      containers:
      - name: app
        image: ordo.local/busybox:latest
        command: ["sh", "-c", "exec sleep 100000"]
        readinessProbe:
          exec:
            command: ["test", "-f", "/tmp/ready"]
          periodSeconds: 0.1
`

const plainSleeper = `      containers:
      - name: app
        image: ordo.local/busybox:latest
        command: ["sh", "-c", "exec sleep 100000"]
`

// A readiness probe that fails holds the next ordinal until it passes; pods are
// created strictly in order, each after its predecessor became Ready; inside each
// container `hostname` prints the pod name.
func TestOrderedReadyBringUp(t *testing.T) {
	framework.Need(t, clus)
	const set = "ordered"
	rec := framework.Record(t, clus, set)
	framework.Apply(t, clus, setManifest(set, "OrderedReady", 3, probedSleeper))
	defer framework.DeleteSet(t, clus, set)

	var pods map[string]*ordov1.Pod
	for ord := 0; ord < 3; ord++ {
		name := identity.PodName(set, int32(ord))
		framework.WaitFor(t, clus, name+" running", 60*time.Second, func() bool {
			pods = framework.ListPods(t, clus, set)
			return framework.Running(pods[name])
		})
		// Not ready yet: nothing beyond it may exist, for as long as the file is missing.
		for i := 0; i < 10; i++ {
			pods = framework.ListPods(t, clus, set)
			if pods[name].GetStatus().GetReady() {
				t.Fatalf("%s Ready before /tmp/ready exists", name)
			}
			if len(pods) != ord+1 {
				t.Fatalf("with %s not Ready, pods are %v", name, keys(pods))
			}
			time.Sleep(100 * time.Millisecond)
		}
		if out, err := framework.ExecInPod(clus, pods[name].GetNodeName(), name, "app", "touch", "/tmp/ready"); err != nil {
			t.Fatalf("touch /tmp/ready in %s: %v\n%s", name, err, out)
		}
	}
	pods = framework.WaitSetReady(t, clus, set, "ordered-0", "ordered-1", "ordered-2")
	framework.CheckOrderedCreation(t, rec)
	if got := rec.Created(); !slices.Equal(got, []string{"ordered-0", "ordered-1", "ordered-2"}) {
		t.Errorf("creation order %v", got)
	}
	// Recorded times tell the same story: created after the predecessor was Ready.
	for ord := 1; ord < 3; ord++ {
		prev, cur := pods[identity.PodName(set, int32(ord-1))], pods[identity.PodName(set, int32(ord))]
		readyAt := prev.GetStatus().GetReadyObservedTime().AsTime()
		if created := cur.GetMetadata().GetCreationTime().AsTime(); created.Before(readyAt) {
			t.Errorf("%s created at %v, before %s was Ready at %v", cur.GetMetadata().GetName(), created,
				prev.GetMetadata().GetName(), readyAt)
		}
	}
	for name, p := range pods {
		out, err := framework.ExecInPod(clus, p.GetNodeName(), name, "app", "hostname")
		if err != nil {
			t.Fatalf("hostname in %s: %v\n%s", name, err, out)
		}
		if got := strings.TrimSpace(out); got != name {
			t.Errorf("hostname in %s = %q", name, got)
		}
	}
	checkContainers(t, set, pods)
}

// Scale 3 → 5 → 2: creation ascending, deletion descending one at a time, and
// each node's containerd holds exactly the pods placed there.
func TestScaleUpAndDown(t *testing.T) {
	framework.Need(t, clus)
	const set = "scaled"
	rec := framework.Record(t, clus, set)
	framework.Apply(t, clus, setManifest(set, "OrderedReady", 3, plainSleeper))
	defer framework.DeleteSet(t, clus, set)
	pods := framework.WaitSetReady(t, clus, set, "scaled-0", "scaled-1", "scaled-2")
	checkContainers(t, set, pods)

	scale(t, set, 5)
	pods = framework.WaitSetReady(t, clus, set, "scaled-0", "scaled-1", "scaled-2", "scaled-3", "scaled-4")
	if got := rec.Created(); !slices.Equal(got, []string{"scaled-0", "scaled-1", "scaled-2", "scaled-3", "scaled-4"}) {
		t.Errorf("creation order %v", got)
	}
	framework.CheckOrderedCreation(t, rec)
	checkContainers(t, set, pods)

	scale(t, set, 2)
	pods = framework.WaitSetReady(t, clus, set, "scaled-0", "scaled-1")
	if got := rec.Deleted(); !slices.Equal(got, []string{"scaled-4", "scaled-3", "scaled-2"}) {
		t.Errorf("deletion order %v, want scaled-4, scaled-3, scaled-2", got)
	}
	// One at a time: a pod starts terminating only after the previous one is gone.
	terminating := map[string]bool{}
	for _, ev := range rec.Snapshot() {
		p := ev.GetPod()
		name := p.GetMetadata().GetName()
		switch {
		case ev.GetType() == ordov1.EventType_EVENT_TYPE_DELETED:
			delete(terminating, name)
		case p.GetMetadata().GetDeletionTime() != nil && !terminating[name]:
			if len(terminating) > 0 {
				t.Errorf("%s started terminating while %v still existed", name, keys(terminating))
			}
			terminating[name] = true
		}
	}
	checkContainers(t, set, pods)
}

// Parallel creates every ordinal without waiting for readiness.
func TestParallelPolicy(t *testing.T) {
	framework.Need(t, clus)
	const set = "par"
	framework.Apply(t, clus, setManifest(set, "Parallel", 3, probedSleeper)) // never Ready
	defer framework.DeleteSet(t, clus, set)
	var pods map[string]*ordov1.Pod
	framework.WaitFor(t, clus, "all three running", 60*time.Second, func() bool {
		pods = framework.ListPods(t, clus, set)
		return len(pods) == 3 && framework.Running(pods["par-0"]) && framework.Running(pods["par-1"]) && framework.Running(pods["par-2"])
	})
	for name, p := range pods {
		if p.GetStatus().GetReady() {
			t.Errorf("%s Ready without /tmp/ready", name)
		}
	}
	checkContainers(t, set, pods)
}

func scale(t testing.TB, set string, n int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := clus.Control().Scale(ctx, &ordov1.ScaleRequest{Name: set, Replicas: n}); err != nil {
		t.Fatalf("scale %s to %d: %v", set, n, err)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
