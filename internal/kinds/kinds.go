// Package kinds is the one table of the object kinds ordo knows: their names
// as users type them (full, plural, short), their API group and scope, and how
// a message of the kind travels in the API (Object, Event, Get and List
// responses). The scheduler's store, its watch and control services, the CLI
// and the manifest decoder all read this table instead of switching over
// kinds themselves; adding a kind is one row here (plus the store's bucket in
// scheduler/state).
//
// It holds no state and touches nothing: pure data and conversions.
package kinds

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Names of the kinds, as manifests and the API spell them.
const (
	StatefulSet           = "StatefulSet"
	Service               = "Service"
	Pod                   = "Pod"
	Node                  = "Node"
	PersistentVolume      = "PersistentVolume"
	PersistentVolumeClaim = "PersistentVolumeClaim"
	StorageClass          = "StorageClass"
	ConfigMap             = "ConfigMap"
	Secret                = "Secret"
	PodDisruptionBudget   = "PodDisruptionBudget"
	Endpoints             = "Endpoints"
	ControllerRevision    = "ControllerRevision"
)

// Kind is one row of the table.
type Kind struct {
	Name       string   // StatefulSet
	Plural     string   // statefulsets
	Short      []string // sts
	APIVersion string   // apps/v1
	Namespaced bool
	// Stored kinds are kept in the scheduler's store and can be watched;
	// Endpoints are computed from services and pods when asked for.
	Stored bool

	new      func() proto.Message
	toObject func(proto.Message) *ordov1.Object
	ofObject func(*ordov1.Object) proto.Message
	setEvent func(*ordov1.Event, proto.Message)
	ofEvent  func(*ordov1.Event) proto.Message
	setGet   func(*ordov1.GetResponse, proto.Message)
	ofGet    func(*ordov1.GetResponse) proto.Message
	appendTo func(*ordov1.ListResponse, proto.Message)
	items    func(*ordov1.ListResponse) []proto.Message
}

// wrapped builds the conversions of a kind that travels as an Object.
func wrapped[T proto.Message](k Kind, wrap func(T) *ordov1.Object, unwrap func(*ordov1.Object) T, list func(*ordov1.ListResponse) *[]T) Kind {
	k.new = func() proto.Message { var zero T; return zero.ProtoReflect().New().Interface() }
	k.toObject = func(m proto.Message) *ordov1.Object { return wrap(m.(T)) }
	k.ofObject = func(o *ordov1.Object) proto.Message { return nilIfZero(unwrap(o)) }
	k.setEvent = func(ev *ordov1.Event, m proto.Message) { ev.Object = wrap(m.(T)) }
	k.ofEvent = func(ev *ordov1.Event) proto.Message { return nilIfZero(unwrap(ev.GetObject())) }
	k.setGet = func(r *ordov1.GetResponse, m proto.Message) { r.Object = wrap(m.(T)) }
	k.ofGet = func(r *ordov1.GetResponse) proto.Message { return nilIfZero(unwrap(r.GetObject())) }
	k.appendTo, k.items = listFuncs(list)
	return k
}

func listFuncs[T proto.Message](list func(*ordov1.ListResponse) *[]T) (func(*ordov1.ListResponse, proto.Message), func(*ordov1.ListResponse) []proto.Message) {
	if list == nil {
		return nil, nil
	}
	return func(r *ordov1.ListResponse, m proto.Message) { l := list(r); *l = append(*l, m.(T)) },
		func(r *ordov1.ListResponse) []proto.Message {
			l := *list(r)
			out := make([]proto.Message, len(l))
			for i, m := range l {
				out[i] = m
			}
			return out
		}
}

// nilIfZero turns a typed nil into an untyped nil.
func nilIfZero[T proto.Message](m T) proto.Message {
	if !m.ProtoReflect().IsValid() {
		return nil
	}
	return m
}

