package state

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/internal/identity"
	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/controller"
)

// Pod transitions: creation with a new epoch, binding to a node, stop
// requests, the agents' status reports, and removal once gone.

// CreatePod stores p as a new pod with the next epoch. When p has a node,
// the claims of its set's templates are created and its unbound claims are
// bound to the volumes placement chose (claim → volume); volumes the
// placement did not choose, or that are no longer free, fail the
// transaction (ErrConflict). A pod that already exists is left alone: one
// identity never gets a second pod.
func (t *Tx) CreatePod(p *ordov1.Pod, volumes map[string]string) error {
	ns, name := p.GetMetadata().GetNamespace(), p.GetMetadata().GetName()
	if t.Pod(ns, name) != nil {
		t.log.Warn("create skipped: pod exists", "pod", name, "namespace", ns)
		return nil
	}
	p = proto.Clone(p).(*ordov1.Pod)
	epoch, err := t.NextEpoch()
	if err != nil {
		return err
	}
	if err := t.prepareVolumes(p, volumes); err != nil {
		return err
	}
	p.Epoch = epoch
	p.Metadata.CreationTime = nil
	p.Metadata.DeletionTime = nil
	if p.Status == nil {
		p.Status = &ordov1.PodStatus{Phase: ordov1.PodPhase_POD_PHASE_PENDING}
	}
	if p.NodeName != "" {
		p.ScheduledTime = timestamppb.New(t.now)
	} else {
		p.ScheduledTime = nil
	}
	if _, err := t.PutPod(p); err != nil {
		return err
	}
	t.log.Info("pod created", "pod", name, "namespace", ns, "node", p.NodeName, "epoch", epoch)
	if err := t.Record(kinds.Pod, ns, name, "Created", "Created pod %s (epoch %d)", name, epoch); err != nil {
		return err
	}
	if err := t.Record(kinds.StatefulSet, ns, p.SetName, "SuccessfulCreate", "create Pod %s in StatefulSet %s successful", name, p.SetName); err != nil {
		return err
	}
	if p.NodeName != "" {
		return t.Record(kinds.Pod, ns, name, "Scheduled", "Successfully assigned %s/%s to %s", ns, name, p.NodeName)
	}
	return t.Record(kinds.Pod, ns, name, "FailedScheduling", "%s", p.GetStatus().GetMessage())
}

// BindPod assigns the unbound pod ns/name to node, binding its claims to the
// volumes placement chose (as CreatePod does). A pod that is gone, bound or
// being deleted is left alone.
func (t *Tx) BindPod(ns, name, node string, volumes map[string]string) error {
	cur := t.Pod(ns, name)
	if cur == nil || cur.GetNodeName() != "" || cur.GetMetadata().GetDeletionTime() != nil {
		return nil
	}
	p := proto.Clone(cur).(*ordov1.Pod)
	p.NodeName = node
	if err := t.prepareVolumes(p, volumes); err != nil {
		return err
	}
	p.ScheduledTime = timestamppb.New(t.now)
	if p.Status == nil {
		p.Status = &ordov1.PodStatus{Phase: ordov1.PodPhase_POD_PHASE_PENDING}
	}
	if p.Status.Reason == controller.ReasonUnschedulable {
		p.Status.Reason, p.Status.Message = "", ""
	}
	if _, err := t.PutPod(p); err != nil {
		return err
	}
	t.log.Info("pod bound", "pod", name, "namespace", ns, "node", node)
	return t.Record(kinds.Pod, ns, name, "Scheduled", "Successfully assigned %s/%s to %s", ns, name, node)
}

// prepareVolumes creates and binds the claims of p when it has a set with
// volumes, and resolves them for its node.
func (t *Tx) prepareVolumes(p *ordov1.Pod, volumes map[string]string) error {
	set := t.StatefulSet(p.GetMetadata().GetNamespace(), p.GetSetName())
	if set == nil || (len(set.GetSpec().GetVolumeClaimTemplates()) == 0 && len(p.GetSpec().GetVolumes()) == 0) {
		return nil
	}
	return t.PrepareVolumes(set, p, volumes)
}

// MarkUnschedulable records on the unbound pod ns/name why no node takes it.
func (t *Tx) MarkUnschedulable(ns, name, reason string) error {
	cur := t.Pod(ns, name)
	if cur == nil || cur.GetNodeName() != "" {
		return nil
	}
	if cur.GetStatus().GetReason() == controller.ReasonUnschedulable && cur.GetStatus().GetMessage() == reason {
		return nil
	}
	p := proto.Clone(cur).(*ordov1.Pod)
	if p.Status == nil {
		p.Status = &ordov1.PodStatus{Phase: ordov1.PodPhase_POD_PHASE_PENDING}
	}
	p.Status.Reason = controller.ReasonUnschedulable
	p.Status.Message = reason
	if _, err := t.PutPod(p); err != nil {
		return err
	}
	t.log.Info("pod unschedulable", "pod", name, "namespace", ns, "reason", reason)
	return t.Record(kinds.Pod, ns, name, "FailedScheduling", "%s", reason)
}

