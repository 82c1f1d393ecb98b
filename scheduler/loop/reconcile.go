package loop

import (
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/manifest"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/binding"
	"github.com/ordoproject/ordo/scheduler/controller"
	"github.com/ordoproject/ordo/scheduler/state"
)

// reconcile runs the controller for one set and commits its decision.
func (l *Loop) reconcile(key string) {
	if ns, ok := strings.CutPrefix(key, budgetsKey); ok {
		l.reconcileBudgets(ns)
		return
	}
	ns, name, _ := strings.Cut(key, "/")
	set := l.store.StatefulSet(ns, name)
	if set == nil {
		return
	}
	pods := l.store.PodsOfSetUnsorted(ns, name)
	deleting := set.GetMetadata().GetDeletionTime() != nil
	if deleting && len(pods) == 0 {
		if err := l.store.Update(func(tx *state.Tx) error { return tx.RemoveStatefulSet(ns, name) }); err != nil {
			l.log.Error("remove deleted statefulset", "set", key, "err", err)
		}
		return
	}
	in := controller.Input{
		Set:       set,
		Pods:      pods,
		Nodes:     l.store.Nodes(),
		AllPods:   l.store.PodsUnsorted(),
		Now:       time.Now(),
		Revisions: state.ControllerRevisions(l.store.Revisions(ns, name)),
	}
	if deleting {
		c := proto.Clone(set).(*ordov1.StatefulSet)
		c.Spec.Replicas = 0
		in.Set = c
	}
	in.NodeFilters, in.Volumes = volumeInput(l.store.View, in.Set, in.Nodes)
	res := controller.Reconcile(in)
	if res.RequeueAfter > 0 {
		l.requeueAfter(key, res.RequeueAfter)
	}
	if res.Rollback != nil && !deleting {
		l.rollback(key, set, res)
		return
	}
	retention := retentionWanted(set) && l.store.RetentionPending(set, pods)
	history := res.NewRevision != nil || len(res.PruneRevisions) > 0
	if len(res.Actions) == 0 && !history && !retention && (res.Status == nil || proto.Equal(res.Status, set.GetStatus())) {
		return
	}
	// Actions and history are synced before any agent hears of them; a
	// status-only write is not (it is computed again after a restart).
	update := l.store.Update
	if len(res.Actions) == 0 && !history && !retention {
		update = l.store.UpdateUnsynced
	}
	err := update(func(tx *state.Tx) error {
		if retention {
			if cur := tx.StatefulSet(ns, name); cur != nil {
				if err := tx.ApplyRetention(cur, tx.PodsOfSet(ns, name), false); err != nil {
					return err
				}
			}
		}
		if history {
			if err := tx.ApplyHistory(set, res.NewRevision, res.PruneRevisions); err != nil {
				return err
			}
		}
		for _, a := range res.Actions {
			if err := apply(tx, a); err != nil {
				return err
			}
		}
		if res.Status != nil {
			return tx.SetStatus(ns, name, res.Status)
		}
		return nil
	})
	if err != nil {
		l.log.Error("apply reconcile result", "set", key, "err", err)
		// Try again later rather than spin.
		l.requeueAfter(key, time.Second)
	}
}

// apply commits one controller action inside tx.
func apply(tx *state.Tx, a controller.Action) error {
	ns, name := a.Pod.GetMetadata().GetNamespace(), a.Pod.GetMetadata().GetName()
	switch a.Kind {
	case controller.CreatePod:
		return tx.CreatePod(a.Pod, a.Volumes)
	case controller.BindPod:
		return tx.BindPod(ns, name, a.Node, a.Volumes)
	case controller.DeletePod:
		return tx.StopPodEpoch(ns, name, a.Pod.GetEpoch(), a.Reason)
	case controller.MarkUnschedulable:
		return tx.MarkUnschedulable(ns, name, a.Reason)
	}
	return nil
}

