package state

import (
	"fmt"
	"maps"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/controller"
)

// Set and service transitions: apply, scale, template changes (restart,
// set image, undo), deletion, status and automatic rollback.

// AnnotationChangeCause on a set is copied into the revision its template
// becomes, as kubectl records it.
const AnnotationChangeCause = "kubernetes.io/change-cause"

// AnnotationRestartedAt on a pod template is what `rollout restart` sets to
// roll every pod, as kubectl does.
const AnnotationRestartedAt = "kubectl.kubernetes.io/restartedAt"

// ApplyObject stores one validated object and says what happened to it:
// created, configured, or unchanged (same spec, labels and annotations).
func (t *Tx) ApplyObject(o *ordov1.Object) (string, error) {
	switch k := o.GetKind().(type) {
	case *ordov1.Object_StatefulSet:
		return t.ApplyStatefulSet(k.StatefulSet)
	case *ordov1.Object_Service:
		return t.ApplyService(k.Service)
	case *ordov1.Object_PersistentVolume:
		return t.ApplyPersistentVolume(k.PersistentVolume)
	case *ordov1.Object_PersistentVolumeClaim:
		return t.ApplyPersistentVolumeClaim(k.PersistentVolumeClaim)
	case *ordov1.Object_StorageClass:
		return t.ApplyStorageClass(k.StorageClass)
	case *ordov1.Object_ConfigMap:
		return t.ApplyConfigMap(k.ConfigMap)
	case *ordov1.Object_Secret:
		return t.ApplySecret(k.Secret)
	case *ordov1.Object_PodDisruptionBudget:
		return t.ApplyPodDisruptionBudget(k.PodDisruptionBudget)
	}
	return "", errdefs.Invalid("kind", "unsupported object")
}

// DeleteObject is a user's delete of an object of kind: a StatefulSet is
// marked deleted (the controller stops its pods, then removes it); a Pod is
// stopped and created again by its set; a Node only goes when no pod is
// bound to it; storage objects only when nothing uses them.
func (t *Tx) DeleteObject(kind, ns, name string) error {
	switch kind {
	case kinds.StatefulSet:
		return t.MarkStatefulSetDeleted(ns, name)
	case kinds.Service:
		return t.DeleteService(ns, name)
	case kinds.Pod:
		return t.DeletePodByUser(ns, name)
	case kinds.Node:
		return t.DeleteNode(name)
	case kinds.PersistentVolume:
		return t.DeletePersistentVolume(name)
	case kinds.PersistentVolumeClaim:
		return t.DeletePersistentVolumeClaim(ns, name)
	case kinds.StorageClass:
		return t.DeleteStorageClass(name)
	case kinds.ConfigMap, kinds.Secret, kinds.PodDisruptionBudget:
		return t.deleteNamespaced(kind, ns, name)
	}
	return errdefs.Invalid("ref.kind", "%s objects cannot be deleted", kind)
}

// ApplyStatefulSet stores a validated set. Its selector cannot change, and a
// set being deleted cannot be applied again until it is gone.
func (t *Tx) ApplyStatefulSet(in *ordov1.StatefulSet) (string, error) {
	ns, name := in.GetMetadata().GetNamespace(), in.GetMetadata().GetName()
	cur := t.StatefulSet(ns, name)
	if cur == nil {
		set := &ordov1.StatefulSet{Metadata: userMeta(in.GetMetadata()), Spec: in.GetSpec()}
		if _, err := t.PutStatefulSet(set); err != nil {
			return "", err
		}
		return "created", t.Record(kinds.StatefulSet, ns, name, "Created", "StatefulSet %s created with %d replicas", name, in.GetSpec().GetReplicas())
	}
	if cur.GetMetadata().GetDeletionTime() != nil {
		return "", fmt.Errorf("StatefulSet %s is being deleted; apply again once it is gone: %w", name, errdefs.ErrConflict)
	}
	if !proto.Equal(cur.GetSpec().GetSelector(), in.GetSpec().GetSelector()) {
		return "", errdefs.Invalid("spec.selector", "field is immutable")
	}
	if proto.Equal(cur.GetSpec(), in.GetSpec()) && sameUserMeta(cur.GetMetadata(), in.GetMetadata()) {
		return "unchanged", nil
	}
	set := proto.Clone(cur).(*ordov1.StatefulSet)
	set.Metadata.Labels = in.GetMetadata().GetLabels()
	set.Metadata.Annotations = in.GetMetadata().GetAnnotations()
	set.Spec = in.GetSpec()
	if _, err := t.PutStatefulSet(set); err != nil {
		return "", err
	}
	return "configured", t.Record(kinds.StatefulSet, ns, name, "Configured", "StatefulSet %s configured", name)
}

