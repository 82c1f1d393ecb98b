package controller

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// cluster is a fake of everything around Reconcile: a pod store, nodes,
// agents that start, ready and stop pods, and a clock. It applies Reconcile's
// actions the way the scheduler does and checks the StatefulSet guarantees
// after every step.
type cluster struct {
	t     *testing.T
	rng   *rand.Rand
	now   time.Time
	set   *ordov1.StatefulSet
	nodes []*ordov1.NodeInfo
	pods  map[string]*ordov1.Pod // by name: at most one pod per identity
	epoch uint64

	neverReady map[int32]bool // ordinals whose readiness stays false
	failures   bool           // running pods sometimes fail

	// badRevisions never become Ready (a broken image or command).
	badRevisions map[string]bool
	// revisions is the set's revision history, kept as the scheduler keeps it.
	revisions []ControllerRevision
	// checkUnavailable: at most max_unavailable ordinals at or above the
	// partition may be unavailable at any moment (set once the set is up).
	checkUnavailable bool
	// updateDeletes are the ordinals the rolling update deleted, in order.
	updateDeletes []int32
	// replacedAtOnce are the outdated, not Ready ordinals replaced at once.
	replacedAtOnce []int32
	rollbacks      []*Rollback

	reconciles int
	log        []string
}

func newCluster(t *testing.T, seed int64, set *ordov1.StatefulSet, nodes ...*ordov1.NodeInfo) *cluster {
	t.Helper()
	if len(nodes) == 0 {
		nodes = []*ordov1.NodeInfo{testNode("node-1", true, 110), testNode("node-2", true, 110), testNode("node-3", true, 110)}
	}
	return &cluster{
		t:          t,
		rng:        rand.New(rand.NewSource(seed)),
		now:        time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		set:        set,
		nodes:      nodes,
		pods:       map[string]*ordov1.Pod{},
		neverReady: map[int32]bool{},

		badRevisions: map[string]bool{},
	}
}

func testSet(name string, replicas int32, policy string) *ordov1.StatefulSet {
	return &ordov1.StatefulSet{
		Metadata: &ordov1.ObjectMeta{Name: name, Namespace: "default", Generation: 1},
		Spec: &ordov1.StatefulSetSpec{
			Replicas:            replicas,
			ServiceName:         name,
			PodManagementPolicy: policy,
			Selector:            &ordov1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: &ordov1.PodTemplate{
				Metadata: &ordov1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: &ordov1.PodSpec{Containers: []*ordov1.Container{{
					Name: "main", Image: "ordo.local/busybox:latest", Command: []string{"sleep", "3600"},
				}}},
			},
		},
	}
}

func (c *cluster) ordered() bool { return c.set.GetSpec().GetPodManagementPolicy() != PolicyParallel }

func (c *cluster) desired() (start, end int32) {
	start = c.set.Spec.OrdinalsStart
	if c.set.GetMetadata().GetDeletionTime() != nil {
		return start, start
	}
	return start, start + c.set.Spec.Replicas
}

func (c *cluster) inRange(o int32) bool {
	s, e := c.desired()
	return o >= s && o < e
}

func (c *cluster) scale(n int32) {
	c.set.Spec.Replicas = n
	c.set.Metadata.Generation++
	c.logf("scale to %d", n)
}

func (c *cluster) logf(format string, args ...any) {
	c.log = append(c.log, fmt.Sprintf("%s ", c.now.Format("15:04:05.000"))+fmt.Sprintf(format, args...))
}

func (c *cluster) fatalf(format string, args ...any) {
	c.t.Helper()
	n := len(c.log)
	from := n - 40
	if from < 0 {
		from = 0
	}
	for _, l := range c.log[from:] {
		c.t.Log(l)
	}
	c.t.Fatalf(format, args...)
}

func (c *cluster) sortedPods() []*ordov1.Pod {
	out := make([]*ordov1.Pod, 0, len(c.pods))
	for _, p := range c.pods {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ordinal < out[j].Ordinal })
	return out
}

func clonePods(ps []*ordov1.Pod) []*ordov1.Pod {
	out := make([]*ordov1.Pod, len(ps))
	for i, p := range ps {
		out[i] = proto.Clone(p).(*ordov1.Pod)
	}
	return out
}

