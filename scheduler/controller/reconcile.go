package controller

import (
	"fmt"
	"sort"
	"time"

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
// Updates (see update.go): the update revision is Revision(set); pods on any
// other revision are outdated. RollingUpdate deletes outdated pods from the
// highest ordinal down to start+partition, at most max_unavailable of those
// ordinals unavailable at once, once every pod in range exists (and, under
// OrderedReady, is Available and no pod is terminating or condemned); the
// creation above brings each ordinal back on the update revision. Ordinals
// below the partition are recreated on the current revision. OnDelete only
// recreates pods on the update revision once someone deleted them. Unlike
// Kubernetes, under RollingUpdate an outdated pod at or above the partition
// that is not Ready is replaced at once, so that applying a fixed or the
// previous template heals a broken rollout without deleting pods by hand.
//
// Reconcile only reads its input; the pods in the actions are new objects.
func Reconcile(in Input) Result {
	v := newView(in)
	r := &run{now: in.Now, nodes: in.Nodes, placed: mergePods(in.AllPods, in.Pods), filters: in.NodeFilters, volumes: in.Volumes, taken: map[string]bool{}}
	var res Result
	res.Status, res.RequeueAfter = v.computeStatus()
	v.current = res.Status.CurrentRevision
	res.NewRevision, res.PruneRevisions = v.history(in.Revisions, in.Pods)

	fail := v.autoRollback(in.Revisions)
	if fail.wait > 0 && (res.RequeueAfter == 0 || fail.wait < res.RequeueAfter) {
		res.RequeueAfter = fail.wait
	}
	if fail.rollback != nil {
		// The caller restores the earlier template first; acting on the
		// failing one meanwhile would only take down more pods.
		res.Rollback = fail.rollback
	} else {
		res.Actions = v.decide(r)
	}
	res.Status.Conditions = v.conditions(res.Status, res.Actions, fail)
	return res
}

// view is the set as one Reconcile call sees it.
type view struct {
	set            *ordov1.StatefulSet
	name           string
	start, end     int64 // ordinals in range: start <= o < end
	parallel       bool
	onDelete       bool
	partition      int64 // lowest ordinal a rolling update replaces
	maxUnavailable int
	minReady       time.Duration
	now            time.Time
	update         string // update revision
	current        string // current revision, once status is computed
	templates      map[string]*ordov1.PodTemplate

	byOrdinal      map[int64][]*ordov1.Pod
	condemned      []*ordov1.Pod // highest ordinal first
	anyTerminating bool
}

func newView(in Input) *view {
	set := in.Set
	spec := set.GetSpec()
	v := &view{
		set:      set,
		name:     set.GetMetadata().GetName(),
		start:    int64(spec.GetOrdinalsStart()),
		parallel: spec.GetPodManagementPolicy() == PolicyParallel,
		onDelete: spec.GetUpdateStrategy().GetType() == StrategyOnDelete,
		minReady: time.Duration(spec.GetMinReadySeconds()) * time.Second,
		now:      in.Now,
		update:   Revision(set),
	}
	replicas := int64(spec.GetReplicas())
	if replicas < 0 || set.GetMetadata().GetDeletionTime() != nil {
		replicas = 0
	}
	v.end = v.start + replicas
	ru := spec.GetUpdateStrategy().GetRollingUpdate()
	v.partition = v.start
	if p := int64(ru.GetPartition()); p > 0 {
		v.partition += p
	}
	v.maxUnavailable = int(ru.GetMaxUnavailable())
	if v.maxUnavailable < 1 {
		v.maxUnavailable = 1
	}
	v.templates = make(map[string]*ordov1.PodTemplate, len(in.Revisions)+1)
	for _, rev := range in.Revisions {
		if rev.Template != nil {
			v.templates[rev.Name] = rev.Template
		}
	}
	v.templates[v.update] = spec.GetTemplate()

	v.byOrdinal = make(map[int64][]*ordov1.Pod)
	for _, p := range in.Pods {
		if p == nil {
			continue
		}
		if isTerminating(p) {
			v.anyTerminating = true
		}
		o := int64(ordinalOf(v.name, p))
		if v.inRange(o) {
			v.byOrdinal[o] = append(v.byOrdinal[o], p)
		} else {
			v.condemned = append(v.condemned, p)
		}
	}
	sort.SliceStable(v.condemned, func(i, j int) bool {
		oi, oj := ordinalOf(v.name, v.condemned[i]), ordinalOf(v.name, v.condemned[j])
		if oi != oj {
			return oi > oj
		}
		return v.condemned[i].GetMetadata().GetName() > v.condemned[j].GetMetadata().GetName()
	})
	return v
}

func (v *view) inRange(o int64) bool { return o >= v.start && o < v.end }

// podName is the name of ordinal o's pod.
func (v *view) podName(o int64) string { return identity.PodName(v.name, int32(o)) }

// decide is the list of actions: creation, binding and repair in ascending
// order, then scale-down, then the rolling update.
func (v *view) decide(r *run) []Action {
	var acts []Action
	blocked := false
	allExist := true
	deletedNow := make(map[int64]bool)
	for o := v.start; o < v.end && !blocked; o++ {
		pods := v.byOrdinal[o]
		p := live(pods)
		if p == nil {
			allExist = false
			if len(pods) > 0 {
				// The previous incarnation is still terminating: wait until it is gone.
				blocked = !v.parallel
				continue
			}
			rev := v.revisionFor(o)
			acts = append(acts, r.create(v.set, int32(o), rev, v.templates[rev]))
			blocked = !v.parallel
			continue
		}
		switch phase := p.GetStatus().GetPhase(); {
		case phase == ordov1.PodPhase_POD_PHASE_FAILED, phase == ordov1.PodPhase_POD_PHASE_SUCCEEDED,
			phase == ordov1.PodPhase_POD_PHASE_GONE:
			acts = append(acts, r.delete(p, "pod "+phaseWord(phase)+"; it is recreated once gone"))
			deletedNow[o] = true
			blocked = !v.parallel
			continue
		case v.replaceAtOnce(o, p):
			acts = append(acts, r.delete(p, fmt.Sprintf("%s is not Ready on the outdated revision %s: replaced by revision %s at once",
				p.GetMetadata().GetName(), p.GetRevision(), v.update)))
			deletedNow[o] = true
			blocked = !v.parallel
			continue
		case p.GetNodeName() == "":
			if a, ok := r.schedule(p); ok {
				acts = append(acts, a)
			}
			blocked = !v.parallel
			continue
		}
		if !v.parallel {
			if ok, _ := isAvailable(p, v.minReady, v.now); !ok {
				blocked = true
				continue
			}
		}
	}
	if blocked {
		return acts
	}

	// Condemned pods, highest ordinal first.
	if !v.parallel && v.anyTerminating {
		return acts
	}
	for _, p := range v.condemned {
		if isTerminating(p) {
			continue // only reachable in Parallel: it is already going
		}
		if p.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_UNKNOWN {
			// Its node stopped reporting; nothing can confirm it stopped.
			if !v.parallel {
				break
			}
			continue
		}
		acts = append(acts, r.delete(p, "scale down"))
		if !v.parallel {
			break
		}
	}

	// Updates start once the set has its size.
	if v.onDelete || !allExist || (!v.parallel && len(v.condemned) > 0) {
		return acts
	}
	return append(acts, v.rollingUpdate(r, deletedNow)...)
}

// stored one it is the revision most pods run.
func (v *view) computeStatus() (*ordov1.StatefulSetStatus, time.Duration) {
	st := &ordov1.StatefulSetStatus{
		ObservedGeneration: v.set.GetMetadata().GetGeneration(),
		UpdateRevision:     v.update,
	}
	var requeue time.Duration
	revisions := make(map[string]int32)
	var pods []*ordov1.Pod
	updatedReady := int32(0)
	for o := v.start; o < v.end; o++ {
		p := live(v.byOrdinal[o])
		if p == nil {
			continue
		}
		pods = append(pods, p)
		st.Replicas++
		revisions[p.GetRevision()]++
		if isRunningAndReady(p) {
			st.ReadyReplicas++
			if p.GetRevision() == v.update {
				updatedReady++
			}
			ok, wait := isAvailable(p, v.minReady, v.now)
			if ok {
				st.AvailableReplicas++
			} else if wait > 0 && (requeue == 0 || wait < requeue) {
				requeue = wait
			}
		}
	}
	previous := v.set.GetStatus().GetCurrentRevision()
	switch {
	case int64(updatedReady) == v.end-v.start:
		st.CurrentRevision = v.update
	case previous != "":
		st.CurrentRevision = previous
	default:
		st.CurrentRevision = currentRevision(revisions, previous, v.update)
	}
	for _, p := range pods {
		if p.GetRevision() == st.CurrentRevision {
			st.CurrentReplicas++
		}
		if p.GetRevision() == v.update {
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