// ApplyService stores a validated service.
func (t *Tx) ApplyService(in *ordov1.Service) (string, error) {
	ns, name := in.GetMetadata().GetNamespace(), in.GetMetadata().GetName()
	cur := t.Service(ns, name)
	if cur != nil && proto.Equal(cur.GetSpec(), in.GetSpec()) && sameUserMeta(cur.GetMetadata(), in.GetMetadata()) {
		return "unchanged", nil
	}
	svc := &ordov1.Service{Metadata: userMeta(in.GetMetadata()), Spec: in.GetSpec()}
	if _, err := t.PutService(svc); err != nil {
		return "", err
	}
	if cur == nil {
		return "created", t.Record(kinds.Service, ns, name, "Created", "Service %s created", name)
	}
	return "configured", nil
}

// DeleteService removes a service.
func (t *Tx) DeleteService(ns, name string) error {
	if t.Service(ns, name) == nil {
		return errdefs.NotFound("service", Key(ns, name))
	}
	if err := t.Delete(kinds.Service, ns, name); err != nil {
		return err
	}
	return t.Record(kinds.Service, ns, name, "Deleted", "Service %s deleted", name)
}

// userMeta keeps the parts of metadata a user sets.
func userMeta(m *ordov1.ObjectMeta) *ordov1.ObjectMeta {
	return &ordov1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(), Labels: m.GetLabels(), Annotations: m.GetAnnotations()}
}

func sameUserMeta(a, b *ordov1.ObjectMeta) bool {
	return maps.Equal(a.GetLabels(), b.GetLabels()) && maps.Equal(a.GetAnnotations(), b.GetAnnotations())
}

// liveSet is the set ns/name unless it is missing (ErrNotFound) or being
// deleted (ErrConflict).
func (t *Tx) liveSet(ns, name string) (*ordov1.StatefulSet, error) {
	cur := t.StatefulSet(ns, name)
	if cur == nil {
		return nil, errdefs.NotFound("statefulset", Key(ns, name))
	}
	if cur.GetMetadata().GetDeletionTime() != nil {
		return nil, fmt.Errorf("StatefulSet %s is being deleted: %w", name, errdefs.ErrConflict)
	}
	return cur, nil
}

// MarkStatefulSetDeleted gives the set a deletion time: the controller then
// stops its pods and removes it (RemoveStatefulSet).
func (t *Tx) MarkStatefulSetDeleted(ns, name string) error {
	cur := t.StatefulSet(ns, name)
	if cur == nil {
		return errdefs.NotFound("statefulset", Key(ns, name))
	}
	if cur.GetMetadata().GetDeletionTime() != nil {
		return nil
	}
	s := proto.Clone(cur).(*ordov1.StatefulSet)
	s.Metadata.DeletionTime = timestamppb.New(t.now)
	if _, err := t.PutStatefulSet(s); err != nil {
		return err
	}
	return t.Record(kinds.StatefulSet, ns, name, "Deleting", "StatefulSet %s is being deleted; its pods are stopped first", name)
}

// RemoveStatefulSet removes a set being deleted once none of its pods
// remains, with its revision history and, as its retention policy says,
// its claims.
func (t *Tx) RemoveStatefulSet(ns, name string) error {
	cur := t.StatefulSet(ns, name)
	if cur == nil || cur.GetMetadata().GetDeletionTime() == nil || len(t.PodsOfSetUnsorted(ns, name)) > 0 {
		return nil
	}
	if err := t.Delete(kinds.StatefulSet, ns, name); err != nil {
		return err
	}
	if err := t.DeleteRevisionsOf(ns, name); err != nil {
		return err
	}
	if err := t.ApplyRetention(cur, nil, true); err != nil {
		return err
	}
	return t.Record(kinds.StatefulSet, ns, name, "Deleted", "StatefulSet %s deleted: no pods remain", name)
}

// Scale sets the replicas of a set and returns it.
func (t *Tx) Scale(ns, name string, replicas int32) (*ordov1.StatefulSet, error) {
	cur, err := t.liveSet(ns, name)
	if err != nil {
		return nil, err
	}
	if cur.GetSpec().GetReplicas() == replicas {
		return cur, nil
	}
	s := proto.Clone(cur).(*ordov1.StatefulSet)
	old := s.Spec.Replicas
	s.Spec.Replicas = replicas
	out, err := t.PutStatefulSet(s)
	if err != nil {
		return nil, err
	}
	return out, t.Record(kinds.StatefulSet, ns, name, "Scaled", "Scaled StatefulSet %s from %d to %d replicas", name, old, replicas)
}

