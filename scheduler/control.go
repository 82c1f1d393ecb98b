package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/manifest"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// controlService is where users enter the loop:
//
//	manifest → Control.Apply → store (→ controller → nodes → agents)
//
// Errors are errdefs kinds inside; each RPC converts them to gRPC status codes
// at its boundary.
type controlService struct {
	ordov1.UnimplementedControlServer

	store *Store
	nodes *nodeService
	log   *slog.Logger
}

var _ ordov1.ControlServer = (*controlService)(nil)

// kindOf normalises a user-given kind: full names, plurals and short names,
// case-insensitive.
func kindOf(k string) (string, error) {
	switch strings.ToLower(k) {
	case "statefulset", "statefulsets", "sts":
		return KindStatefulSet, nil
	case "service", "services", "svc":
		return KindService, nil
	case "pod", "pods", "po":
		return KindPod, nil
	case "node", "nodes", "no":
		return KindNode, nil
	case "persistentvolume", "persistentvolumes", "pv":
		return KindPersistentVolume, nil
	case "persistentvolumeclaim", "persistentvolumeclaims", "pvc":
		return KindPersistentVolumeClaim, nil
	case "storageclass", "storageclasses", "sc":
		return KindStorageClass, nil
	}
	return "", errdefs.Invalid("kind", "unknown kind %q (supported: StatefulSet, Service, Pod, Node, PersistentVolume, PersistentVolumeClaim, StorageClass)", k)
}

// ---------------------------------------------------------------- Apply