// reconcile calls Reconcile, checks its decisions and applies them.
func (c *cluster) reconcile() Result {
	c.t.Helper()
	c.reconciles++
	pods := c.sortedPods()
	// Shuffle: Reconcile must not depend on input order.
	c.rng.Shuffle(len(pods), func(i, j int) { pods[i], pods[j] = pods[j], pods[i] })
	in := Input{
		Set:     proto.Clone(c.set).(*ordov1.StatefulSet),
		Pods:    clonePods(pods),
		Nodes:   append([]*ordov1.NodeInfo(nil), c.nodes...),
		AllPods: clonePods(pods),
		Now:     c.now,
	}
	for _, r := range c.revisions {
		r.Template = proto.Clone(r.Template).(*ordov1.PodTemplate)
		in.Revisions = append(in.Revisions, r)
	}
	c.rng.Shuffle(len(in.Revisions), func(i, j int) { in.Revisions[i], in.Revisions[j] = in.Revisions[j], in.Revisions[i] })
	before := clonePods(in.Pods)
	res := Reconcile(in)
	for i := range before {
		if !proto.Equal(before[i], in.Pods[i]) {
			c.fatalf("Reconcile modified its input pod %s", before[i].Metadata.Name)
		}
	}
	c.check(res)
	c.apply(res)
	c.checkState()
	return res
}