// ChangeTemplate applies fn to a copy of the set's template and stores the
// set when the template changed. It returns the set as stored.
func (t *Tx) ChangeTemplate(ns, name string, fn func(tpl *ordov1.PodTemplate) error) (*ordov1.StatefulSet, error) {
	cur, err := t.liveSet(ns, name)
	if err != nil {
		return nil, err
	}
	s := proto.Clone(cur).(*ordov1.StatefulSet)
	if s.Spec == nil {
		s.Spec = &ordov1.StatefulSetSpec{}
	}
	if s.Spec.Template == nil {
		s.Spec.Template = &ordov1.PodTemplate{}
	}
	if err := fn(s.Spec.Template); err != nil {
		return nil, err
	}
	if proto.Equal(s.GetSpec(), cur.GetSpec()) {
		return cur, nil
	}
	return t.PutStatefulSet(s)
}

// RolloutUndo puts the template of an earlier revision back: toRevision, or
// (0) the newest revision other than the set's present template.
func (t *Tx) RolloutUndo(ns, name string, toRevision int64) (*ordov1.StatefulSet, *ordov1.ControllerRevision, error) {
	cur, err := t.liveSet(ns, name)
	if err != nil {
		return nil, nil, err
	}
	present := controller.Revision(cur)
	var to *ordov1.ControllerRevision
	for _, r := range t.Revisions(ns, name) {
		if toRevision > 0 {
			if r.GetRevision() == toRevision {
				to = r
			}
			continue
		}
		if r.GetMetadata().GetName() != present && (to == nil || r.GetRevision() > to.GetRevision()) {
			to = r
		}
	}
	if to == nil {
		if toRevision > 0 {
			return nil, nil, fmt.Errorf("to_revision: revision %d of statefulset %s: %w", toRevision, name, errdefs.ErrNotFound)
		}
		return nil, nil, fmt.Errorf("statefulset %s has no previous revision to roll back to: %w", name, errdefs.ErrConflict)
	}
	if to.GetTemplate() == nil {
		return nil, nil, fmt.Errorf("revision %d of statefulset %s has no template: %w", to.GetRevision(), name, errdefs.ErrConflict)
	}
	if to.GetMetadata().GetName() == present {
		return cur, to, nil
	}
	s := proto.Clone(cur).(*ordov1.StatefulSet)
	s.Spec.Template = proto.Clone(to.GetTemplate()).(*ordov1.PodTemplate)
	out, err := t.PutStatefulSet(s)
	if err != nil {
		return nil, nil, err
	}
	return out, to, t.Record(kinds.StatefulSet, ns, name, "RolledBack", "Rolled back StatefulSet %s to revision %d (%s)",
		name, to.GetRevision(), to.GetMetadata().GetName())
}

// SetStatus stores the status the controller computed for a set.
func (t *Tx) SetStatus(ns, name string, st *ordov1.StatefulSetStatus) error {
	cur := t.StatefulSet(ns, name)
	if cur == nil || proto.Equal(cur.GetStatus(), st) {
		return nil
	}
	c := proto.Clone(cur).(*ordov1.StatefulSet)
	c.Status = st
	_, err := t.PutStatefulSet(c)
	return err
}

// AutoRollback restores the template an automatic rollback asks for, when the
// set's template is still the one the controller saw. It reports whether
// it changed the set.
func (t *Tx) AutoRollback(seen *ordov1.StatefulSet, res controller.Result) (bool, error) {
	ns, name := seen.GetMetadata().GetNamespace(), seen.GetMetadata().GetName()
	cur := t.StatefulSet(ns, name)
	if cur == nil || cur.GetMetadata().GetDeletionTime() != nil ||
		!proto.Equal(cur.GetSpec().GetTemplate(), seen.GetSpec().GetTemplate()) {
		return false, nil
	}
	if err := t.ApplyHistory(cur, res.NewRevision, res.PruneRevisions); err != nil {
		return false, err
	}
	c := proto.Clone(cur).(*ordov1.StatefulSet)
	c.Spec.Template = proto.Clone(res.Rollback.Template).(*ordov1.PodTemplate)
	if res.Status != nil {
		c.Status = res.Status
	}
	if _, err := t.PutStatefulSet(c); err != nil {
		return false, err
	}
	return true, t.Record(kinds.StatefulSet, ns, name, "RolledBack", "%s", res.Rollback.Reason)
}
