package controller

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Update strategies (spec.update_strategy.type; empty means RollingUpdate).
const (
	StrategyRollingUpdate = "RollingUpdate"
	StrategyOnDelete      = "OnDelete"
)

// AnnotationAutoRollback on a StatefulSet turns automatic rollback on: its
// value is a number of seconds (fractions allowed). When a pod on the update
// revision has existed that long, bound to a node, without being Ready,
// Reconcile returns a Rollback to the current revision.
const AnnotationAutoRollback = "ordo.dev/auto-rollback"

// Condition types of a StatefulSet's status.
const (
	// ConditionProgressing describes the rollout: True while it progresses or
	// once it is complete (see the reason), False when a pod on the update
	// revision missed the auto-rollback deadline.
	ConditionProgressing = "Progressing"
	// ConditionRollbackPerformed is True after an automatic rollback, until a
	// different template is applied.
	ConditionRollbackPerformed = "RollbackPerformed"
)

// Condition reasons.
const (
	ReasonRolloutComplete          = "RolloutComplete"
	ReasonRollingUpdate            = "RollingUpdate"
	ReasonPartitionReached         = "PartitionReached"
	ReasonWaitingForDelete         = "WaitingForDelete" // OnDelete with outdated pods
	ReasonScaling                  = "Scaling"
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
	ReasonAutoRollback             = "AutoRollback"
)

// revisionFor is the revision a new pod of ordinal o gets: the update
// revision, except below the partition of a rolling update in progress, where
// pods stay on the current revision (when its template is known).
func (v *view) revisionFor(o int64) string {
	if !v.onDelete && o < v.partition && v.current != v.update && v.templates[v.current] != nil {
		return v.current
	}
	return v.update
}

// replaceAtOnce: under RollingUpdate, an outdated pod at or above the
// partition that is not Ready is not worth waiting for. Replacing it at once is
// what lets a rollback or a fixed template heal a rollout whose pods crash,
// never start or never get Ready. A pod whose node stopped reporting is left
// alone: nothing could confirm it stopped.
func (v *view) replaceAtOnce(o int64, p *ordov1.Pod) bool {
	return !v.onDelete && o >= v.partition && p.GetRevision() != v.update &&
		!isRunningAndReady(p) && p.GetStatus().GetPhase() != ordov1.PodPhase_POD_PHASE_UNKNOWN
}

// unavailable is how many ordinals at or above the partition have no pod, a
// terminating one, or one that is not Available; pods deleted in this very
// call count too.
func (v *view) unavailable(deletedNow map[int64]bool) int {
	n := 0
	for o := v.partition; o < v.end; o++ {
		p := live(v.byOrdinal[o])
		if p == nil || deletedNow[o] {
			n++
			continue
		}
		if ok, _ := isAvailable(p, v.minReady, v.now); !ok {
			n++
		}
	}
	return n
}

// rollingUpdate deletes outdated pods from the highest ordinal down to the
// partition while fewer than max_unavailable of those ordinals are
// unavailable. With max_unavailable 1 that is one pod at a time, the next one
// only once its replacement is Available.
func (v *view) rollingUpdate(r *run, deletedNow map[int64]bool) []Action {
	budget := v.maxUnavailable - v.unavailable(deletedNow)
	var acts []Action
	for o := v.end - 1; o >= v.partition && budget > 0; o-- {
		p := live(v.byOrdinal[o])
		if p == nil || deletedNow[o] || p.GetRevision() == v.update ||
			p.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_UNKNOWN {
			continue
		}
		acts = append(acts, r.delete(p, fmt.Sprintf("rolling update: replace %s (revision %s) with revision %s",
			p.GetMetadata().GetName(), p.GetRevision(), v.update)))
		budget--
	}
	return acts
}

// failure is what the auto-rollback check found.
type failure struct {
	pod      *ordov1.Pod // a pod on the update revision past the deadline
	message  string
	rollback *Rollback
	wait     time.Duration // until the next pod reaches the deadline
}