// check verifies the actions against the state they were decided on.
func (c *cluster) check(res Result) {
	c.t.Helper()
	c.checkRevisions(res)
	creates, condemnedDeletes, updateDeletes := 0, 0, 0
	deleting := map[string]bool{}
	for _, a := range res.Actions {
		if a.Kind == DeletePod {
			deleting[a.Pod.GetMetadata().GetName()] = true
		}
	}
	setTerminating := false
	for _, p := range c.pods {
		if p.Metadata.DeletionTime != nil {
			setTerminating = true
		}
	}
	newNames := map[string]bool{}
	for _, a := range res.Actions {
		name := a.Pod.GetMetadata().GetName()
		c.logf("%s %s node=%q reason=%q", a.Kind, name, a.Node, a.Reason)
		switch a.Kind {
		case CreatePod:
			creates++
			o := a.Pod.Ordinal
			if name != identity.PodName(c.set.Metadata.Name, o) {
				c.fatalf("created pod %s has ordinal %d", name, o)
			}
			if old, ok := c.pods[name]; ok || newNames[name] {
				c.fatalf("created %s while a pod of that name exists (terminating=%v)", name, old.GetMetadata().GetDeletionTime() != nil)
			}
			newNames[name] = true
			if !c.inRange(o) {
				c.fatalf("created %s outside the desired ordinals", name)
			}
			wantRev := Revision(c.set)
			if cur := res.Status.CurrentRevision; !c.onDelete() && o < c.partition() && c.historyTemplate(cur) != nil {
				wantRev = cur
			}
			if a.Pod.Revision != wantRev || a.Pod.Metadata.Labels[identity.LabelRevisionHash] != wantRev {
				c.fatalf("created %s on revision %s, want %s", name, a.Pod.Revision, wantRev)
			}
			if a.Pod.Epoch != 0 {
				c.fatalf("created %s with epoch %d; the store assigns epochs", name, a.Pod.Epoch)
			}
			if a.Pod.NodeName == "" && (a.Pod.Status.GetReason() != ReasonUnschedulable || a.Pod.Status.GetMessage() == "") {
				c.fatalf("unbound %s created without an unschedulable reason: %v", name, a.Pod.Status)
			}
			if c.ordered() {
				start, _ := c.desired()
				for lo := start; lo < o; lo++ {
					p := c.pods[identity.PodName(c.set.Metadata.Name, lo)]
					if p == nil {
						c.fatalf("created %s while %d does not exist", name, lo)
					}
					if ok, _ := isAvailable(p, time.Duration(c.set.Spec.MinReadySeconds)*time.Second, c.now); !ok {
						c.fatalf("created %s while %s is not Running, Ready and Available: %v", name, p.Metadata.Name, p.Status)
					}
				}
			}
		case BindPod:
			p := c.pods[name]
			if p == nil || p.NodeName != "" || a.Node == "" || a.Pod.NodeName != a.Node {
				c.fatalf("bad bind of %s to %q (stored %v)", name, a.Node, p)
			}
		case MarkUnschedulable:
			p := c.pods[name]
			if p == nil || p.NodeName != "" || a.Reason == "" {
				c.fatalf("bad unschedulable mark of %s (stored %v)", name, p)
			}
			if p.Status.GetMessage() == a.Reason {
				c.fatalf("%s marked unschedulable again with the same reason", name)
			}
		case DeletePod:
			p := c.pods[name]
			if p == nil || p.Metadata.DeletionTime != nil {
				c.fatalf("delete of %s which is missing or already terminating", name)
			}
			if p.Status.Phase == ordov1.PodPhase_POD_PHASE_UNKNOWN {
				c.fatalf("deleted %s whose node stopped reporting", name)
			}
			if c.inRange(p.Ordinal) {
				if ph := p.Status.Phase; ph == ordov1.PodPhase_POD_PHASE_FAILED || ph == ordov1.PodPhase_POD_PHASE_SUCCEEDED {
					continue
				}
				if c.checkUpdateDelete(p, deleting) {
					updateDeletes++
				}
				continue
			}
			condemnedDeletes++
			if c.ordered() {
				if setTerminating {
					c.fatalf("scale-down deleted %s while another pod of the set is terminating", name)
				}
				for _, q := range c.pods {
					if !c.inRange(q.Ordinal) && q.Ordinal > p.Ordinal {
						c.fatalf("scale-down deleted %s before the higher %s", name, q.Metadata.Name)
					}
					if c.inRange(q.Ordinal) {
						if ok, _ := isAvailable(q, time.Duration(c.set.Spec.MinReadySeconds)*time.Second, c.now); !ok {
							c.fatalf("scale-down deleted %s while %s is not Available", name, q.Metadata.Name)
						}
					}
				}
				start, end := c.desired()
				for o := start; o < end; o++ {
					if c.pods[identity.PodName(c.set.Metadata.Name, o)] == nil {
						c.fatalf("scale-down deleted %s while ordinal %d is missing", name, o)
					}
				}
			}
		default:
			c.fatalf("unknown action %v", a.Kind)
		}
	}
	if updateDeletes > 0 && c.unavailable()+updateDeletes > c.maxUnavailable() {
		c.fatalf("rolling update deleted %d pods while %d are unavailable, max_unavailable %d: %v",
			updateDeletes, c.unavailable(), c.maxUnavailable(), c.names())
	}
	if c.ordered() && creates > 1 {
		c.fatalf("OrderedReady created %d pods in one call", creates)
	}
	if c.ordered() && condemnedDeletes > 1 {
		c.fatalf("OrderedReady deleted %d condemned pods in one call", condemnedDeletes)
	}
	if !c.ordered() {
		// Parallel: every missing ordinal is created in this very call.
		start, end := c.desired()
		for o := start; o < end; o++ {
			name := identity.PodName(c.set.Metadata.Name, o)
			if c.pods[name] == nil && !newNames[name] {
				c.fatalf("Parallel left ordinal %d missing", o)
			}
		}
	}
}

