package control

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/internal/identity"
	"github.com/ordoproject/ordo/internal/kinds"
	"github.com/ordoproject/ordo/internal/labels"
	"github.com/ordoproject/ordo/manifest"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/clusternet"
	"github.com/ordoproject/ordo/scheduler/state"
)

// errDryRun rolls back a dry-run transaction.
var errDryRun = errors.New("dry run")

// storedKind parses a kind a user gave and requires one the store keeps.
func storedKind(field, name string) (*kinds.Kind, error) {
	k, err := kinds.Parse(name)
	if err != nil {
		return nil, errdefs.Invalid(field, "%s", err.Error())
	}
	if !k.Stored {
		return nil, errdefs.Invalid(field, "%s cannot be used here", k.Plural)
	}
	return k, nil
}

// parseRef checks a reference to one stored object and returns its kind.
func parseRef(ref *ordov1.ObjectRef) (*kinds.Kind, error) {
	k, err := storedKind("kind", ref.GetKind())
	if err != nil {
		return nil, err
	}
	if ref.GetName() == "" {
		return nil, errdefs.Invalid("ref.name", "must not be empty")
	}
	return k, nil
}

// Apply stores the objects of a manifest (or typed objects), all or none.
func (c *Service) Apply(ctx context.Context, req *ordov1.ApplyRequest) (*ordov1.ApplyResponse, error) {
	resp, err := c.apply(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

func (c *Service) apply(_ context.Context, req *ordov1.ApplyRequest) (*ordov1.ApplyResponse, error) {
	// Decode and validate everything first: one bad object stores nothing.
	var objs []*ordov1.Object
	var warnings []string
	if len(req.GetManifest()) > 0 {
		decoded, err := manifest.Decode(req.GetManifest())
		if err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
		objs = append(objs, decoded.Objects...)
		warnings = decoded.Warnings
	}
	if n := len(req.GetWarnings()); n > maxWarnings {
		return nil, errdefs.Invalid("warnings", "%d warnings: at most %d", n, maxWarnings)
	}
	for i, w := range req.GetWarnings() {
		if len(w) > maxWarningBytes {
			return nil, errdefs.Invalid(fmt.Sprintf("warnings[%d]", i), "%d bytes: at most %d", len(w), maxWarningBytes)
		}
	}
	if len(req.GetObjects()) > 0 {
		warnings = append(warnings, req.GetWarnings()...)
	}
	for i, o := range req.GetObjects() {
		o = proto.Clone(o).(*ordov1.Object)
		if err := manifest.Normalize(o); err != nil {
			kind, ns, name := manifest.Ref(o)
			if name == "" {
				return nil, fmt.Errorf("objects[%d]: %w", i, err)
			}
			return nil, fmt.Errorf("%s %s/%s: %w", kind, ns, name, err)
		}
		objs = append(objs, o)
	}
	if len(objs) == 0 {
		return nil, errdefs.Invalid("manifest", "no objects given")
	}
	seen := map[string]bool{}
	for _, o := range objs {
		kind, ns, name := manifest.Ref(o)
		k := kind + "/" + state.Key(ns, name)
		if seen[k] {
			return nil, errdefs.Invalid("metadata.name", "%s %s/%s is given twice", kind, ns, name)
		}
		seen[k] = true
	}

	resp := &ordov1.ApplyResponse{Warnings: warnings}
	err := c.store.Update(func(tx *state.Tx) error {
		for _, o := range objs {
			kind, ns, name := manifest.Ref(o)
			action, err := tx.ApplyObject(o)
			if err != nil {
				return fmt.Errorf("%s %s/%s: %w", kind, ns, name, err)
			}
			resp.Results = append(resp.Results, &ordov1.ApplyResult{Kind: kind, Name: name, Namespace: ns, Action: action})
		}
		if err := recordWarnings(tx, warnings, seen); err != nil {
			return err
		}
		if req.GetDryRun() {
			return errDryRun
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return nil, err
	}
	if !req.GetDryRun() {
		for _, r := range resp.Results {
			c.log.Info("applied", "kind", r.Kind, "namespace", r.Namespace, "name", r.Name, "action", r.Action)
		}
	}
	return resp, nil
}

// Bounds of the warnings a client sends with its objects.
const (
	maxWarnings     = 1000
	maxWarningBytes = 1024
)

// recordWarnings records each warning that names an applied object
// ("Kind ns/name: text") as an event of that object.
func recordWarnings(tx *state.Tx, warnings []string, applied map[string]bool) error {
	for _, w := range warnings {
		ref, text, ok := strings.Cut(w, ": ")
		kind, key, ok2 := strings.Cut(ref, " ")
		if !strings.Contains(key, "/") {
			key = "/" + key // a cluster-wide object
		}
		if !ok || !ok2 || !applied[kind+"/"+key] {
			continue
		}
		ns, name, _ := strings.Cut(key, "/")
		if err := tx.Record(kind, ns, name, "AcceptedWithoutEffect", "%s", text); err != nil {
			return err
		}
	}
	return nil
}

// Get returns one object with its recent events.
func (c *Service) Get(ctx context.Context, req *ordov1.GetRequest) (*ordov1.GetResponse, error) {
	resp, err := c.get(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

func (c *Service) get(_ context.Context, req *ordov1.GetRequest) (*ordov1.GetResponse, error) {
	ref := req.GetRef()
	k, err := parseRef(ref)
	if err != nil {
		return nil, err
	}
	ns := identity.NamespaceOr(ref.GetNamespace())
	key := k.Key(ns, ref.GetName())
	m := c.store.Get(k.Name, ns, ref.GetName())
	if m == nil {
		return nil, errdefs.NotFound(strings.ToLower(k.Name), key)
	}
	if n, ok := m.(*ordov1.NodeInfo); ok {
		m = c.nodeView(n)
	}
	resp := &ordov1.GetResponse{}
	k.SetGet(resp, m)
	resp.Events = c.store.Events(k.Name, key)
	return resp, nil
}

// nodeView adds what is only kept in memory (last heartbeat, pod count).
func (c *Service) nodeView(n *ordov1.NodeInfo) *ordov1.NodeInfo {
	v := proto.Clone(n).(*ordov1.NodeInfo)
	name := n.GetMetadata().GetName()
	if c.lastHeartbeat != nil {
		if t := c.lastHeartbeat(name); !t.IsZero() {
			v.LastHeartbeat = timestamppb.New(t)
		}
	}
	v.Pods = int32(c.store.CountPodsOnNode(name))
	return v
}

// List returns the objects of a kind, filtered by namespace and labels.
func (c *Service) List(ctx context.Context, req *ordov1.ListRequest) (*ordov1.ListResponse, error) {
	resp, err := c.list(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

func (c *Service) list(_ context.Context, req *ordov1.ListRequest) (*ordov1.ListResponse, error) {
	k, err := kinds.Parse(req.GetKind())
	if err != nil {
		return nil, errdefs.Invalid("kind", "%s", err.Error())
	}
	ns, sel := req.GetNamespace(), req.GetLabelSelector()
	var items []proto.Message
	if k.Name == kinds.Endpoints {
		for _, ep := range clusternet.ComputeEndpoints(c.store.Services(), c.store.Pods()) {
			items = append(items, ep)
		}
	} else {
		items = c.store.List(k.Name)
	}
	resp := &ordov1.ListResponse{}
	for _, m := range items {
		meta := kinds.Meta(m)
		if ns != "" && k.Namespaced && meta.GetNamespace() != ns {
			continue
		}
		if !labels.MapMatches(sel, meta.GetLabels()) {
			continue
		}
		if n, ok := m.(*ordov1.NodeInfo); ok {
			m = c.nodeView(n)
		}
		k.Append(resp, m)
	}
	return resp, nil
}

// Delete deletes one object (see state.Tx.DeleteObject for what that means
// per kind).
func (c *Service) Delete(ctx context.Context, req *ordov1.DeleteRequest) (*ordov1.DeleteResponse, error) {
	resp, err := c.delete(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

func (c *Service) delete(_ context.Context, req *ordov1.DeleteRequest) (*ordov1.DeleteResponse, error) {
	ref := req.GetRef()
	k, err := parseRef(ref)
	if err != nil {
		return nil, err
	}
	ns, name := identity.NamespaceOr(ref.GetNamespace()), ref.GetName()
	if err := c.store.Update(func(tx *state.Tx) error { return tx.DeleteObject(k.Name, ns, name) }); err != nil {
		return nil, err
	}
	c.log.Info("delete requested", "kind", k.Name, "namespace", ns, "name", name)
	return &ordov1.DeleteResponse{}, nil
}

// Scale sets a set's replicas.
func (c *Service) Scale(ctx context.Context, req *ordov1.ScaleRequest) (*ordov1.ScaleResponse, error) {
	resp, err := c.scale(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

func (c *Service) scale(_ context.Context, req *ordov1.ScaleRequest) (*ordov1.ScaleResponse, error) {
	if req.GetName() == "" {
		return nil, errdefs.Invalid("name", "must not be empty")
	}
	if req.GetReplicas() < 0 {
		return nil, errdefs.Invalid("spec.replicas", "must be >= 0")
	}
	ns, name := identity.NamespaceOr(req.GetNamespace()), req.GetName()
	var out *ordov1.StatefulSet
	err := c.store.Update(func(tx *state.Tx) error {
		var err error
		out, err = tx.Scale(ns, name, req.GetReplicas())
		return err
	})
	if err != nil {
		return nil, err
	}
	c.log.Info("scaled", "namespace", ns, "name", name, "replicas", req.GetReplicas())
	return &ordov1.ScaleResponse{StatefulSet: out}, nil
}

// Watch streams committed changes and recorded events.
func (c *Service) Watch(req *ordov1.WatchRequest, stream ordov1.Control_WatchServer) error {
	return errdefs.ToGRPC(c.watch(req, stream))
}

func (c *Service) watch(req *ordov1.WatchRequest, stream ordov1.Control_WatchServer) error {
	var names []string
	for _, name := range req.GetKinds() {
		k, err := storedKind("kind", name)
		if err != nil {
			return err
		}
		names = append(names, k.Name)
	}
	w, initial, cancel := c.store.Watch(names, req.GetNamespace(), req.GetSendInitial())
	defer cancel()
	for _, ev := range initial {
		if ev.Node != nil {
			ev.Node = c.nodeView(ev.Node)
		}
		if err := stream.Send(ev); err != nil {
			return err
		}
	}
	ctx := stream.Context()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-w.Events():
			if !ok {
				return fmt.Errorf("%s: %w", w.Err(), errdefs.ErrUnavailable)
			}
			if err := stream.Send(ev); err != nil {
				return err
			}
		}
	}
}