// autoRollbackAfter is the set's auto-rollback deadline; ok is false when
// the annotation is absent or not a positive number of seconds.
func autoRollbackAfter(set *ordov1.StatefulSet) (time.Duration, bool) {
	s, ok := set.GetMetadata().GetAnnotations()[AnnotationAutoRollback]
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f <= 0 || f > 1e9 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

// autoRollback checks the pods on the update revision against the set's
// auto-rollback deadline. A pod counts from its creation (the scheduler's
// clock), once it is bound, while it is not Ready.
func (v *view) autoRollback(revs []ControllerRevision) failure {
	var f failure
	deadline, ok := autoRollbackAfter(v.set)
	if !ok || v.set.GetMetadata().GetDeletionTime() != nil {
		return f
	}
	for o := v.end - 1; o >= v.start; o-- {
		p := live(v.byOrdinal[o])
		if p == nil || p.GetRevision() != v.update || p.GetNodeName() == "" || isRunningAndReady(p) ||
			p.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_UNKNOWN {
			continue
		}
		created := p.GetMetadata().GetCreationTime()
		if created == nil {
			created = p.GetScheduledTime()
		}
		if created == nil {
			continue
		}
		age := v.now.Sub(created.AsTime())
		if age < deadline {
			if w := deadline - age; f.wait == 0 || w < f.wait {
				f.wait = w
			}
			continue
		}
		if f.pod == nil {
			f.pod = p
		}
	}
	if f.pod == nil {
		return f
	}
	f.wait = 0
	f.message = fmt.Sprintf("%s on revision %s is not Ready %s after it was created (%s)",
		f.pod.GetMetadata().GetName(), v.update, roundDuration(deadline), describePod(f.pod))
	if v.current == v.update {
		f.message += "; no earlier revision on which all pods were Ready to roll back to"
		return f
	}
	var tmpl *ordov1.PodTemplate
	for _, rev := range revs {
		if rev.Name == v.current && rev.Template != nil {
			tmpl = rev.Template
		}
	}
	if tmpl == nil {
		f.message += fmt.Sprintf("; cannot roll back: revision %s is not in the revision history", v.current)
		return f
	}
	f.message += "; rolling back to revision " + v.current
	f.rollback = &Rollback{
		ToRevision: v.current,
		Template:   proto.Clone(tmpl).(*ordov1.PodTemplate),
		Reason:     f.message,
	}
	return f
}

func roundDuration(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

// describePod says in a few words what a pod that is not Ready is doing.
func describePod(p *ordov1.Pod) string {
	st := p.GetStatus()
	reason := st.GetReason()
	for _, c := range st.GetContainers() {
		if reason == "" && c.GetReason() != "" {
			reason = c.GetReason()
		}
	}
	phase := strings.TrimPrefix(st.GetPhase().String(), "POD_PHASE_")
	if len(phase) > 1 {
		phase = phase[:1] + strings.ToLower(phase[1:])
	}
	s := phase
	if reason != "" {
		s += ", " + reason
	}
	if st.GetPhase() == ordov1.PodPhase_POD_PHASE_RUNNING && !st.GetReady() {
		s += ", not Ready"
	}
	if n := st.GetRestarts(); n > 0 {
		s += fmt.Sprintf(", %d restarts", n)
	}
	return s
}

// waitingFor names what ordinal o waits for, or "" when its pod is Available.
func (v *view) waitingFor(o int64) string {
	pods := v.byOrdinal[o]
	p := live(pods)
	name := v.podName(o)
	switch {
	case p == nil && len(pods) > 0:
		return name + " to terminate"
	case p == nil:
		return name + " to be created"
	case p.GetNodeName() == "":
		if m := p.GetStatus().GetMessage(); m != "" {
			return name + " to be scheduled (" + m + ")"
		}
		return name + " to be scheduled"
	case !isRunningAndReady(p):
		return name + " to become Ready (" + describePod(p) + ")"
	}
	if ok, _ := isAvailable(p, v.minReady, v.now); !ok {
		return name + " to be Ready for minReadySeconds"
	}
	return ""
}

// conditions are the set's status conditions: Progressing always,
// RollbackPerformed after an automatic rollback until another template is
// applied. A condition keeps its last_transition_time while its status stays.
func (v *view) conditions(st *ordov1.StatefulSetStatus, acts []Action, f failure) []*ordov1.Condition {
	prevStatus := v.set.GetStatus()
	prev := prevStatus.GetConditions()
	var out []*ordov1.Condition

	progressing := v.progressing(st, acts)
	if f.pod != nil {
		progressing = &ordov1.Condition{Type: ConditionProgressing, Status: "False", Reason: ReasonProgressDeadlineExceeded, Message: f.message}
	}
	out = append(out, progressing)

	switch {
	case f.rollback != nil:
		out = append(out, &ordov1.Condition{Type: ConditionRollbackPerformed, Status: "True", Reason: ReasonAutoRollback, Message: f.rollback.Reason})
	default:
		// Keep the record of a rollback until a different template is applied.
		if c := findCondition(prev, ConditionRollbackPerformed); c != nil && c.GetStatus() == "True" &&
			(v.update == prevStatus.GetUpdateRevision() || v.update == prevStatus.GetCurrentRevision()) {
			out = append(out, proto.Clone(c).(*ordov1.Condition))
		}
	}
	for _, c := range out {
		if old := findCondition(prev, c.Type); old != nil && old.GetStatus() == c.Status && old.GetLastTransitionTime() != nil {
			c.LastTransitionTime = old.GetLastTransitionTime()
		} else if c.LastTransitionTime == nil {
			c.LastTransitionTime = timestamppb.New(v.now)
		}
	}
	return out
}

func findCondition(cs []*ordov1.Condition, typ string) *ordov1.Condition {
	for _, c := range cs {
		if c.GetType() == typ {
			return c
		}
	}
	return nil
}

// progressing describes the rollout in words a person understands.
func (v *view) progressing(st *ordov1.StatefulSetStatus, acts []Action) *ordov1.Condition {
	c := &ordov1.Condition{Type: ConditionProgressing, Status: "True"}
	n := v.end - v.start
	counts := fmt.Sprintf("%d of %d pods updated to revision %s", st.GetUpdatedReplicas(), n, v.update)

	outdated, outdatedAbove := 0, 0
	for o := v.start; o < v.end; o++ {
		if p := live(v.byOrdinal[o]); p != nil && p.GetRevision() != v.update {
			outdated++
			if o >= v.partition {
				outdatedAbove++
			}
		}
	}
	// What the rollout waits for: the highest ordinal being updated that is
	// not Available, or the lowest one in range during bring-up.
	waitingAbove := ""
	for o := v.end - 1; o >= v.partition && o >= v.start; o-- {
		if w := v.waitingFor(o); w != "" {
			waitingAbove = w
			break
		}
	}
	waiting := waitingAbove
	if waiting == "" {
		for o := v.start; o < v.end; o++ {
			if w := v.waitingFor(o); w != "" {
				waiting = w
				break
			}
		}
	}
	var updating []string
	for _, a := range acts {
		if a.Kind == DeletePod && a.Pod.GetRevision() != v.update && v.inRange(int64(a.Pod.GetOrdinal())) {
			updating = append(updating, a.Pod.GetMetadata().GetName())
		}
	}

	switch {
	case outdated == 0 && waiting == "" && int64(st.GetReplicas()) == n:
		c.Reason = ReasonRolloutComplete
		c.Message = fmt.Sprintf("complete: %d of %d pods updated and Ready on revision %s", n, n, v.update)
		return c
	case outdated == 0 && v.current == v.update:
		c.Reason = ReasonScaling
		c.Message = fmt.Sprintf("%d of %d pods Ready", st.GetReadyReplicas(), n)
	case v.onDelete && outdated > 0:
		c.Reason = ReasonWaitingForDelete
		c.Message = "OnDelete: " + counts + "; delete a pod to update it"
	case !v.onDelete && outdatedAbove == 0 && outdated > 0 && waitingAbove == "":
		c.Reason = ReasonPartitionReached
		c.Message = fmt.Sprintf("paused at partition %d: %s", v.partition-v.start, counts)
		return c
	default:
		c.Reason = ReasonRollingUpdate
		c.Message = "rolling update: " + counts
	}
	switch {
	case len(updating) > 0:
		c.Message += ", updating " + strings.Join(updating, ", ")
	case waiting != "":
		c.Message += ", waiting for " + waiting
	}
	return c
}