var table = []Kind{
	wrapped(Kind{Name: StatefulSet, Plural: "statefulsets", Short: []string{"sts"}, APIVersion: "apps/v1", Namespaced: true, Stored: true},
		func(m *ordov1.StatefulSet) *ordov1.Object {
			return &ordov1.Object{Kind: &ordov1.Object_StatefulSet{StatefulSet: m}}
		},
		(*ordov1.Object).GetStatefulSet,
		func(r *ordov1.ListResponse) *[]*ordov1.StatefulSet { return &r.StatefulSets }),
	wrapped(Kind{Name: Service, Plural: "services", Short: []string{"svc"}, APIVersion: "v1", Namespaced: true, Stored: true},
		func(m *ordov1.Service) *ordov1.Object {
			return &ordov1.Object{Kind: &ordov1.Object_Service{Service: m}}
		},
		(*ordov1.Object).GetService,
		func(r *ordov1.ListResponse) *[]*ordov1.Service { return &r.Services }),
	podKind(),
	nodeKind(),
	wrapped(Kind{Name: PersistentVolume, Plural: "persistentvolumes", Short: []string{"pv"}, APIVersion: "v1", Stored: true},
		func(m *ordov1.PersistentVolume) *ordov1.Object {
			return &ordov1.Object{Kind: &ordov1.Object_PersistentVolume{PersistentVolume: m}}
		},
		(*ordov1.Object).GetPersistentVolume,
		func(r *ordov1.ListResponse) *[]*ordov1.PersistentVolume { return &r.PersistentVolumes }),
	wrapped(Kind{Name: PersistentVolumeClaim, Plural: "persistentvolumeclaims", Short: []string{"pvc"}, APIVersion: "v1", Namespaced: true, Stored: true},
		func(m *ordov1.PersistentVolumeClaim) *ordov1.Object {
			return &ordov1.Object{Kind: &ordov1.Object_PersistentVolumeClaim{PersistentVolumeClaim: m}}
		},
		(*ordov1.Object).GetPersistentVolumeClaim,
		func(r *ordov1.ListResponse) *[]*ordov1.PersistentVolumeClaim { return &r.PersistentVolumeClaims }),
	wrapped(Kind{Name: StorageClass, Plural: "storageclasses", Short: []string{"sc"}, APIVersion: "storage.k8s.io/v1", Stored: true},
		func(m *ordov1.StorageClass) *ordov1.Object {
			return &ordov1.Object{Kind: &ordov1.Object_StorageClass{StorageClass: m}}
		},
		(*ordov1.Object).GetStorageClass,
		func(r *ordov1.ListResponse) *[]*ordov1.StorageClass { return &r.StorageClasses }),
	wrapped(Kind{Name: ConfigMap, Plural: "configmaps", Short: []string{"cm"}, APIVersion: "v1", Namespaced: true, Stored: true},
		func(m *ordov1.ConfigMap) *ordov1.Object {
			return &ordov1.Object{Kind: &ordov1.Object_ConfigMap{ConfigMap: m}}
		},
		(*ordov1.Object).GetConfigMap,
		func(r *ordov1.ListResponse) *[]*ordov1.ConfigMap { return &r.ConfigMaps }),
	wrapped(Kind{Name: Secret, Plural: "secrets", APIVersion: "v1", Namespaced: true, Stored: true},
		func(m *ordov1.Secret) *ordov1.Object { return &ordov1.Object{Kind: &ordov1.Object_Secret{Secret: m}} },
		(*ordov1.Object).GetSecret,
		func(r *ordov1.ListResponse) *[]*ordov1.Secret { return &r.Secrets }),
	wrapped(Kind{Name: PodDisruptionBudget, Plural: "poddisruptionbudgets", Short: []string{"pdb"}, APIVersion: "policy/v1", Namespaced: true, Stored: true},
		func(m *ordov1.PodDisruptionBudget) *ordov1.Object {
			return &ordov1.Object{Kind: &ordov1.Object_PodDisruptionBudget{PodDisruptionBudget: m}}
		},
		(*ordov1.Object).GetPodDisruptionBudget,
		func(r *ordov1.ListResponse) *[]*ordov1.PodDisruptionBudget { return &r.PodDisruptionBudgets }),
	endpointsKind(),
}

