package scheduler

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ordoproject/ordo/internal/errdefs"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/controller"
)

// Revision history and rollouts:
//
//	set template → controller.Reconcile → NewRevision/PruneRevisions → revision bucket
//	auto-rollback → Rollback → set template (and an event) → controller again
//	rollout undo/restart, set image → set template → controller
//
// ControllerRevisions live in their own bbolt bucket, keyed "<ns>/<name>".
// They are read straight from bbolt (a set keeps a handful), so they need no
// in-memory mirror and no watch events.

// KindControllerRevision names revision-history entries in events and errors.
const KindControllerRevision = "ControllerRevision"

// AnnotationChangeCause on a set is copied into the revision its template
// becomes, as kubectl records it.
const AnnotationChangeCause = "kubernetes.io/change-cause"

// AnnotationRestartedAt on a pod template is what `rollout restart` sets to
// roll every pod, as kubectl does.
const AnnotationRestartedAt = "kubectl.kubernetes.io/restartedAt"

var bucketRevisions = []byte("controllerrevisions")

func scanRevisions(btx *bolt.Tx, ns, set string) ([]*ordov1.ControllerRevision, error) {
	b := btx.Bucket(bucketRevisions)
	if b == nil {
		return nil, nil
	}
	prefix := []byte(Key(ns, set) + "-")
	var out []*ordov1.ControllerRevision
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		r := &ordov1.ControllerRevision{}
		if err := proto.Unmarshal(v, r); err != nil {
			return nil, fmt.Errorf("decode controller revision %s: %w", k, err)
		}
		if r.GetSetName() == set {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].GetRevision() != out[j].GetRevision() {
			return out[i].GetRevision() < out[j].GetRevision()
		}
		return out[i].GetMetadata().GetName() < out[j].GetMetadata().GetName()
	})
	return out, nil
}

// Revisions returns the revision history of set in namespace ns, ascending by
// number.
func (s *Store) Revisions(ns, set string) ([]*ordov1.ControllerRevision, error) {
	var out []*ordov1.ControllerRevision
	err := s.db.View(func(btx *bolt.Tx) error {
		var err error
		out, err = scanRevisions(btx, ns, set)
		return err
	})
	return out, err
}

// Revisions is Store.Revisions within the transaction.
func (t *Tx) Revisions(ns, set string) ([]*ordov1.ControllerRevision, error) {
	return scanRevisions(t.btx, ns, set)
}

// PutRevision stores r under its namespace and name.
func (t *Tx) PutRevision(r *ordov1.ControllerRevision) error {
	b, err := t.btx.CreateBucketIfNotExists(bucketRevisions)
	if err != nil {
		return fmt.Errorf("store controller revision: %w", err)
	}
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode controller revision %s: %w", r.GetMetadata().GetName(), err)
	}
	key := Key(r.GetMetadata().GetNamespace(), r.GetMetadata().GetName())
	if err := b.Put([]byte(key), data); err != nil {
		return fmt.Errorf("store controller revision %s: %w", key, err)
	}
	return nil
}

// DeleteRevision removes one revision; a missing one is not an error.
func (t *Tx) DeleteRevision(ns, name string) error {
	b := t.btx.Bucket(bucketRevisions)
	if b == nil {
		return nil
	}
	if err := b.Delete([]byte(Key(ns, name))); err != nil {
		return fmt.Errorf("delete controller revision %s: %w", Key(ns, name), err)
	}
	return nil
}

// DeleteRevisionsOf removes the whole history of a set.
func (t *Tx) DeleteRevisionsOf(ns, set string) error {
	revs, err := t.Revisions(ns, set)
	if err != nil {
		return err
	}
	for _, r := range revs {
		if err := t.DeleteRevision(ns, r.GetMetadata().GetName()); err != nil {
			return err
		}
	}
	return nil
}