func (c *cluster) apply(res Result) {
	c.set.Status = proto.Clone(res.Status).(*ordov1.StatefulSetStatus)
	if nr := res.NewRevision; nr != nil {
		kept := c.revisions[:0]
		for _, r := range c.revisions {
			if r.Name != nr.Name {
				kept = append(kept, r)
			}
		}
		c.revisions = append(kept, ControllerRevision{Name: nr.Name, Number: nr.Number, Template: proto.Clone(nr.Template).(*ordov1.PodTemplate)})
	}
	for _, name := range res.PruneRevisions {
		kept := c.revisions[:0]
		for _, r := range c.revisions {
			if r.Name != name {
				kept = append(kept, r)
			}
		}
		c.revisions = kept
		c.logf("revision %s pruned", name)
	}
	if rb := res.Rollback; rb != nil {
		c.rollbacks = append(c.rollbacks, rb)
		c.set.Spec.Template = proto.Clone(rb.Template).(*ordov1.PodTemplate)
		c.set.Metadata.Generation++
		c.logf("rolled back to %s: %s", rb.ToRevision, rb.Reason)
	}
	for _, a := range res.Actions {
		name := a.Pod.Metadata.Name
		switch a.Kind {
		case CreatePod:
			c.epoch++
			p := proto.Clone(a.Pod).(*ordov1.Pod)
			p.Epoch = c.epoch
			c.pods[name] = p
		case BindPod:
			c.pods[name].NodeName = a.Node
			c.pods[name].Status.Reason, c.pods[name].Status.Message = "", ""
		case MarkUnschedulable:
			c.pods[name].Status.Reason = ReasonUnschedulable
			c.pods[name].Status.Message = a.Reason
		case DeletePod:
			p := c.pods[name]
			if p.NodeName == "" {
				// Never ran anywhere: gone at once.
				delete(c.pods, name)
				c.logf("%s removed (unbound)", name)
				continue
			}
			p.Metadata.DeletionTime = timestamppb.New(c.now)
		}
	}
}

// checkState verifies what must hold at every moment.
func (c *cluster) checkState() {
	c.t.Helper()
	terminatingCondemned := 0
	perNode := map[string][]*ordov1.Pod{}
	for name, p := range c.pods {
		if name != identity.PodName(c.set.Metadata.Name, p.Ordinal) {
			c.fatalf("pod %s stored with ordinal %d", name, p.Ordinal)
		}
		if p.Metadata.DeletionTime != nil && !c.inRange(p.Ordinal) {
			terminatingCondemned++
		}
		if p.NodeName != "" {
			perNode[p.NodeName] = append(perNode[p.NodeName], p)
		}
	}
	if c.checkUnavailable {
		if n := c.unavailable(); n > c.maxUnavailable() {
			c.fatalf("%d pods at or above the partition unavailable, max_unavailable %d: %v", n, c.maxUnavailable(), c.names())
		}
	}
	if c.ordered() && terminatingCondemned > 1 {
		c.fatalf("%d condemned pods terminating at once under OrderedReady", terminatingCondemned)
	}
	for _, n := range c.nodes {
		ps := perNode[n.Metadata.Name]
		if m := n.GetCapacity().GetMaxPods(); m > 0 && len(ps) > int(m) {
			c.fatalf("node %s holds %d pods, max %d", n.Metadata.Name, len(ps), m)
		}
		if anti := c.set.Spec.Template.Spec.GetAffinity().GetPodAntiAffinityRequired(); len(anti) > 0 && anti[0].TopologyKey == LabelHostname {
			live := 0
			for _, p := range ps {
				if p.Metadata.DeletionTime == nil {
					live++
				}
			}
			if live > 1 {
				c.fatalf("anti-affine pods share node %s", n.Metadata.Name)
			}
		}
	}
}

// event moves one pod one step, as agents and the clock do.
func (c *cluster) event() {
	c.now = c.now.Add(time.Duration(c.rng.Intn(1500)) * time.Millisecond)
	pods := c.sortedPods()
	if len(pods) == 0 {
		return
	}
	p := pods[c.rng.Intn(len(pods))]
	name := p.Metadata.Name
	switch {
	case p.Metadata.DeletionTime != nil:
		if c.rng.Intn(2) == 0 {
			p.Status.Phase = ordov1.PodPhase_POD_PHASE_TERMINATING
			p.Status.Ready = false
			c.logf("%s terminating", name)
		} else {
			delete(c.pods, name)
			c.logf("%s gone", name)
		}
	case p.NodeName == "":
	case p.Status.Phase == ordov1.PodPhase_POD_PHASE_PENDING:
		p.Status.Phase = ordov1.PodPhase_POD_PHASE_RUNNING
		c.logf("%s running", name)
	case p.Status.Phase == ordov1.PodPhase_POD_PHASE_RUNNING && !p.Status.Ready:
		if c.failures && c.rng.Intn(6) == 0 {
			p.Status.Phase = ordov1.PodPhase_POD_PHASE_FAILED
			c.logf("%s failed", name)
		} else if c.canBeReady(p) {
			c.makeReady(p)
		}
	case p.Status.Phase == ordov1.PodPhase_POD_PHASE_RUNNING && p.Status.Ready:
		if c.failures && c.rng.Intn(4) == 0 {
			p.Status.Ready = false
			c.logf("%s not ready", name)
		}
	}
}