// StopPod asks for pod cur to stop: it gets a deletion time, which takes it
// out of its node's desired list. A pod that never reached a node, or whose
// agent already confirmed it gone, is removed at once.
func (t *Tx) StopPod(cur *ordov1.Pod, why string) error {
	ns, name := cur.GetMetadata().GetNamespace(), cur.GetMetadata().GetName()
	if cur.GetNodeName() == "" || cur.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_GONE {
		if err := t.Delete(kinds.Pod, ns, name); err != nil {
			return err
		}
		t.log.Info("pod deleted", "pod", name, "namespace", ns, "node", cur.GetNodeName(), "reason", why)
		return t.Record(kinds.Pod, ns, name, "Deleted", "Deleted pod %s (epoch %d)", name, cur.GetEpoch())
	}
	if cur.GetMetadata().GetDeletionTime() != nil {
		return nil
	}
	p := proto.Clone(cur).(*ordov1.Pod)
	p.Metadata.DeletionTime = timestamppb.New(t.now)
	if _, err := t.PutPod(p); err != nil {
		return err
	}
	t.log.Info("stopping pod", "pod", name, "namespace", ns, "node", p.NodeName, "reason", why)
	if err := t.Record(kinds.Pod, ns, name, "Killing", "Stopping pod %s on %s: %s", name, p.NodeName, why); err != nil {
		return err
	}
	if p.SetName != "" {
		return t.Record(kinds.StatefulSet, ns, p.SetName, "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful", name, p.SetName)
	}
	return nil
}

// StopPodEpoch is StopPod for the pod ns/name if it still has epoch.
func (t *Tx) StopPodEpoch(ns, name string, epoch uint64, why string) error {
	cur := t.Pod(ns, name)
	if cur == nil || cur.GetEpoch() != epoch {
		return nil
	}
	return t.StopPod(cur, why)
}

// DeletePodByUser is a user's delete of a pod: it is stopped, and its set
// creates it again.
func (t *Tx) DeletePodByUser(ns, name string) error {
	cur := t.Pod(ns, name)
	if cur == nil {
		return errdefs.NotFound("pod", Key(ns, name))
	}
	return t.StopPod(cur, "deleted by user")
}

// RemoveGonePod removes the record of a pod being deleted that its node no
// longer runs.
func (t *Tx) RemoveGonePod(cur *ordov1.Pod, why string) error {
	ns, name := cur.GetMetadata().GetNamespace(), cur.GetMetadata().GetName()
	if err := t.Delete(kinds.Pod, ns, name); err != nil {
		return err
	}
	t.log.Info("pod gone", "pod", name, "namespace", ns, "node", cur.GetNodeName(), "epoch", cur.GetEpoch())
	return t.Record(kinds.Pod, ns, name, "Deleted", "Pod %s (epoch %d) %s", name, cur.GetEpoch(), why)
}

// Bounds of the warnings an agent sends with a report; more are dropped.
const (
	maxReportWarnings = 10
	maxWarningBytes   = 1024
)

// MergeReport merges an agent's status report into the stored pod. Reports
// from another node or for another epoch are ignored (fencing), except that
// nothing but the pod's own node and epoch may remove a pod being deleted.
func (t *Tx) MergeReport(node string, r *ordov1.PodStatusReport) error {
	ns, name := identity.NamespaceOr(r.GetNamespace()), r.GetName()
	cur := t.Pod(ns, name)
	if cur == nil || r.GetStatus() == nil {
		t.log.Debug("status for unknown pod ignored", "pod", name, "namespace", ns, "epoch", r.GetEpoch())
		return nil
	}
	if cur.GetNodeName() != node {
		t.log.Warn("status from a node the pod is not bound to ignored", "pod", name, "bound_to", cur.GetNodeName())
		return nil
	}
	if r.GetEpoch() != cur.GetEpoch() {
		t.log.Info("stale status ignored", "pod", name, "epoch", r.GetEpoch(), "current_epoch", cur.GetEpoch())
		return nil
	}
	for i, w := range r.GetWarnings() {
		if i == maxReportWarnings {
			break
		}
		if len(w) > maxWarningBytes {
			w = w[:maxWarningBytes]
		}
		if err := t.Record(kinds.Pod, ns, name, "Warning", "%s", w); err != nil {
			return err
		}
	}
	in := r.GetStatus()
	if in.GetPhase() == ordov1.PodPhase_POD_PHASE_GONE && cur.GetMetadata().GetDeletionTime() != nil {
		return t.RemoveGonePod(cur, "stopped on "+node)
	}
	prev := cur.GetStatus()
	st := proto.Clone(in).(*ordov1.PodStatus)
	if st.Phase == ordov1.PodPhase_POD_PHASE_GONE {
		st.Ready = false
	}
	switch {
	case !st.Ready:
		st.ReadyObservedTime = nil
	case prev.GetReady() && prev.GetReadyObservedTime() != nil:
		st.ReadyObservedTime = prev.GetReadyObservedTime()
	default:
		st.ReadyObservedTime = timestamppb.New(t.now)
	}
	if proto.Equal(st, prev) {
		return nil
	}
	c := proto.Clone(cur).(*ordov1.Pod)
	c.Status = st
	if _, err := t.PutPod(c); err != nil {
		return err
	}
	return t.recordTransitions(c, prev, st)
}