func podKind() Kind {
	k := Kind{Name: Pod, Plural: "pods", Short: []string{"po"}, APIVersion: "v1", Namespaced: true, Stored: true}
	k.new = func() proto.Message { return &ordov1.Pod{} }
	k.setEvent = func(ev *ordov1.Event, m proto.Message) { ev.Pod = m.(*ordov1.Pod) }
	k.ofEvent = func(ev *ordov1.Event) proto.Message { return nilIfZero(ev.GetPod()) }
	k.setGet = func(r *ordov1.GetResponse, m proto.Message) { r.Pod = m.(*ordov1.Pod) }
	k.ofGet = func(r *ordov1.GetResponse) proto.Message { return nilIfZero(r.GetPod()) }
	k.appendTo, k.items = listFuncs(func(r *ordov1.ListResponse) *[]*ordov1.Pod { return &r.Pods })
	return k
}

func nodeKind() Kind {
	k := Kind{Name: Node, Plural: "nodes", Short: []string{"no"}, APIVersion: "v1", Stored: true}
	k.new = func() proto.Message { return &ordov1.NodeInfo{} }
	k.setEvent = func(ev *ordov1.Event, m proto.Message) { ev.Node = m.(*ordov1.NodeInfo) }
	k.ofEvent = func(ev *ordov1.Event) proto.Message { return nilIfZero(ev.GetNode()) }
	k.setGet = func(r *ordov1.GetResponse, m proto.Message) { r.Node = m.(*ordov1.NodeInfo) }
	k.ofGet = func(r *ordov1.GetResponse) proto.Message { return nilIfZero(r.GetNode()) }
	k.appendTo, k.items = listFuncs(func(r *ordov1.ListResponse) *[]*ordov1.NodeInfo { return &r.Nodes })
	return k
}

func endpointsKind() Kind {
	k := Kind{Name: Endpoints, Plural: "endpoints", Short: []string{"ep", "endpoint"}, APIVersion: "v1", Namespaced: true}
	k.new = func() proto.Message { return &ordov1.Endpoints{} }
	k.appendTo, k.items = listFuncs(func(r *ordov1.ListResponse) *[]*ordov1.Endpoints { return &r.Endpoints })
	return k
}

var byAlias = func() map[string]*Kind {
	m := map[string]*Kind{}
	for i := range table {
		k := &table[i]
		for _, a := range append([]string{k.Name, k.Plural}, k.Short...) {
			a = strings.ToLower(a)
			if m[a] == k {
				continue
			}
			if m[a] != nil {
				panic("kinds: alias " + a + " used twice")
			}
			m[a] = k
		}
	}
	return m
}()

// Lookup finds a kind by any of its names (StatefulSet, statefulsets, sts),
// case-insensitive.
func Lookup(name string) (*Kind, bool) {
	k, ok := byAlias[strings.ToLower(name)]
	return k, ok
}

// MustLookup is Lookup for names written in code; an unknown one panics.
func MustLookup(name string) *Kind {
	k, ok := Lookup(name)
	if !ok {
		panic("kinds: unknown kind " + name)
	}
	return k
}

// All returns every kind, in the table's order.
func All() []*Kind {
	out := make([]*Kind, len(table))
	for i := range table {
		out[i] = &table[i]
	}
	return out
}

// Stored returns the kinds kept in the store, in the table's order.
func Stored() []*Kind {
	var out []*Kind
	for _, k := range All() {
		if k.Stored {
			out = append(out, k)
		}
	}
	return out
}

