package control

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/internal/identity"
	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/controller"
	"github.com/ordoproject/ordo/scheduler/state"
)

func (c *Service) RolloutStatus(req *ordov1.RolloutStatusRequest, stream ordov1.Control_RolloutStatusServer) error {
	return errdefs.ToGRPC(c.rolloutStatus(req, stream))
}

// rolloutStatus sends the rollout's state, and with watch every change of
// its message until the rollout is done (OK) or failed (an ErrConflict
// error, FailedPrecondition on the wire, carrying the reason).
func (c *Service) rolloutStatus(req *ordov1.RolloutStatusRequest, stream ordov1.Control_RolloutStatusServer) error {
	if req.GetName() == "" {
		return errdefs.Invalid("name", "must not be empty")
	}
	ns, name := identity.NamespaceOr(req.GetNamespace()), req.GetName()
	var events <-chan *ordov1.Event
	if req.GetWatch() {
		w, _, cancel := c.store.Watch([]string{kinds.StatefulSet, kinds.Pod}, ns, false)
		defer cancel()
		events = w.Events()
	}
	ctx := stream.Context()
	var last *ordov1.RolloutStatusResponse
	for {
		set := c.store.StatefulSet(ns, name)
		if set == nil {
			return errdefs.NotFound("statefulset", state.Key(ns, name))
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

func (c *Service) RolloutHistory(ctx context.Context, req *ordov1.RolloutHistoryRequest) (*ordov1.RolloutHistoryResponse, error) {
	resp, err := c.rolloutHistory(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

func (c *Service) rolloutHistory(_ context.Context, req *ordov1.RolloutHistoryRequest) (*ordov1.RolloutHistoryResponse, error) {
	if req.GetName() == "" {
		return nil, errdefs.Invalid("name", "must not be empty")
	}
	ns, name := identity.NamespaceOr(req.GetNamespace()), req.GetName()
	set := c.store.StatefulSet(ns, name)
	if set == nil {
		return nil, errdefs.NotFound("statefulset", state.Key(ns, name))
	}
	return &ordov1.RolloutHistoryResponse{
		Revisions:       c.store.Revisions(ns, name),
		CurrentRevision: set.GetStatus().GetCurrentRevision(),
		UpdateRevision:  controller.Revision(set),
	}, nil
}

func (c *Service) RolloutUndo(ctx context.Context, req *ordov1.RolloutUndoRequest) (*ordov1.RolloutUndoResponse, error) {
	resp, err := c.rolloutUndo(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

// rolloutUndo puts the template of an earlier revision back: to_revision, or
// the newest revision other than the set's present template.
func (c *Service) rolloutUndo(_ context.Context, req *ordov1.RolloutUndoRequest) (*ordov1.RolloutUndoResponse, error) {
	if req.GetName() == "" {
		return nil, errdefs.Invalid("name", "must not be empty")
	}
	if req.GetToRevision() < 0 {
		return nil, errdefs.Invalid("to_revision", "must be >= 0")
	}
	ns, name := identity.NamespaceOr(req.GetNamespace()), req.GetName()
	resp := &ordov1.RolloutUndoResponse{}
	err := c.store.Update(func(tx *state.Tx) error {
		var err error
		resp.StatefulSet, resp.Revision, err = tx.RolloutUndo(ns, name, req.GetToRevision())
		return err
	})
	if err != nil {
		return nil, err
	}
	c.log.Info("rollout undo", "namespace", ns, "name", name, "revision", resp.Revision.GetRevision())
	return resp, nil
}

func (c *Service) RolloutRestart(ctx context.Context, req *ordov1.RolloutRestartRequest) (*ordov1.RolloutRestartResponse, error) {
	resp, err := c.rolloutRestart(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

func (c *Service) rolloutRestart(_ context.Context, req *ordov1.RolloutRestartRequest) (*ordov1.RolloutRestartResponse, error) {
	if req.GetName() == "" {
		return nil, errdefs.Invalid("name", "must not be empty")
	}
	ns, name := identity.NamespaceOr(req.GetNamespace()), req.GetName()
	set, err := c.changeTemplate(ns, name, func(tx *state.Tx, t *ordov1.PodTemplate) error {
		if t.Metadata == nil {
			t.Metadata = &ordov1.ObjectMeta{}
		}
		if t.Metadata.Annotations == nil {
			t.Metadata.Annotations = map[string]string{}
		}
		t.Metadata.Annotations[state.AnnotationRestartedAt] = tx.Now().UTC().Format(time.RFC3339Nano)
		return tx.Record(kinds.StatefulSet, ns, name, "Restarted", "Restart of StatefulSet %s requested", name)
	})
	if err != nil {
		return nil, err
	}
	c.log.Info("rollout restart", "namespace", ns, "name", name)
	return &ordov1.RolloutRestartResponse{StatefulSet: set}, nil
}

func (c *Service) SetImage(ctx context.Context, req *ordov1.SetImageRequest) (*ordov1.SetImageResponse, error) {
	resp, err := c.setImage(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

func (c *Service) setImage(_ context.Context, req *ordov1.SetImageRequest) (*ordov1.SetImageResponse, error) {
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
	ns, name := identity.NamespaceOr(req.GetNamespace()), req.GetName()
	set, err := c.changeTemplate(ns, name, func(tx *state.Tx, t *ordov1.PodTemplate) error {
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
		return tx.Record(kinds.StatefulSet, ns, name, "ImageChanged", "Set image of StatefulSet %s: %s", name, strings.Join(changed, ", "))
	})
	if err != nil {
		return nil, err
	}
	c.log.Info("set image", "namespace", ns, "name", name)
	return &ordov1.SetImageResponse{StatefulSet: set}, nil
}

// changeTemplate applies fn to a copy of the set's template and stores the
// set when the template changed.
func (c *Service) changeTemplate(ns, name string, fn func(tx *state.Tx, t *ordov1.PodTemplate) error) (*ordov1.StatefulSet, error) {
	var out *ordov1.StatefulSet
	err := c.store.Update(func(tx *state.Tx) error {
		var err error
		out, err = tx.ChangeTemplate(ns, name, func(t *ordov1.PodTemplate) error { return fn(tx, t) })
		return err
	})
	return out, err
}