// controllerRevisions is the history of a set as Reconcile takes it.
func controllerRevisions(revs []*ordov1.ControllerRevision) []controller.ControllerRevision {
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

// applyHistory carries out a Result's NewRevision and PruneRevisions for set.
func applyHistory(tx *Tx, set *ordov1.StatefulSet, res controller.Result) error {
	ns, name := set.GetMetadata().GetNamespace(), set.GetMetadata().GetName()
	if nr := res.NewRevision; nr != nil {
		r := &ordov1.ControllerRevision{
			Metadata: &ordov1.ObjectMeta{Name: nr.Name, Namespace: ns},
			SetName:  name,
			Revision: nr.Number,
			Template: nr.Template,
		}
		// A template applied again keeps the revision's first record and its
		// cause unless the set names a new one.
		old, err := tx.Revisions(ns, name)
		if err != nil {
			return err
		}
		for _, o := range old {
			if o.GetMetadata().GetName() == nr.Name {
				r.Metadata.Uid = o.GetMetadata().GetUid()
				r.Metadata.CreationTime = o.GetMetadata().GetCreationTime()
				r.ChangeCause = o.GetChangeCause()
				if r.Template == nil {
					r.Template = o.GetTemplate()
				}
			}
		}
		if r.Metadata.Uid == "" {
			r.Metadata.Uid = newUID()
		}
		if r.Metadata.CreationTime == nil {
			r.Metadata.CreationTime = timestamppb.New(tx.Now())
		}
		if cause, ok := set.GetMetadata().GetAnnotations()[AnnotationChangeCause]; ok && cause != "" {
			r.ChangeCause = cause
		}
		if err := tx.PutRevision(r); err != nil {
			return err
		}
	}
	for _, p := range res.PruneRevisions {
		if err := tx.DeleteRevision(ns, p); err != nil {
			return err
		}
	}
	return nil
}

// rollback restores the template an automatic rollback asks for, when the
// set's template is still the one Reconcile saw.
func (l *loop) rollback(key string, seen *ordov1.StatefulSet, res controller.Result) {
	ns, name, _ := strings.Cut(key, "/")
	rb := res.Rollback
	err := l.store.Update(func(tx *Tx) error {
		cur := tx.StatefulSet(ns, name)
		if cur == nil || cur.GetMetadata().GetDeletionTime() != nil ||
			!proto.Equal(cur.GetSpec().GetTemplate(), seen.GetSpec().GetTemplate()) {
			return nil
		}
		if err := applyHistory(tx, cur, res); err != nil {
			return err
		}
		c := proto.Clone(cur).(*ordov1.StatefulSet)
		c.Spec.Template = proto.Clone(rb.Template).(*ordov1.PodTemplate)
		if res.Status != nil {
			c.Status = res.Status
		}
		if _, err := tx.PutStatefulSet(c); err != nil {
			return err
		}
		return tx.Record(KindStatefulSet, ns, name, "RolledBack", "%s", rb.Reason)
	})
	if err != nil {
		l.log.Error("automatic rollback", "set", key, "err", err)
		l.requeueAfter(key, time.Second)
		return
	}
	l.log.Warn("automatic rollback", "set", key, "to", rb.ToRevision, "reason", rb.Reason)
	// The template change wakes the loop through the commit hook; this covers
	// a rollback that found nothing to change.
	l.enqueue(key)
}

// ---------------------------------------------------------------- RPCs

func (c *controlService) RolloutStatus(req *ordov1.RolloutStatusRequest, stream ordov1.Control_RolloutStatusServer) error {
	return errdefs.ToGRPC(c.rolloutStatus(req, stream))
}

// rolloutStatus sends the rollout's state, and with watch every change of
// its message until the rollout is done (OK) or failed (an ErrConflict
// error, FailedPrecondition on the wire, carrying the reason).
func (c *controlService) rolloutStatus(req *ordov1.RolloutStatusRequest, stream ordov1.Control_RolloutStatusServer) error {
	if req.GetName() == "" {
		return errdefs.Invalid("name", "must not be empty")
	}
	ns, name := nsOr(req.GetNamespace()), req.GetName()
	var events <-chan *ordov1.Event
	if req.GetWatch() {
		w, _, cancel := c.store.Watch([]string{KindStatefulSet, KindPod}, ns, false)
		defer cancel()
		events = w.ch
	}
	ctx := stream.Context()
	var last *ordov1.RolloutStatusResponse
	for {
		set := c.store.StatefulSet(ns, name)
		if set == nil {
			return errdefs.NotFound("statefulset", Key(ns, name))
		}
		done, failed, msg := controller.RolloutStatus(set, c.store.PodsOfSet(ns, name))
		resp := &ordov1.RolloutStatusResponse{
			Done: done, Failed: failed, Message: msg,
			Status: set.GetStatus(), Generation: set.GetMetadata().GetGeneration(),
		}
		if last == nil || last.GetMessage() != msg || last.GetDone() != done || last.GetFailed() != failed {
			if err := stream.Send(resp); err != nil {
				return err
			}
			last = resp
		}
		if !req.GetWatch() || done {
			return nil
		}
		if failed {
			return fmt.Errorf("statefulset %s: %s: %w", name, msg, errdefs.ErrConflict)
		}
		// Wait for a change of this set or one of its pods.
	wait:
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case ev, ok := <-events:
				if !ok {
					return fmt.Errorf("rollout status: watch ended: %w", errdefs.ErrUnavailable)
				}
				if p := ev.GetPod(); p != nil && p.GetSetName() == name {
					break wait
				}
				if s := ev.GetObject().GetStatefulSet(); s != nil && s.GetMetadata().GetName() == name {
					break wait
				}
			}
		}
	}
}

