package state

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/controller"
)

// Revision history: ControllerRevisions keyed "<ns>/<name>", indexed by set.

// PutRevision stores r under its namespace and name.
func (t *Tx) PutRevision(r *ordov1.ControllerRevision) error {
	return t.put(KindControllerRevision, Key(r.GetMetadata().GetNamespace(), r.GetMetadata().GetName()), proto.Clone(r))
}

// DeleteRevision removes one revision; a missing one is not an error.
func (t *Tx) DeleteRevision(ns, name string) error {
	return t.del(KindControllerRevision, Key(ns, name))
}

// DeleteRevisionsOf removes the whole history of a set.
func (t *Tx) DeleteRevisionsOf(ns, set string) error {
	for _, r := range t.Revisions(ns, set) {
		if err := t.DeleteRevision(ns, r.GetMetadata().GetName()); err != nil {
			return err
		}
	}
	return nil
}

// ApplyHistory carries out a controller Result's NewRevision and
// PruneRevisions for set.
func (t *Tx) ApplyHistory(set *ordov1.StatefulSet, nr *controller.ControllerRevision, prune []string) error {
	ns, name := set.GetMetadata().GetNamespace(), set.GetMetadata().GetName()
	if nr != nil {
		r := &ordov1.ControllerRevision{
			Metadata: &ordov1.ObjectMeta{Name: nr.Name, Namespace: ns},
			SetName:  name,
			Revision: nr.Number,
			Template: nr.Template,
		}
		// A template applied again keeps the revision's first record and its
		// cause unless the set names a new one.
		if o := t.revision(ns, nr.Name); o != nil {
			r.Metadata.Uid = o.GetMetadata().GetUid()
			r.Metadata.CreationTime = o.GetMetadata().GetCreationTime()
			r.ChangeCause = o.GetChangeCause()
			if r.Template == nil {
				r.Template = o.GetTemplate()
			}
		}
		if r.Metadata.Uid == "" {
			r.Metadata.Uid = NewUID()
		}
		if r.Metadata.CreationTime == nil {
			r.Metadata.CreationTime = timestamppb.New(t.now)
		}
		if cause, ok := set.GetMetadata().GetAnnotations()[AnnotationChangeCause]; ok && cause != "" {
			r.ChangeCause = cause
		}
		if err := t.PutRevision(r); err != nil {
			return err
		}
	}
	for _, p := range prune {
		if err := t.DeleteRevision(ns, p); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tx) revision(ns, name string) *ordov1.ControllerRevision {
	r, _ := t.get(KindControllerRevision, Key(ns, name)).(*ordov1.ControllerRevision)
	return r
}

// ControllerRevisions is a set's history as the controller takes it.
func ControllerRevisions(revs []*ordov1.ControllerRevision) []controller.ControllerRevision {
	out := make([]controller.ControllerRevision, 0, len(revs))
	for _, r := range revs {
		out = append(out, controller.ControllerRevision{
			Name:     r.GetMetadata().GetName(),
			Number:   r.GetRevision(),
			Template: r.GetTemplate(),
		})
	}
	return out
}