func (c *controlService) Apply(ctx context.Context, req *ordov1.ApplyRequest) (*ordov1.ApplyResponse, error) {
	resp, err := c.apply(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

func (c *controlService) apply(_ context.Context, req *ordov1.ApplyRequest) (*ordov1.ApplyResponse, error) {
	// Decode and validate everything first: one bad object stores nothing.
	var objs []*ordov1.Object
	if len(req.GetManifest()) > 0 {
		decoded, err := manifest.Decode(req.GetManifest())
		if err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
		objs = append(objs, decoded...)
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
		k := kind + "/" + Key(ns, name)
		if seen[k] {
			return nil, errdefs.Invalid("metadata.name", "%s %s/%s is given twice", kind, ns, name)
		}
		seen[k] = true
	}

	resp := &ordov1.ApplyResponse{}
	err := c.store.Update(func(tx *Tx) error {
		for _, o := range objs {
			kind, ns, name := manifest.Ref(o)
			action, ok, err := applyStorage(tx, c.log, o)
			if !ok {
				action, err = applyObject(tx, o)
			}
			if err != nil {
				return fmt.Errorf("%s %s/%s: %w", kind, ns, name, err)
			}
			resp.Results = append(resp.Results, &ordov1.ApplyResult{Kind: kind, Name: name, Namespace: ns, Action: action})
		}
		if req.GetDryRun() {
			return errDryRun
		}
		return nil
	})
	if err != nil && err != errDryRun {
		return nil, err
	}
	if !req.GetDryRun() {
		for _, r := range resp.Results {
			c.log.Info("applied", "kind", r.Kind, "namespace", r.Namespace, "name", r.Name, "action", r.Action)
		}
	}
	return resp, nil
}

// errDryRun rolls back a dry-run transaction.
var errDryRun = fmt.Errorf("dry run")

// applyObject stores one validated object and says what happened to it:
// created, configured, or unchanged (same spec, labels and annotations).
func applyObject(tx *Tx, o *ordov1.Object) (string, error) {
	switch k := o.GetKind().(type) {
	case *ordov1.Object_StatefulSet:
		in := k.StatefulSet
		ns, name := in.GetMetadata().GetNamespace(), in.GetMetadata().GetName()
		cur := tx.StatefulSet(ns, name)
		if cur == nil {
			set := &ordov1.StatefulSet{Metadata: userMeta(in.GetMetadata()), Spec: in.GetSpec()}
			if _, err := tx.PutStatefulSet(set); err != nil {
				return "", err
			}
			return "created", tx.Record(KindStatefulSet, ns, name, "Created", "StatefulSet %s created with %d replicas", name, in.GetSpec().GetReplicas())
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
		if _, err := tx.PutStatefulSet(set); err != nil {
			return "", err
		}
		return "configured", tx.Record(KindStatefulSet, ns, name, "Configured", "StatefulSet %s configured", name)
	case *ordov1.Object_Service:
		in := k.Service
		ns, name := in.GetMetadata().GetNamespace(), in.GetMetadata().GetName()
		cur := tx.Service(ns, name)
		if cur != nil && proto.Equal(cur.GetSpec(), in.GetSpec()) && sameUserMeta(cur.GetMetadata(), in.GetMetadata()) {
			return "unchanged", nil
		}
		svc := &ordov1.Service{Metadata: userMeta(in.GetMetadata()), Spec: in.GetSpec()}
		if _, err := tx.PutService(svc); err != nil {
			return "", err
		}
		if cur == nil {
			return "created", tx.Record(KindService, ns, name, "Created", "Service %s created", name)
		}
		return "configured", nil
	}
	return "", errdefs.Invalid("kind", "unsupported object")
}

// userMeta keeps the parts of metadata a user sets.
func userMeta(m *ordov1.ObjectMeta) *ordov1.ObjectMeta {
	return &ordov1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(), Labels: m.GetLabels(), Annotations: m.GetAnnotations()}
}

func sameUserMeta(a, b *ordov1.ObjectMeta) bool {
	return equalStringMaps(a.GetLabels(), b.GetLabels()) && equalStringMaps(a.GetAnnotations(), b.GetAnnotations())
}

// ---------------------------------------------------------------- Get / List

func (c *controlService) Get(ctx context.Context, req *ordov1.GetRequest) (*ordov1.GetResponse, error) {
	resp, err := c.get(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

func (c *controlService) get(_ context.Context, req *ordov1.GetRequest) (*ordov1.GetResponse, error) {
	ref := req.GetRef()
	kind, err := kindOf(ref.GetKind())
	if err != nil {
		return nil, err
	}
	if ref.GetName() == "" {
		return nil, errdefs.Invalid("ref.name", "must not be empty")
	}
	ns := nsOr(ref.GetNamespace())
	resp := &ordov1.GetResponse{}
	key := Key(ns, ref.GetName())
	switch kind {
	case KindStatefulSet:
		s := c.store.StatefulSet(ns, ref.GetName())
		if s == nil {
			return nil, errdefs.NotFound("statefulset", key)
		}
		resp.Object = &ordov1.Object{Kind: &ordov1.Object_StatefulSet{StatefulSet: s}}
	case KindService:
		s := c.store.Service(ns, ref.GetName())
		if s == nil {
			return nil, errdefs.NotFound("service", key)
		}
		resp.Object = &ordov1.Object{Kind: &ordov1.Object_Service{Service: s}}
	case KindPod:
		p := c.store.Pod(ns, ref.GetName())
		if p == nil {
			return nil, errdefs.NotFound("pod", key)
		}
		resp.Pod = p
	case KindNode:
		key = ref.GetName()
		n := c.store.Node(key)
		if n == nil {
			return nil, errdefs.NotFound("node", key)
		}
		resp.Node = c.nodeView(n)
	case KindPersistentVolume:
		key = ref.GetName()
		v := c.store.PersistentVolume(key)
		if v == nil {
			return nil, errdefs.NotFound("persistentvolume", key)
		}
		resp.Object = &ordov1.Object{Kind: &ordov1.Object_PersistentVolume{PersistentVolume: v}}
	case KindPersistentVolumeClaim:
		v := c.store.PersistentVolumeClaim(ns, ref.GetName())
		if v == nil {
			return nil, errdefs.NotFound("persistentvolumeclaim", key)
		}
		resp.Object = &ordov1.Object{Kind: &ordov1.Object_PersistentVolumeClaim{PersistentVolumeClaim: v}}
	case KindStorageClass:
		key = ref.GetName()
		v := c.store.StorageClass(key)
		if v == nil {
			return nil, errdefs.NotFound("storageclass", key)
		}
		resp.Object = &ordov1.Object{Kind: &ordov1.Object_StorageClass{StorageClass: v}}
	}
	resp.Events = c.store.Events(kind, key)
	return resp, nil
}

// nodeView adds what is only kept in memory (last heartbeat, pod count).
func (c *controlService) nodeView(n *ordov1.NodeInfo) *ordov1.NodeInfo {
	v := proto.Clone(n).(*ordov1.NodeInfo)
	name := n.GetMetadata().GetName()
	if t := c.nodes.lastHeartbeat(name); !t.IsZero() {
		v.LastHeartbeat = timestamppb.New(t)
	}
	v.Pods = int32(c.store.CountPodsOnNode(name))
	return v
}

func (c *controlService) List(ctx context.Context, req *ordov1.ListRequest) (*ordov1.ListResponse, error) {
	resp, err := c.list(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

func (c *controlService) list(_ context.Context, req *ordov1.ListRequest) (*ordov1.ListResponse, error) {
	if isEndpointsKind(req.GetKind()) {
		return c.listEndpoints(req), nil
	}
	kind, err := kindOf(req.GetKind())
	if err != nil {
		return nil, err
	}
	ns, sel := req.GetNamespace(), req.GetLabelSelector()
	match := func(m *ordov1.ObjectMeta) bool {
		if ns != "" && kind != KindNode && kind != KindPersistentVolume && kind != KindStorageClass && m.GetNamespace() != ns {
			return false
		}
		for k, v := range sel {
			if got, ok := m.GetLabels()[k]; !ok || got != v {
				return false
			}
		}
		return true
	}
	resp := &ordov1.ListResponse{}
	switch kind {
	case KindStatefulSet:
		resp.StatefulSets = matching(c.store.StatefulSets(), match)
	case KindService:
		resp.Services = matching(c.store.Services(), match)
	case KindPod:
		resp.Pods = matching(c.store.Pods(), match)
	case KindNode:
		for _, n := range matching(c.store.Nodes(), match) {
			resp.Nodes = append(resp.Nodes, c.nodeView(n))
		}
	case KindPersistentVolume:
		resp.PersistentVolumes = matching(c.store.PersistentVolumes(), match)
	case KindPersistentVolumeClaim:
		resp.PersistentVolumeClaims = matching(c.store.PersistentVolumeClaims(), match)
	case KindStorageClass:
		resp.StorageClasses = matching(c.store.StorageClasses(), match)
	}
	return resp, nil
}

// ---------------------------------------------------------------- Delete / Scale

func (c *controlService) Delete(ctx context.Context, req *ordov1.DeleteRequest) (*ordov1.DeleteResponse, error) {
	resp, err := c.delete(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

// delete: a StatefulSet is marked deleted, the controller removes its pods
// (descending with OrderedReady) and then the set; a Pod is stopped and then
// recreated by its set; a Service is removed.
func (c *controlService) delete(_ context.Context, req *ordov1.DeleteRequest) (*ordov1.DeleteResponse, error) {
	ref := req.GetRef()
	kind, err := kindOf(ref.GetKind())
	if err != nil {
		return nil, err
	}
	if ref.GetName() == "" {
		return nil, errdefs.Invalid("ref.name", "must not be empty")
	}
	ns, name := nsOr(ref.GetNamespace()), ref.GetName()
	err = c.store.Update(func(tx *Tx) error {
		switch kind {
		case KindStatefulSet:
			cur := tx.StatefulSet(ns, name)
			if cur == nil {
				return errdefs.NotFound("statefulset", Key(ns, name))
			}
			if cur.GetMetadata().GetDeletionTime() != nil {
				return nil
			}
			s := proto.Clone(cur).(*ordov1.StatefulSet)
			s.Metadata.DeletionTime = timestamppb.New(tx.Now())
			if _, err := tx.PutStatefulSet(s); err != nil {
				return err
			}
			return tx.Record(KindStatefulSet, ns, name, "Deleting", "StatefulSet %s is being deleted; its pods are stopped first", name)
		case KindService:
			if tx.Service(ns, name) == nil {
				return errdefs.NotFound("service", Key(ns, name))
			}
			if err := tx.DeleteService(ns, name); err != nil {
				return err
			}
			return tx.Record(KindService, ns, name, "Deleted", "Service %s deleted", name)
		case KindPod:
			cur := tx.Pod(ns, name)
			if cur == nil {
				return errdefs.NotFound("pod", Key(ns, name))
			}
			return deletePod(tx, c.log, cur, "deleted by user")
		case KindPersistentVolume, KindPersistentVolumeClaim, KindStorageClass:
			return deleteStorage(tx, c.log, kind, ns, name)
		case KindNode:
			return deleteNode(tx, c.store, name)
		}
		return errdefs.Invalid("ref.kind", "%s objects cannot be deleted", kind)
	})
	if err != nil {
		return nil, err
	}
	if kind == KindNode {
		c.log.Info("node removed", "node", name)
		if c.nodes != nil {
			c.nodes.removed(name, "deleted by user")
		}
		return &ordov1.DeleteResponse{}, nil
	}
	c.log.Info("delete requested", "kind", kind, "namespace", ns, "name", name)
	return &ordov1.DeleteResponse{}, nil
}

func (c *controlService) Scale(ctx context.Context, req *ordov1.ScaleRequest) (*ordov1.ScaleResponse, error) {
	resp, err := c.scale(ctx, req)
	return resp, errdefs.ToGRPC(err)
}

func (c *controlService) scale(_ context.Context, req *ordov1.ScaleRequest) (*ordov1.ScaleResponse, error) {
	if req.GetName() == "" {
		return nil, errdefs.Invalid("name", "must not be empty")
	}
	if req.GetReplicas() < 0 {
		return nil, errdefs.Invalid("spec.replicas", "must be >= 0")
	}
	ns, name := nsOr(req.GetNamespace()), req.GetName()
	var out *ordov1.StatefulSet
	err := c.store.Update(func(tx *Tx) error {
		cur := tx.StatefulSet(ns, name)
		if cur == nil {
			return errdefs.NotFound("statefulset", Key(ns, name))
		}
		if cur.GetMetadata().GetDeletionTime() != nil {
			return fmt.Errorf("StatefulSet %s is being deleted: %w", name, errdefs.ErrConflict)
		}
		if cur.GetSpec().GetReplicas() == req.GetReplicas() {
			out = cur
			return nil
		}
		s := proto.Clone(cur).(*ordov1.StatefulSet)
		old := s.Spec.Replicas
		s.Spec.Replicas = req.GetReplicas()
		var err error
		if out, err = tx.PutStatefulSet(s); err != nil {
			return err
		}
		return tx.Record(KindStatefulSet, ns, name, "Scaled", "Scaled StatefulSet %s from %d to %d replicas", name, old, req.GetReplicas())
	})
	if err != nil {
		return nil, err
	}
	c.log.Info("scaled", "namespace", ns, "name", name, "replicas", req.GetReplicas())
	return &ordov1.ScaleResponse{StatefulSet: out}, nil
}

// ---------------------------------------------------------------- Watch

func (c *controlService) Watch(req *ordov1.WatchRequest, stream ordov1.Control_WatchServer) error {
	return errdefs.ToGRPC(c.watch(req, stream))
}

func (c *controlService) watch(req *ordov1.WatchRequest, stream ordov1.Control_WatchServer) error {
	var kinds []string
	for _, k := range req.GetKinds() {
		kind, err := kindOf(k)
		if err != nil {
			return err
		}
		kinds = append(kinds, kind)
	}
	w, initial, cancel := c.store.Watch(kinds, req.GetNamespace(), req.GetSendInitial())
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
		case ev, ok := <-w.ch:
			if !ok {
				return fmt.Errorf("%s: %w", w.err, errdefs.ErrUnavailable)
			}
			if err := stream.Send(ev); err != nil {
				return err
			}
		}
	}
}

// matching keeps the objects whose metadata match accepts.
func matching[T interface{ GetMetadata() *ordov1.ObjectMeta }](objs []T, match func(*ordov1.ObjectMeta) bool) []T {
	var out []T
	for _, o := range objs {
		if match(o.GetMetadata()) {
			out = append(out, o)
		}
	}
	return out
}
