package e2e

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// recorder keeps every pod event of one set, in the order the scheduler sent them.
type recorder struct {
	mu     sync.Mutex
	events []*ordov1.Event
	cancel context.CancelFunc
	done   chan struct{}
}

func record(t testing.TB, set string) *recorder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	// Nodes come along so that the first (initial) event proves the watch is
	// subscribed before the test changes anything.
	stream, err := control.Watch(ctx, &ordov1.WatchRequest{Kinds: []string{"Pod", "Node"}, SendInitial: true})
	if err != nil {
		cancel()
		t.Fatalf("watch: %v", err)
	}
	first, err := stream.Recv()
	if err != nil || first.GetNode() == nil && first.GetPod() == nil {
		cancel()
		t.Fatalf("watch: first event %v, %v", first, err)
	}
	r := &recorder{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			ev, err := stream.Recv()
			if err != nil {
				return
			}
			if ev.GetPod() == nil || ev.GetPod().GetSetName() != set {
				continue
			}
			r.mu.Lock()
			r.events = append(r.events, ev)
			r.mu.Unlock()
		}
	}()
	t.Cleanup(r.stop)
	return r
}

func (r *recorder) stop() { r.cancel(); <-r.done }

func (r *recorder) snapshot() []*ordov1.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// created lists pod names in the order their ADDED events arrived.
func (r *recorder) created() []string {
	var out []string
	for _, ev := range r.snapshot() {
		if ev.GetType() == ordov1.EventType_EVENT_TYPE_ADDED && ev.GetReason() == "" {
			out = append(out, ev.GetPod().GetMetadata().GetName())
		}
	}
	return out
}

// deleted lists pod names in the order their DELETED events arrived.
func (r *recorder) deleted() []string {
	var out []string
	for _, ev := range r.snapshot() {
		if ev.GetType() == ordov1.EventType_EVENT_TYPE_DELETED && ev.GetReason() == "" {
			out = append(out, ev.GetPod().GetMetadata().GetName())
		}
	}
	return out
}

// checkOrderedCreation asserts that every pod was created only after all lower
// ordinals were Running and Ready, replaying the recorded event stream.
func checkOrderedCreation(t testing.TB, r *recorder) {
	t.Helper()
	ready := map[int32]bool{}
	for _, ev := range r.snapshot() {
		if ev.GetReason() != "" {
			continue
		}
		p := ev.GetPod()
		switch ev.GetType() {
		case ordov1.EventType_EVENT_TYPE_ADDED:
			for o := int32(0); o < p.GetOrdinal(); o++ {
				if !ready[o] {
					t.Errorf("%s created while ordinal %d was not Running and Ready", p.GetMetadata().GetName(), o)
				}
			}
			ready[p.GetOrdinal()] = readyPod(p)
		case ordov1.EventType_EVENT_TYPE_MODIFIED:
			ready[p.GetOrdinal()] = readyPod(p)
		case ordov1.EventType_EVENT_TYPE_DELETED:
			delete(ready, p.GetOrdinal())
		}
	}
}

func podsOnNodes(pods map[string]*ordov1.Pod) map[string][]string {
	want := map[string][]string{}
	for i := 1; i <= labNodes; i++ {
		want[fmt.Sprintf("node-%d", i)] = nil
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
		for _, id := range nodeContainers(t, node) {
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
	needLab(t)
	const set = "ordered"
	rec := record(t, set)
	apply(t, setManifest(set, "OrderedReady", 3, probedSleeper))
	defer deleteSet(t, set)

	var pods map[string]*ordov1.Pod
	for ord := 0; ord < 3; ord++ {
		name := identity.PodName(set, int32(ord))
		waitFor(t, name+" running", 60*time.Second, func() bool {
			pods = listPods(t, set)
			return running(pods[name])
		})
		// Not ready yet: nothing beyond it may exist, for as long as the file is missing.
		for i := 0; i < 10; i++ {
			pods = listPods(t, set)
			if pods[name].GetStatus().GetReady() {
				t.Fatalf("%s Ready before /tmp/ready exists", name)
			}
			if len(pods) != ord+1 {
				t.Fatalf("with %s not Ready, pods are %v", name, keys(pods))
			}
			time.Sleep(100 * time.Millisecond)
		}
		if out, err := execInPod(t, pods[name].GetNodeName(), name, "app", "touch", "/tmp/ready"); err != nil {
			t.Fatalf("touch /tmp/ready in %s: %v\n%s", name, err, out)
		}
	}
	pods = waitSetReady(t, set, "ordered-0", "ordered-1", "ordered-2")
	checkOrderedCreation(t, rec)
	if got := rec.created(); !slices.Equal(got, []string{"ordered-0", "ordered-1", "ordered-2"}) {
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
		out, err := execInPod(t, p.GetNodeName(), name, "app", "hostname")
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
	needLab(t)
	const set = "scaled"
	rec := record(t, set)
	apply(t, setManifest(set, "OrderedReady", 3, plainSleeper))
	defer deleteSet(t, set)
	pods := waitSetReady(t, set, "scaled-0", "scaled-1", "scaled-2")
	checkContainers(t, set, pods)

	scale(t, set, 5)
	pods = waitSetReady(t, set, "scaled-0", "scaled-1", "scaled-2", "scaled-3", "scaled-4")
	if got := rec.created(); !slices.Equal(got, []string{"scaled-0", "scaled-1", "scaled-2", "scaled-3", "scaled-4"}) {
		t.Errorf("creation order %v", got)
	}
	checkOrderedCreation(t, rec)
	checkContainers(t, set, pods)

	scale(t, set, 2)
	pods = waitSetReady(t, set, "scaled-0", "scaled-1")
	if got := rec.deleted(); !slices.Equal(got, []string{"scaled-4", "scaled-3", "scaled-2"}) {
		t.Errorf("deletion order %v, want scaled-4, scaled-3, scaled-2", got)
	}
	// One at a time: a pod starts terminating only after the previous one is gone.
	terminating := map[string]bool{}
	for _, ev := range rec.snapshot() {
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
	needLab(t)
	const set = "par"
	apply(t, setManifest(set, "Parallel", 3, probedSleeper)) // never Ready
	defer deleteSet(t, set)
	var pods map[string]*ordov1.Pod
	waitFor(t, "all three running", 60*time.Second, func() bool {
		pods = listPods(t, set)
		return len(pods) == 3 && running(pods["par-0"]) && running(pods["par-1"]) && running(pods["par-2"])
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
	if _, err := control.Scale(ctx, &ordov1.ScaleRequest{Name: set, Replicas: n}); err != nil {
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
