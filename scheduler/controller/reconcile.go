package controller

import (
	"sort"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Pod management policies.
const (
	PolicyOrderedReady = "OrderedReady"
	PolicyParallel     = "Parallel"
)

// ReasonUnschedulable is PodStatus.reason of a pod no node can take.
const ReasonUnschedulable = "Unschedulable"

// Reconcile decides the next steps for in.Set, as the Kubernetes StatefulSet
// controller does:
//
//   - Pods are <set>-<ordinal> for ordinals spec.ordinals_start ..
//     ordinals_start+replicas-1; pods of the set outside that range are
//     condemned. A set being deleted (deletion_time set) has no ordinals.
//   - OrderedReady (the default): ordinals are walked in ascending order; a
//     missing pod is created and nothing else happens until it is Running,
//     Ready and Available (min_ready_seconds after the scheduler saw it Ready).
//     Once every pod in range is, condemned pods are deleted from the highest
//     ordinal down, one at a time, each gone before the next.
//   - Parallel: every missing pod is created and every condemned pod deleted
//     at once.
//   - A pod being deleted is never replaced while it exists (at most one pod
//     per identity); a Failed or Succeeded pod is deleted and created again
//     once it is gone; a pod whose node stopped reporting (phase Unknown) is
//     left alone.
//   - Unbound pods are bound as soon as a node fits, or marked unschedulable
//     with the reason when it changed.
//
// Pods are created on the update revision (Revision(set)); pods on older
// revisions are not replaced here.
//
// Reconcile only reads its input; the pods in the actions are new objects.
func Reconcile(in Input) Result {
	set := in.Set
	setName := set.GetMetadata().GetName()
	spec := set.GetSpec()
	start := int64(spec.GetOrdinalsStart())
	replicas := int64(spec.GetReplicas())
	if replicas < 0 || set.GetMetadata().GetDeletionTime() != nil {
		replicas = 0
	}
	end := start + replicas // exclusive
	parallel := spec.GetPodManagementPolicy() == PolicyParallel
	minReady := time.Duration(spec.GetMinReadySeconds()) * time.Second
	updateRevision := Revision(set)

	// Sort the set's pods into ordinals in range and condemned ones.
	byOrdinal := make(map[int64][]*ordov1.Pod)
	var condemned []*ordov1.Pod
	anyTerminating := false
	for _, p := range in.Pods {
		if p == nil {
			continue
		}
		if isTerminating(p) {
			anyTerminating = true
		}
		o := int64(ordinalOf(setName, p))
		if o >= start && o < end {
			byOrdinal[o] = append(byOrdinal[o], p)
		} else {
			condemned = append(condemned, p)
		}
	}
	sort.SliceStable(condemned, func(i, j int) bool {
		oi, oj := ordinalOf(setName, condemned[i]), ordinalOf(setName, condemned[j])
		if oi != oj {
			return oi > oj
		}
		return condemned[i].GetMetadata().GetName() > condemned[j].GetMetadata().GetName()
	})

	r := &run{now: in.Now, nodes: in.Nodes, placed: mergePods(in.AllPods, in.Pods)}
	var res Result
	res.Status, res.RequeueAfter = computeStatus(set, byOrdinal, start, end, updateRevision, minReady, in.Now)

	// Pods in range, ascending.
	blocked := false
	for o := start; o < end && !blocked; o++ {
		pods := byOrdinal[o]
		p := live(pods)
		if p == nil {
			if len(pods) > 0 {
				// The previous incarnation is still terminating: wait until it is gone.
				blocked = !parallel
				continue
			}
			res.Actions = append(res.Actions, r.create(set, int32(o), updateRevision))
			blocked = !parallel
			continue
		}
		switch phase := p.GetStatus().GetPhase(); {
		case phase == ordov1.PodPhase_POD_PHASE_FAILED, phase == ordov1.PodPhase_POD_PHASE_SUCCEEDED,
			phase == ordov1.PodPhase_POD_PHASE_GONE:
			res.Actions = append(res.Actions, r.delete(p, "pod "+phaseWord(phase)+"; it is recreated once gone"))
			blocked = !parallel
			continue
		case p.GetNodeName() == "":
			if a, ok := r.schedule(p); ok {
				res.Actions = append(res.Actions, a)
			}
			blocked = !parallel
			continue
		}
		if !parallel {
			if !isRunningAndReady(p) {
				blocked = true
				continue
			}
			if ok, _ := isAvailable(p, minReady, in.Now); !ok {
				blocked = true
				continue
			}
		}
	}
	if blocked {
		return res
	}

	// Condemned pods, highest ordinal first.
	if !parallel && anyTerminating {
		return res
	}
	for _, p := range condemned {
		if isTerminating(p) {
			continue // only reachable in Parallel: it is already going
		}
		if p.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_UNKNOWN {
			// Its node stopped reporting; nothing can confirm it stopped.
			if !parallel {
				break
			}
			continue
		}
		res.Actions = append(res.Actions, r.delete(p, "scale down"))
		if !parallel {
			break
		}
	}
	return res
}

// run carries the decisions of one Reconcile call, so that later placements
// see earlier ones.
type run struct {
	now    time.Time
	nodes  []*ordov1.NodeInfo
	placed []*ordov1.Pod
}

func (r *run) create(set *ordov1.StatefulSet, ordinal int32, revision string) Action {
	p := NewPod(set, ordinal, revision)
	p.Metadata.CreationTime = timestamppb.New(r.now)
	node, why := Place(p, r.nodes, r.placed)
	if node != "" {
		p.NodeName = node
		p.ScheduledTime = timestamppb.New(r.now)
		r.placed = append(r.placed, p)
		return Action{Kind: CreatePod, Pod: p, Node: node, Reason: "create " + p.GetMetadata().GetName() + " on " + node}
	}
	p.Status.Reason = ReasonUnschedulable
	p.Status.Message = why
	return Action{Kind: CreatePod, Pod: p, Reason: why}
}

// schedule binds the unbound pod p if a node fits; otherwise it records why
// not, when that changed. ok is false when nothing needs to be done.
func (r *run) schedule(p *ordov1.Pod) (Action, bool) {
	node, why := Place(p, r.nodes, r.placed)
	c := proto.Clone(p).(*ordov1.Pod)
	if c.Status == nil {
		c.Status = &ordov1.PodStatus{Phase: ordov1.PodPhase_POD_PHASE_PENDING}
	}
	if node != "" {
		c.NodeName = node
		c.ScheduledTime = timestamppb.New(r.now)
		if c.Status.Reason == ReasonUnschedulable {
			c.Status.Reason, c.Status.Message = "", ""
		}
		r.placed = append(r.placed, c)
		return Action{Kind: BindPod, Pod: c, Node: node, Reason: "bind " + c.GetMetadata().GetName() + " to " + node}, true
	}
	if p.GetStatus().GetReason() == ReasonUnschedulable && p.GetStatus().GetMessage() == why {
		return Action{}, false
	}
	c.Status.Reason = ReasonUnschedulable
	c.Status.Message = why
	return Action{Kind: MarkUnschedulable, Pod: c, Reason: why}, true
}

func (r *run) delete(p *ordov1.Pod, why string) Action {
	c := proto.Clone(p).(*ordov1.Pod)
	if c.Metadata == nil {
		c.Metadata = &ordov1.ObjectMeta{}
	}
	c.Metadata.DeletionTime = timestamppb.New(r.now)
	return Action{Kind: DeletePod, Pod: c, Node: c.GetNodeName(), Reason: why}
}

// computeStatus counts the pods in range that exist and are not terminating.
// requeue is the shortest time until a Ready pod becomes Available.
func computeStatus(set *ordov1.StatefulSet, byOrdinal map[int64][]*ordov1.Pod, start, end int64, updateRevision string, minReady time.Duration, now time.Time) (*ordov1.StatefulSetStatus, time.Duration) {
	st := &ordov1.StatefulSetStatus{
		ObservedGeneration: set.GetMetadata().GetGeneration(),
		UpdateRevision:     updateRevision,
	}
	var requeue time.Duration
	revisions := make(map[string]int32)
	var pods []*ordov1.Pod
	for o := start; o < end; o++ {
		p := live(byOrdinal[o])
		if p == nil {
			continue
		}
		pods = append(pods, p)
		st.Replicas++
		revisions[p.GetRevision()]++
		if isRunningAndReady(p) {
			st.ReadyReplicas++
			ok, wait := isAvailable(p, minReady, now)
			if ok {
				st.AvailableReplicas++
			} else if wait > 0 && (requeue == 0 || wait < requeue) {
				requeue = wait
			}
		}
	}
	st.CurrentRevision = currentRevision(revisions, set.GetStatus().GetCurrentRevision(), updateRevision)
	for _, p := range pods {
		if p.GetRevision() == st.CurrentRevision {
			st.CurrentReplicas++
		}
		if p.GetRevision() == updateRevision {
			st.UpdatedReplicas++
		}
	}
	return st, requeue
}

// currentRevision is the revision most pods run. Ties prefer the previous
// current revision, then the update revision, then the smallest name.
func currentRevision(counts map[string]int32, previous, update string) string {
	best, bestN := update, counts[update]
	for rev, n := range counts {
		switch {
		case n > bestN:
			best, bestN = rev, n
		case n == bestN && n > 0 && rev != best:
			if rank(rev, previous, update) < rank(best, previous, update) ||
				(rank(rev, previous, update) == rank(best, previous, update) && rev < best) {
				best = rev
			}
		}
	}
	return best
}

func rank(rev, previous, update string) int {
	switch rev {
	case previous:
		return 0
	case update:
		return 1
	}
	return 2
}

func isTerminating(p *ordov1.Pod) bool { return p.GetMetadata().GetDeletionTime() != nil }

func isRunningAndReady(p *ordov1.Pod) bool {
	return !isTerminating(p) && p.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_RUNNING && p.GetStatus().GetReady()
}

// isAvailable: Running and Ready for at least minReady, counted from when the
// scheduler saw it become Ready (ready_observed_time; the agent's ready_time
// when that is missing). wait is the time left when it is Ready but not yet
// Available.
func isAvailable(p *ordov1.Pod, minReady time.Duration, now time.Time) (ok bool, wait time.Duration) {
	if !isRunningAndReady(p) {
		return false, 0
	}
	if minReady <= 0 {
		return true, 0
	}
	ts := p.GetStatus().GetReadyObservedTime()
	if ts == nil {
		ts = p.GetStatus().GetReadyTime()
	}
	if ts == nil {
		return false, minReady
	}
	elapsed := now.Sub(ts.AsTime())
	if elapsed >= minReady {
		return true, 0
	}
	return false, minReady - elapsed
}

// live is the pod of an ordinal that is not being deleted, if any.
func live(pods []*ordov1.Pod) *ordov1.Pod {
	for _, p := range pods {
		if !isTerminating(p) {
			return p
		}
	}
	return nil
}

// ordinalOf reads the ordinal from the pod's name, falling back to Pod.ordinal.
func ordinalOf(setName string, p *ordov1.Pod) int32 {
	if s, o, err := identity.ParseOrdinal(p.GetMetadata().GetName()); err == nil && s == setName {
		return o
	}
	return p.GetOrdinal()
}

// mergePods is all plus any pod of set that all lacks (same namespace and name).
func mergePods(all, set []*ordov1.Pod) []*ordov1.Pod {
	out := make([]*ordov1.Pod, 0, len(all)+len(set))
	seen := make(map[[2]string]bool, len(all))
	for _, p := range all {
		if p == nil {
			continue
		}
		out = append(out, p)
		seen[[2]string{namespaceOf(p.GetMetadata()), p.GetMetadata().GetName()}] = true
	}
	for _, p := range set {
		if p != nil && !seen[[2]string{namespaceOf(p.GetMetadata()), p.GetMetadata().GetName()}] {
			out = append(out, p)
		}
	}
	return out
}

func phaseWord(p ordov1.PodPhase) string {
	switch p {
	case ordov1.PodPhase_POD_PHASE_FAILED:
		return "failed"
	case ordov1.PodPhase_POD_PHASE_SUCCEEDED:
		return "succeeded"
	case ordov1.PodPhase_POD_PHASE_GONE:
		return "is gone"
	}
	return p.String()
}
