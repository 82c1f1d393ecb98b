package state

import (
	"sort"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/binding"
)

// reader is what a View reads from: the committed state (Store) or a
// transaction's view of it (Tx).
type reader interface {
	get(kind, key string) proto.Message
	keys(kind string) []string
	values(kind string) []proto.Message
	podsBy(set bool, key string) map[string]*ordov1.Pod
	revisionsOf(setKey string) map[string]*ordov1.ControllerRevision
}

// View is the typed, indexed reads of the state, shared by Store (the
// committed state) and Tx (the committed state with the transaction's own
// writes). Lists are sorted by key unless their name says otherwise.
type View struct{ r reader }

// Get returns the object of kind (any name of the kinds table) or nil.
func (v View) Get(kind, ns, name string) proto.Message {
	return v.r.get(kind, keyOf(kind, ns, name))
}

// List returns every object of kind, sorted by key.
func (v View) List(kind string) []proto.Message {
	keys := v.r.keys(kind)
	sort.Strings(keys)
	out := make([]proto.Message, 0, len(keys))
	for _, k := range keys {
		if m := v.r.get(kind, k); m != nil {
			out = append(out, m)
		}
	}
	return out
}

func one[T proto.Message](v View, kind, key string) T {
	m, _ := v.r.get(kind, key).(T)
	return m
}

func list[T proto.Message](v View, kind string) []T {
	ms := v.List(kind)
	out := make([]T, len(ms))
	for i, m := range ms {
		out[i] = m.(T)
	}
	return out
}

// StatefulSet returns the set or nil.
func (v View) StatefulSet(ns, name string) *ordov1.StatefulSet {
	return one[*ordov1.StatefulSet](v, kinds.StatefulSet, Key(ns, name))
}

// Service returns the service or nil.
func (v View) Service(ns, name string) *ordov1.Service {
	return one[*ordov1.Service](v, kinds.Service, Key(ns, name))
}

// Pod returns the pod or nil.
func (v View) Pod(ns, name string) *ordov1.Pod { return one[*ordov1.Pod](v, kinds.Pod, Key(ns, name)) }

// Node returns the node or nil.
func (v View) Node(name string) *ordov1.NodeInfo { return one[*ordov1.NodeInfo](v, kinds.Node, name) }

// PersistentVolume returns the volume or nil.
func (v View) PersistentVolume(name string) *ordov1.PersistentVolume {
	return one[*ordov1.PersistentVolume](v, kinds.PersistentVolume, name)
}

// PersistentVolumeClaim returns the claim or nil.
func (v View) PersistentVolumeClaim(ns, name string) *ordov1.PersistentVolumeClaim {
	return one[*ordov1.PersistentVolumeClaim](v, kinds.PersistentVolumeClaim, Key(ns, name))
}

// StorageClass returns the class or nil.
func (v View) StorageClass(name string) *ordov1.StorageClass {
	return one[*ordov1.StorageClass](v, kinds.StorageClass, name)
}

// ConfigMap returns the ConfigMap or nil.
func (v View) ConfigMap(ns, name string) *ordov1.ConfigMap {
	return one[*ordov1.ConfigMap](v, kinds.ConfigMap, Key(ns, name))
}

// Secret returns the Secret or nil.
func (v View) Secret(ns, name string) *ordov1.Secret {
	return one[*ordov1.Secret](v, kinds.Secret, Key(ns, name))
}

// PodDisruptionBudget returns the budget or nil.
func (v View) PodDisruptionBudget(ns, name string) *ordov1.PodDisruptionBudget {
	return one[*ordov1.PodDisruptionBudget](v, kinds.PodDisruptionBudget, Key(ns, name))
}

// PodDisruptionBudgets returns every budget.
func (v View) PodDisruptionBudgets() []*ordov1.PodDisruptionBudget {
	return list[*ordov1.PodDisruptionBudget](v, kinds.PodDisruptionBudget)
}

// StatefulSets returns every set.
func (v View) StatefulSets() []*ordov1.StatefulSet {
	return list[*ordov1.StatefulSet](v, kinds.StatefulSet)
}

// Services returns every service.
func (v View) Services() []*ordov1.Service { return list[*ordov1.Service](v, kinds.Service) }

// Pods returns every pod.
func (v View) Pods() []*ordov1.Pod { return list[*ordov1.Pod](v, kinds.Pod) }

// Nodes returns every node, sorted by name.
func (v View) Nodes() []*ordov1.NodeInfo { return list[*ordov1.NodeInfo](v, kinds.Node) }