func (c *controlService) RolloutHistory(ctx context.Context, req *ordov1.RolloutHistoryRequest) (*ordov1.RolloutHistoryResponse, error) {
	resp, err := c.rolloutHistory(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

func (c *controlService) rolloutHistory(_ context.Context, req *ordov1.RolloutHistoryRequest) (*ordov1.RolloutHistoryResponse, error) {
	if req.GetName() == "" {
		return nil, errdefs.Invalid("name", "must not be empty")
	}
	ns, name := nsOr(req.GetNamespace()), req.GetName()
	set := c.store.StatefulSet(ns, name)
	if set == nil {
		return nil, errdefs.NotFound("statefulset", Key(ns, name))
	}
	revs, err := c.store.Revisions(ns, name)
	if err != nil {
		return nil, err
	}
	return &ordov1.RolloutHistoryResponse{
		Revisions:       revs,
		CurrentRevision: set.GetStatus().GetCurrentRevision(),
		UpdateRevision:  controller.Revision(set),
	}, nil
}

func (c *controlService) RolloutUndo(ctx context.Context, req *ordov1.RolloutUndoRequest) (*ordov1.RolloutUndoResponse, error) {
	resp, err := c.rolloutUndo(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

// rolloutUndo puts the template of an earlier revision back: to_revision, or
// the newest revision other than the set's present template.
func (c *controlService) rolloutUndo(_ context.Context, req *ordov1.RolloutUndoRequest) (*ordov1.RolloutUndoResponse, error) {
	if req.GetName() == "" {
		return nil, errdefs.Invalid("name", "must not be empty")
	}
	if req.GetToRevision() < 0 {
		return nil, errdefs.Invalid("to_revision", "must be >= 0")
	}
	ns, name := nsOr(req.GetNamespace()), req.GetName()
	resp := &ordov1.RolloutUndoResponse{}
	err := c.store.Update(func(tx *Tx) error {
		cur := tx.StatefulSet(ns, name)
		if cur == nil {
			return errdefs.NotFound("statefulset", Key(ns, name))
		}
		if cur.GetMetadata().GetDeletionTime() != nil {
			return fmt.Errorf("StatefulSet %s is being deleted: %w", name, errdefs.ErrConflict)
		}
		revs, err := tx.Revisions(ns, name)
		if err != nil {
			return err
		}
		present := controller.Revision(cur)
		var to *ordov1.ControllerRevision
		for _, r := range revs {
			if req.GetToRevision() > 0 {
				if r.GetRevision() == req.GetToRevision() {
					to = r
				}
				continue
			}
			if r.GetMetadata().GetName() != present && (to == nil || r.GetRevision() > to.GetRevision()) {
				to = r
			}
		}
		if to == nil {
			if req.GetToRevision() > 0 {
				return fmt.Errorf("to_revision: revision %d of statefulset %s: %w", req.GetToRevision(), name, errdefs.ErrNotFound)
			}
			return fmt.Errorf("statefulset %s has no previous revision to roll back to: %w", name, errdefs.ErrConflict)
		}
		if to.GetTemplate() == nil {
			return fmt.Errorf("revision %d of statefulset %s has no template: %w", to.GetRevision(), name, errdefs.ErrConflict)
		}
		resp.Revision = to
		if to.GetMetadata().GetName() == present {
			resp.StatefulSet = cur
			return nil
		}
		s := proto.Clone(cur).(*ordov1.StatefulSet)
		s.Spec.Template = proto.Clone(to.GetTemplate()).(*ordov1.PodTemplate)
		if resp.StatefulSet, err = tx.PutStatefulSet(s); err != nil {
			return err
		}
		return tx.Record(KindStatefulSet, ns, name, "RolledBack", "Rolled back StatefulSet %s to revision %d (%s)",
			name, to.GetRevision(), to.GetMetadata().GetName())
	})
	if err != nil {
		return nil, err
	}
	c.log.Info("rollout undo", "namespace", ns, "name", name, "revision", resp.Revision.GetRevision())
	return resp, nil
}

func (c *controlService) RolloutRestart(ctx context.Context, req *ordov1.RolloutRestartRequest) (*ordov1.RolloutRestartResponse, error) {
	resp, err := c.rolloutRestart(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

func (c *controlService) rolloutRestart(_ context.Context, req *ordov1.RolloutRestartRequest) (*ordov1.RolloutRestartResponse, error) {
	if req.GetName() == "" {
		return nil, errdefs.Invalid("name", "must not be empty")
	}
	ns, name := nsOr(req.GetNamespace()), req.GetName()
	set, err := c.changeTemplate(ns, name, func(tx *Tx, t *ordov1.PodTemplate) error {
		if t.Metadata == nil {
			t.Metadata = &ordov1.ObjectMeta{}
		}
		if t.Metadata.Annotations == nil {
			t.Metadata.Annotations = map[string]string{}
		}
		t.Metadata.Annotations[AnnotationRestartedAt] = tx.Now().UTC().Format(time.RFC3339Nano)
		return tx.Record(KindStatefulSet, ns, name, "Restarted", "Restart of StatefulSet %s requested", name)
	})
	if err != nil {
		return nil, err
	}
	c.log.Info("rollout restart", "namespace", ns, "name", name)
	return &ordov1.RolloutRestartResponse{StatefulSet: set}, nil
}

func (c *controlService) SetImage(ctx context.Context, req *ordov1.SetImageRequest) (*ordov1.SetImageResponse, error) {
	resp, err := c.setImage(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

func (c *controlService) setImage(_ context.Context, req *ordov1.SetImageRequest) (*ordov1.SetImageResponse, error) {
	if req.GetName() == "" {
		return nil, errdefs.Invalid("name", "must not be empty")
	}
	if len(req.GetImages()) == 0 {
		return nil, errdefs.Invalid("images", "must name at least one container")
	}
	for cn, img := range req.GetImages() {
		if strings.TrimSpace(img) == "" {
			return nil, errdefs.Invalid(fmt.Sprintf("images[%s]", cn), "image must not be empty")
		}
	}
	ns, name := nsOr(req.GetNamespace()), req.GetName()
	set, err := c.changeTemplate(ns, name, func(tx *Tx, t *ordov1.PodTemplate) error {
		containers := t.GetSpec().GetContainers()
		names := make([]string, 0, len(req.GetImages()))
		for cn := range req.GetImages() {
			names = append(names, cn)
		}
		sort.Strings(names)
		for _, cn := range names {
			if cn == "*" {
				continue
			}
			found := false
			for _, ct := range containers {
				if ct.GetName() == cn {
					found = true
				}
			}
			if !found {
				var have []string
				for _, ct := range containers {
					have = append(have, ct.GetName())
				}
				return errdefs.Invalid(fmt.Sprintf("images[%s]", cn), "statefulset %s has no container %q (containers: %s)",
					name, cn, strings.Join(have, ", "))
			}
		}
		var changed []string
		for _, ct := range containers {
			img, ok := req.GetImages()[ct.GetName()]
			if !ok {
				img, ok = req.GetImages()["*"]
			}
			if ok && ct.GetImage() != img {
				ct.Image = img
				changed = append(changed, ct.GetName()+"="+img)
			}
		}
		if len(changed) == 0 {
			return nil
		}
		return tx.Record(KindStatefulSet, ns, name, "ImageChanged", "Set image of StatefulSet %s: %s", name, strings.Join(changed, ", "))
	})
	if err != nil {
		return nil, err
	}
	c.log.Info("set image", "namespace", ns, "name", name)
	return &ordov1.SetImageResponse{StatefulSet: set}, nil
}

// changeTemplate applies fn to a copy of the set's template and stores the
// set when the template changed.
func (c *controlService) changeTemplate(ns, name string, fn func(tx *Tx, t *ordov1.PodTemplate) error) (*ordov1.StatefulSet, error) {
	var out *ordov1.StatefulSet
	err := c.store.Update(func(tx *Tx) error {
		cur := tx.StatefulSet(ns, name)
		if cur == nil {
			return errdefs.NotFound("statefulset", Key(ns, name))
		}
		if cur.GetMetadata().GetDeletionTime() != nil {
			return fmt.Errorf("StatefulSet %s is being deleted: %w", name, errdefs.ErrConflict)
		}
		s := proto.Clone(cur).(*ordov1.StatefulSet)
		if s.Spec == nil {
			s.Spec = &ordov1.StatefulSetSpec{}
		}
		if s.Spec.Template == nil {
			s.Spec.Template = &ordov1.PodTemplate{}
		}
		if err := fn(tx, s.Spec.Template); err != nil {
			return err
		}
		if proto.Equal(s.GetSpec(), cur.GetSpec()) {
			out = cur
			return nil
		}
		var err error
		out, err = tx.PutStatefulSet(s)
		return err
	})
	return out, err
}