// rollback restores the template an automatic rollback asks for.
func (l *Loop) rollback(key string, seen *ordov1.StatefulSet, res controller.Result) {
	var changed bool
	err := l.store.Update(func(tx *state.Tx) error {
		var err error
		changed, err = tx.AutoRollback(seen, res)
		return err
	})
	if err != nil {
		l.log.Error("automatic rollback", "set", key, "err", err)
		l.requeueAfter(key, time.Second)
		return
	}
	if changed {
		l.log.Warn("automatic rollback", "set", key, "to", res.Rollback.ToRevision, "reason", res.Rollback.Reason)
	}
	// The template change wakes the loop through the commit hook; this covers
	// a rollback that found nothing to change.
	l.Enqueue(key)
}

func retentionWanted(set *ordov1.StatefulSet) bool {
	pol := set.GetSpec().GetPersistentVolumeClaimRetentionPolicy()
	return pol.GetWhenDeleted() == manifest.RetentionDelete || pol.GetWhenScaled() == manifest.RetentionDelete
}

// volumeInput is what placement needs to know of the claims of every
// ordinal of set in range: where each pod may go, and the claims whose
// volumes it chooses with the node. Sets without claims get none.
func volumeInput(v state.View, set *ordov1.StatefulSet, nodes []*ordov1.NodeInfo) (map[string]controller.NodeFilter, *controller.Volumes) {
	if !binding.HasClaims(set) {
		return nil, nil
	}
	spec := set.GetSpec()
	vols := &controller.Volumes{Claims: map[string][]binding.Claim{}, PersistentVolumes: v.PersistentVolumes(), StorageClasses: v.StorageClasses()}
	filters := map[string]controller.NodeFilter{}
	for o := spec.GetOrdinalsStart(); o < spec.GetOrdinalsStart()+spec.GetReplicas(); o++ {
		pod := controller.NewPod(set, o, "")
		podName := pod.GetMetadata().GetName()
		claims, missing := podClaims(v, set, pod)
		if missing != "" {
			filters[podName] = controller.NodeFilter{Nodes: map[string]bool{}, Reason: missing}
			continue
		}
		vols.Claims[podName] = claims
		if allowed, why := binding.Nodes(claims, vols.PersistentVolumes, vols.StorageClasses, nodes); allowed != nil {
			filters[podName] = controller.NodeFilter{Nodes: allowed, Reason: why}
		}
	}
	return filters, vols
}

// podClaims are the claims a pod of set uses, as they exist or (templates
// whose claim is not created yet) as they will be. A pod volume naming a
// claim that does not exist makes missing say so.
func podClaims(v state.View, set *ordov1.StatefulSet, pod *ordov1.Pod) (claims []binding.Claim, missing string) {
	ns := pod.GetMetadata().GetNamespace()
	for _, pv := range binding.PodVolumes(set, pod) {
		if pv.Claim == "" {
			continue
		}
		c := v.PersistentVolumeClaim(ns, pv.Claim)
		if c == nil {
			if pv.Template == nil {
				return nil, "persistentvolumeclaim \"" + pv.Claim + "\" not found"
			}
			c = binding.ClaimFromTemplate(set, pv.Template, pod.GetOrdinal())
		}
		cl := binding.Claim{Claim: c}
		if binding.IsBound(c) {
			cl.Volume = v.PersistentVolume(c.GetSpec().GetVolumeName())
		}
		claims = append(claims, cl)
	}
	return claims, ""
}

// reconcileBudgets stores the status of the disruption budgets of ns.
func (l *Loop) reconcileBudgets(ns string) {
	var pdbs []*ordov1.PodDisruptionBudget
	for _, p := range l.store.PodDisruptionBudgets() {
		if p.GetMetadata().GetNamespace() == ns {
			pdbs = append(pdbs, p)
		}
	}
	if len(pdbs) == 0 {
		return
	}
	pods, sets := l.store.PodsUnsorted(), l.store.StatefulSets()
	err := l.store.UpdateUnsynced(func(tx *state.Tx) error {
		for _, p := range pdbs {
			st := controller.DisruptionStatus(p, pods, sets)
			if err := tx.SetPodDisruptionBudgetStatus(ns, p.GetMetadata().GetName(), st); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		l.log.Error("store disruption budget status", "namespace", ns, "err", err)
	}
}