// PersistentVolumes returns every volume, sorted by name.
func (v View) PersistentVolumes() []*ordov1.PersistentVolume {
	return list[*ordov1.PersistentVolume](v, kinds.PersistentVolume)
}

// PersistentVolumeClaims returns every claim.
func (v View) PersistentVolumeClaims() []*ordov1.PersistentVolumeClaim {
	return list[*ordov1.PersistentVolumeClaim](v, kinds.PersistentVolumeClaim)
}

// StorageClasses returns every class, sorted by name.
func (v View) StorageClasses() []*ordov1.StorageClass {
	return list[*ordov1.StorageClass](v, kinds.StorageClass)
}

// PodsUnsorted returns every pod in no particular order (cheaper than Pods).
func (v View) PodsUnsorted() []*ordov1.Pod {
	ms := v.r.values(kinds.Pod)
	out := make([]*ordov1.Pod, 0, len(ms))
	for _, m := range ms {
		if p, ok := m.(*ordov1.Pod); ok {
			out = append(out, p)
		}
	}
	return out
}

func sortedPods(m map[string]*ordov1.Pod) []*ordov1.Pod {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*ordov1.Pod, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// PodsOfSet returns the pods whose set_name is set in namespace ns.
func (v View) PodsOfSet(ns, set string) []*ordov1.Pod {
	return sortedPods(v.r.podsBy(true, Key(ns, set)))
}

// PodsOfSetUnsorted is PodsOfSet in no particular order.
func (v View) PodsOfSetUnsorted(ns, set string) []*ordov1.Pod {
	m := v.r.podsBy(true, Key(ns, set))
	out := make([]*ordov1.Pod, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	return out
}

// PodsOnNode returns the pods bound to node.
func (v View) PodsOnNode(node string) []*ordov1.Pod { return sortedPods(v.r.podsBy(false, node)) }

// Revisions returns the revision history of set in namespace ns, ascending
// by number.
func (v View) Revisions(ns, set string) []*ordov1.ControllerRevision {
	m := v.r.revisionsOf(Key(ns, set))
	out := make([]*ordov1.ControllerRevision, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].GetRevision() != out[j].GetRevision() {
			return out[i].GetRevision() < out[j].GetRevision()
		}
		return out[i].GetMetadata().GetName() < out[j].GetMetadata().GetName()
	})
	return out
}

// ClaimsOfPod returns the claims a pod names in its volumes and through its
// set's claim templates, as they exist (missing ones left out).
func (v View) ClaimsOfPod(set *ordov1.StatefulSet, pod *ordov1.Pod) []*ordov1.PersistentVolumeClaim {
	var out []*ordov1.PersistentVolumeClaim
	ns := pod.GetMetadata().GetNamespace()
	for _, name := range claimNames(set, pod) {
		if c := v.PersistentVolumeClaim(ns, name); c != nil {
			out = append(out, c)
		}
	}
	return out
}

func claimNames(set *ordov1.StatefulSet, pod *ordov1.Pod) []string {
	var out []string
	for _, v := range binding.PodVolumes(set, pod) {
		if v.Claim != "" {
			out = append(out, v.Claim)
		}
	}
	return out
}

// ClaimUser names a pod that uses claim c, or "".
func (v View) ClaimUser(c *ordov1.PersistentVolumeClaim) string {
	ns := c.GetMetadata().GetNamespace()
	for _, p := range v.PodsUnsorted() {
		if p.GetMetadata().GetNamespace() != ns {
			continue
		}
		set := v.StatefulSet(ns, p.GetSetName())
		if set == nil {
			set = &ordov1.StatefulSet{Metadata: &ordov1.ObjectMeta{Name: p.GetSetName(), Namespace: ns}}
		}
		for _, name := range claimNames(set, p) {
			if name == c.GetMetadata().GetName() {
				return p.GetMetadata().GetName()
			}
		}
	}
	return ""
}

// RetentionPending tells whether set's retention policy wants a claim
// deleted now, given its pods.
func (v View) RetentionPending(set *ordov1.StatefulSet, pods []*ordov1.Pod) bool {
	has := map[int32]bool{}
	for _, p := range pods {
		has[p.GetOrdinal()] = true
	}
	deleting := set.GetMetadata().GetDeletionTime() != nil
	start := set.GetSpec().GetOrdinalsStart()
	end := start + set.GetSpec().GetReplicas()
	for _, c := range v.PersistentVolumeClaims() {
		o, ok := binding.ClaimOrdinal(set, c.GetMetadata().GetName())
		if !ok || c.GetMetadata().GetNamespace() != set.GetMetadata().GetNamespace() || has[o] {
			continue
		}
		if deleting || o < start || o >= end {
			return true
		}
	}
	return false
}