func (c *cluster) makeReady(p *ordov1.Pod) {
	p.Status.Ready = true
	p.Status.ReadyTime = timestamppb.New(c.now.Add(-50 * time.Millisecond))
	p.Status.ReadyObservedTime = timestamppb.New(c.now)
	c.logf("%s ready", p.Metadata.Name)
}

// randomSteps interleaves reconciles and events.
func (c *cluster) randomSteps(n int) {
	for i := 0; i < n; i++ {
		if c.rng.Intn(3) == 0 {
			c.reconcile()
		} else {
			c.event()
		}
	}
}

// settle lets every pod progress and reconciles until nothing changes;
// it fails if that does not happen.
func (c *cluster) settle() Result {
	c.t.Helper()
	for i := 0; i < 500; i++ {
		res := c.reconcile()
		changed := false
		for _, p := range c.sortedPods() {
			switch {
			case p.Metadata.DeletionTime != nil:
				delete(c.pods, p.Metadata.Name)
				c.logf("%s gone", p.Metadata.Name)
			case p.NodeName == "":
				continue
			case p.Status.Phase == ordov1.PodPhase_POD_PHASE_PENDING:
				p.Status.Phase = ordov1.PodPhase_POD_PHASE_RUNNING
			case p.Status.Phase == ordov1.PodPhase_POD_PHASE_RUNNING && !p.Status.Ready && c.canBeReady(p):
				c.makeReady(p)
			default:
				continue
			}
			changed = true
		}
		if len(res.Actions) == 0 && !changed && res.RequeueAfter == 0 && res.Rollback == nil {
			return res
		}
		c.now = c.now.Add(time.Second)
	}
	c.fatalf("did not settle")
	return Result{}
}

// converged asserts that exactly the desired ordinals exist, all Ready, and
// that the status says so.
func (c *cluster) converged(res Result) {
	c.t.Helper()
	start, end := c.desired()
	if len(c.pods) != int(end-start) {
		c.fatalf("%d pods, want %d: %v", len(c.pods), end-start, c.names())
	}
	for o := start; o < end; o++ {
		p := c.pods[identity.PodName(c.set.Metadata.Name, o)]
		if p == nil || !isRunningAndReady(p) {
			c.fatalf("ordinal %d not Running and Ready: %v", o, p)
		}
	}
	st := res.Status
	n := end - start
	if st.Replicas != n || st.ReadyReplicas != n || st.AvailableReplicas != n || st.UpdatedReplicas != n || st.CurrentReplicas != n {
		c.fatalf("status %v, want %d everywhere", st, n)
	}
	if st.ObservedGeneration != c.set.Metadata.Generation || st.UpdateRevision != Revision(c.set) || st.CurrentRevision != st.UpdateRevision {
		c.fatalf("status %v", st)
	}
	if len(res.Actions) != 0 || res.RequeueAfter != 0 {
		c.fatalf("converged set still acts: %v, requeue %v", res.Actions, res.RequeueAfter)
	}
}

func (c *cluster) names() []string {
	var out []string
	for _, p := range c.sortedPods() {
		s := p.Metadata.Name
		if p.Metadata.DeletionTime != nil {
			s += "(terminating)"
		}
		out = append(out, s)
	}
	return out
}

func TestSimulationScale(t *testing.T) {
	for _, policy := range []string{"", PolicyOrderedReady, PolicyParallel} {
		for _, start := range []int32{0, 5} {
			for _, minReady := range []int32{0, 2} {
				for seed := int64(1); seed <= 40; seed++ {
					name := fmt.Sprintf("policy=%q/start=%d/minReady=%d/seed=%d", policy, start, minReady, seed)
					t.Run(name, func(t *testing.T) {
						set := testSet("web", 3, policy)
						set.Spec.OrdinalsStart = start
						set.Spec.MinReadySeconds = minReady
						c := newCluster(t, seed, set)
						c.failures = seed%3 == 0
						c.randomSteps(150)
						c.scale(5)
						c.randomSteps(150)
						c.scale(2)
						c.randomSteps(150)
						c.failures = false
						c.converged(c.settle())
						// And back up once more from the settled state.
						c.scale(4)
						c.randomSteps(100)
						c.converged(c.settle())
					})
				}
			}
		}
	}
}