// recordTransitions records events for what changed between two statuses of pod.
func (t *Tx) recordTransitions(pod *ordov1.Pod, prev, st *ordov1.PodStatus) error {
	ns, name := pod.GetMetadata().GetNamespace(), pod.GetMetadata().GetName()
	rec := func(reason, format string, args ...any) error {
		return t.Record(kinds.Pod, ns, name, reason, format, args...)
	}
	if prev.GetPhase() != st.GetPhase() || prev.GetReason() != st.GetReason() {
		t.log.Info("pod phase", "pod", name, "namespace", ns, "node", pod.GetNodeName(), "phase", st.GetPhase().String(), "reason", st.GetReason(), "message", st.GetMessage())
		var err error
		switch st.GetPhase() {
		case ordov1.PodPhase_POD_PHASE_RUNNING:
			if prev.GetPhase() != st.GetPhase() {
				err = rec("Started", "Started pod %s on %s", name, pod.GetNodeName())
			}
		case ordov1.PodPhase_POD_PHASE_PENDING:
			if st.GetReason() != "" {
				err = rec(st.GetReason(), "%s", firstNonEmpty(st.GetMessage(), st.GetReason()))
			}
		case ordov1.PodPhase_POD_PHASE_FAILED:
			err = rec("Failed", "Pod failed (exit code %d): %s", st.GetExitCode(), firstNonEmpty(st.GetMessage(), st.GetReason()))
		case ordov1.PodPhase_POD_PHASE_SUCCEEDED:
			err = rec("Completed", "Pod completed")
		case ordov1.PodPhase_POD_PHASE_TERMINATING:
			if prev.GetPhase() != st.GetPhase() {
				err = rec("Terminating", "Stopping containers of %s", name)
			}
		case ordov1.PodPhase_POD_PHASE_GONE:
			err = rec("Gone", "No container of %s remains on %s", name, pod.GetNodeName())
		}
		if err != nil {
			return err
		}
	}
	if st.GetRestarts() > prev.GetRestarts() {
		if err := rec("Restarted", "Container restarted (restart %d, last exit code %d) %s", st.GetRestarts(), st.GetExitCode(), st.GetReason()); err != nil {
			return err
		}
	}
	if st.GetReady() != prev.GetReady() {
		t.log.Info("pod readiness", "pod", name, "namespace", ns, "node", pod.GetNodeName(), "ready", st.GetReady())
		if st.GetReady() {
			return rec("Ready", "Pod %s is Ready", name)
		}
		return rec("NotReady", "Pod %s is not Ready: %s", name, firstNonEmpty(st.GetMessage(), st.GetReason(), st.GetPhase().String()))
	}
	return nil
}

// MarkPodsUnknown makes the pods on node Unknown: its agent stopped
// reporting. They are not moved.
func (t *Tx) MarkPodsUnknown(node string) error {
	for _, p := range t.PodsOnNode(node) {
		ph := p.GetStatus().GetPhase()
		if ph == ordov1.PodPhase_POD_PHASE_UNKNOWN || ph == ordov1.PodPhase_POD_PHASE_GONE {
			continue
		}
		c := proto.Clone(p).(*ordov1.Pod)
		if c.Status == nil {
			c.Status = &ordov1.PodStatus{}
		}
		c.Status.Phase = ordov1.PodPhase_POD_PHASE_UNKNOWN
		c.Status.Ready = false
		c.Status.ReadyObservedTime = nil
		c.Status.Reason = "NodeLost"
		c.Status.Message = fmt.Sprintf("node %s stopped reporting", node)
		if _, err := t.PutPod(c); err != nil {
			return err
		}
		ns, name := c.GetMetadata().GetNamespace(), c.GetMetadata().GetName()
		if err := t.Record(kinds.Pod, ns, name, "NodeLost", "Node %s stopped reporting; pod status Unknown", node); err != nil {
			return err
		}
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
