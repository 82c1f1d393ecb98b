package scheduler

import (
	"errors"

	"github.com/ordoproject/ordo/manifest"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/controller"
)

// volumesFor prepares the volumes of pod p, which is being created or bound
// to p.NodeName (or created unbound) inside tx. When its claims cannot be
// bound on that node, p is left unbound and Pending with the reason.
func (l *loop) volumesFor(tx *Tx, p *ordov1.Pod) error {
	ns := p.GetMetadata().GetNamespace()
	set := tx.StatefulSet(ns, p.GetSetName())
	if set == nil || (len(set.GetSpec().GetVolumeClaimTemplates()) == 0 && len(p.GetSpec().GetVolumes()) == 0) {
		return nil
	}
	err := prepareVolumes(tx, l.log, set, p, p.GetNodeName())
	if err == nil {
		return nil
	}
	var pe *placementError
	if !errors.As(err, &pe) {
		return err
	}
	l.log.Info("pod cannot use its volumes on the chosen node", "pod", p.GetMetadata().GetName(), "namespace", ns, "node", p.GetNodeName(), "reason", pe.msg)
	p.NodeName = ""
	p.ScheduledTime = nil
	p.ResolvedVolumes = nil
	if p.Status == nil {
		p.Status = &ordov1.PodStatus{Phase: ordov1.PodPhase_POD_PHASE_PENDING}
	}
	p.Status.Reason = controller.ReasonUnschedulable
	p.Status.Message = pe.msg
	return nil
}

// retention deletes the claims set's retention policy no longer keeps.
func (l *loop) retention(set *ordov1.StatefulSet, pods []*ordov1.Pod) error {
	pol := set.GetSpec().GetPersistentVolumeClaimRetentionPolicy()
	if pol.GetWhenDeleted() != manifest.RetentionDelete && pol.GetWhenScaled() != manifest.RetentionDelete {
		return nil
	}
	// Only write when there is something to delete.
	if !retentionPending(l.store, set, pods) {
		return nil
	}
	return l.store.Update(func(tx *Tx) error {
		cur := tx.StatefulSet(set.GetMetadata().GetNamespace(), set.GetMetadata().GetName())
		if cur == nil {
			return nil
		}
		return applyRetention(tx, l.log, cur, l.store.PodsOfSet(set.GetMetadata().GetNamespace(), set.GetMetadata().GetName()), false)
	})
}

func retentionPending(s *Store, set *ordov1.StatefulSet, pods []*ordov1.Pod) bool {
	has := map[int32]bool{}
	for _, p := range pods {
		has[p.GetOrdinal()] = true
	}
	deleting := set.GetMetadata().GetDeletionTime() != nil
	start := set.GetSpec().GetOrdinalsStart()
	end := start + set.GetSpec().GetReplicas()
	for _, c := range s.PersistentVolumeClaims() {
		o, ok := claimOrdinal(set, c.GetMetadata().GetName())
		if !ok || c.GetMetadata().GetNamespace() != set.GetMetadata().GetNamespace() || has[o] {
			continue
		}
		if deleting || o < start || o >= end {
			return true
		}
	}
	return false
}

// placementError says why a pod's volumes cannot be used on a node.
type placementError struct{ msg string }

func (e *placementError) Error() string { return e.msg }