func TestSimulationAntiAffinity(t *testing.T) {
	for _, policy := range []string{PolicyOrderedReady, PolicyParallel} {
		for seed := int64(1); seed <= 30; seed++ {
			t.Run(fmt.Sprintf("%s/seed=%d", policy, seed), func(t *testing.T) {
				set := testSet("mongo", 4, policy)
				set.Spec.Template.Spec.Affinity = antiAffinity(LabelHostname, "app", "mongo")
				c := newCluster(t, seed, set)
				c.randomSteps(200)
				for i := 0; i < 50; i++ {
					c.reconcile()
					for _, p := range c.sortedPods() {
						if p.NodeName != "" && p.Status.Phase == ordov1.PodPhase_POD_PHASE_PENDING {
							p.Status.Phase = ordov1.PodPhase_POD_PHASE_RUNNING
						} else if p.NodeName != "" && !p.Status.Ready {
							c.makeReady(p)
						}
					}
					c.now = c.now.Add(time.Second)
				}
				// Three pods on three nodes; the fourth waits with the reason.
				nodes := map[string]bool{}
				for o := int32(0); o < 3; o++ {
					p := c.pods[identity.PodName("mongo", o)]
					if p == nil || p.NodeName == "" || nodes[p.NodeName] {
						c.fatalf("mongo-%d not on its own node: %v", o, c.names())
					}
					nodes[p.NodeName] = true
				}
				p := c.pods["mongo-3"]
				want := "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."
				if p == nil || p.NodeName != "" || p.Status.Reason != ReasonUnschedulable || p.Status.Message != want {
					c.fatalf("mongo-3 = %v, want unschedulable with %q", p, want)
				}
				// A fourth node lets it run.
				c.nodes = append(c.nodes, testNode("node-4", true, 110))
				res := c.reconcile()
				if len(res.Actions) != 1 || res.Actions[0].Kind != BindPod || res.Actions[0].Node != "node-4" {
					c.fatalf("after adding node-4: %v", res.Actions)
				}
				c.converged(c.settle())
			})
		}
	}
}

func TestSimulationReadinessStaysFalse(t *testing.T) {
	for seed := int64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			c := newCluster(t, seed, testSet("web", 4, ""))
			c.neverReady[1] = true
			c.randomSteps(200)
			res := c.settle()
			if got := c.names(); len(got) != 2 || got[0] != "web-0" || got[1] != "web-1" {
				c.fatalf("pods %v, want web-0 and web-1 only", got)
			}
			if res.Status.Replicas != 2 || res.Status.ReadyReplicas != 1 {
				c.fatalf("status %v", res.Status)
			}
			// Readiness arrives: the rest follow.
			delete(c.neverReady, 1)
			c.converged(c.settle())
		})
	}
}

func TestSimulationCapacityThenNewNode(t *testing.T) {
	for _, policy := range []string{PolicyOrderedReady, PolicyParallel} {
		for seed := int64(1); seed <= 20; seed++ {
			t.Run(fmt.Sprintf("%s/seed=%d", policy, seed), func(t *testing.T) {
				c := newCluster(t, seed, testSet("web", 5, policy),
					testNode("node-1", true, 2), testNode("node-2", true, 2))
				c.randomSteps(200)
				c.settle()
				if p := c.pods["web-4"]; p == nil || p.NodeName != "" ||
					p.Status.Message != "0/2 nodes are available: 2 Too many pods." {
					c.fatalf("web-4 = %v, want unschedulable for lack of room", p)
				}
				if len(c.pods) != 5 {
					c.fatalf("pods %v", c.names())
				}
				c.nodes = append(c.nodes, testNode("node-3", true, 2))
				c.randomSteps(50)
				c.converged(c.settle())
				if c.pods["web-4"].NodeName != "node-3" {
					c.fatalf("web-4 on %q", c.pods["web-4"].NodeName)
				}
			})
		}
	}
}