// Supported lists the kinds as an error message names them:
// "statefulsets (sts), pods (po), ...".
func Supported() string {
	var parts []string
	for _, k := range All() {
		if len(k.Short) == 0 {
			parts = append(parts, k.Plural)
			continue
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", k.Plural, k.Short[0]))
	}
	return strings.Join(parts, ", ")
}

// ErrUnknown is what Parse returns for a name that is no kind.
type ErrUnknown struct{ Name string }

func (e *ErrUnknown) Error() string {
	return fmt.Sprintf("unknown kind %q (supported: %s)", e.Name, Supported())
}

// Parse is Lookup with an error that lists the supported kinds.
func Parse(name string) (*Kind, error) {
	if k, ok := Lookup(name); ok {
		return k, nil
	}
	return nil, &ErrUnknown{Name: name}
}

// New returns an empty message of the kind.
func (k *Kind) New() proto.Message { return k.new() }

// Key is the store key of an object of the kind: its name, or
// "<namespace>/<name>" for namespaced kinds (the default namespace when ns
// is empty).
func (k *Kind) Key(ns, name string) string {
	if !k.Namespaced {
		return name
	}
	return NamespacedKey(identity.NamespaceOr(ns), name)
}

// NamespacedKey is "<namespace>/<name>".
func NamespacedKey(ns, name string) string { return ns + "/" + name }

// Object wraps a message of the kind in an Object; nil for kinds that do
// not travel as Objects (Pod, Node, Endpoints).
func (k *Kind) Object(m proto.Message) *ordov1.Object {
	if k.toObject == nil {
		return nil
	}
	return k.toObject(m)
}

// FromObject is the message of the kind inside o, or nil.
func (k *Kind) FromObject(o *ordov1.Object) proto.Message {
	if k.ofObject == nil {
		return nil
	}
	return k.ofObject(o)
}

// SetEvent puts m, of this kind, into the event's object field.
func (k *Kind) SetEvent(ev *ordov1.Event, m proto.Message) {
	if k.setEvent != nil {
		k.setEvent(ev, m)
	}
}

// FromEvent is the object of this kind an event carries, or nil.
func (k *Kind) FromEvent(ev *ordov1.Event) proto.Message {
	if k.ofEvent == nil {
		return nil
	}
	return k.ofEvent(ev)
}

// SetGet puts m, of this kind, into a Get response.
func (k *Kind) SetGet(r *ordov1.GetResponse, m proto.Message) {
	if k.setGet != nil {
		k.setGet(r, m)
	}
}

// FromGet is the object of this kind in a Get response, or nil.
func (k *Kind) FromGet(r *ordov1.GetResponse) proto.Message {
	if k.ofGet == nil {
		return nil
	}
	return k.ofGet(r)
}

// Append adds m, of this kind, to a List response.
func (k *Kind) Append(r *ordov1.ListResponse, m proto.Message) { k.appendTo(r, m) }

// Items are the objects of this kind in a List response.
func (k *Kind) Items(r *ordov1.ListResponse) []proto.Message { return k.items(r) }

// OfObject finds the kind of the message inside o and returns both; ok is
// false for an empty Object.
func OfObject(o *ordov1.Object) (*Kind, proto.Message, bool) {
	for _, k := range All() {
		if m := k.FromObject(o); m != nil {
			return k, m, true
		}
	}
	return nil, nil, false
}

// OfEvent finds the kind of the object an event carries and returns both;
// ok is false for an event that carries none.
func OfEvent(ev *ordov1.Event) (*Kind, proto.Message, bool) {
	for _, k := range All() {
		if m := k.FromEvent(ev); m != nil {
			return k, m, true
		}
	}
	return nil, nil, false
}

// OfMessage finds the kind of a message by its type.
func OfMessage(m proto.Message) (*Kind, bool) {
	k, ok := byMessage[m.ProtoReflect().Descriptor().FullName()]
	return k, ok
}

var byMessage = func() map[protoreflect.FullName]*Kind {
	out := map[protoreflect.FullName]*Kind{}
	for i := range table {
		out[table[i].new().ProtoReflect().Descriptor().FullName()] = &table[i]
	}
	return out
}()

// Meta is the metadata of any object message (nil when it has none).
func Meta(m proto.Message) *ordov1.ObjectMeta {
	if g, ok := m.(interface{ GetMetadata() *ordov1.ObjectMeta }); ok {
		return g.GetMetadata()
	}
	return nil
}

// Names returns the names of every kind, sorted, for completion and help.
func Names() []string {
	var out []string
	for _, k := range All() {
		out = append(out, k.Plural)
	}
	sort.Strings(out)
	return out
}
