package state

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Tx is one write transaction. Its reads (the embedded View) see its own
// writes; nothing reaches the backend or the Store's view until the
// function given to Update returns nil.
type Tx struct {
	View
	s   *Store
	now time.Time
	log *slog.Logger

	pending map[string]map[string]proto.Message // nil value: deleted
	changes []Change
	ops     []Op
	events  []pendingEvent
	seqs    map[string]uint64 // event sequences handed out in this transaction
	epoch   uint64            // the last epoch handed out in this transaction, 0 if none
}

type pendingEvent struct {
	key string
	seq uint64
	ev  *ordov1.Event
}

func newTx(s *Store) *Tx {
	t := &Tx{s: s, now: now(), log: s.log, pending: map[string]map[string]proto.Message{}}
	t.View = View{r: t}
	return t
}

// Now is the time the transaction started; use it for timestamps it writes.
func (t *Tx) Now() time.Time { return t.now }

// Log is the store's logger, for transitions that log what they did.
func (t *Tx) Log() *slog.Logger { return t.log }

// ---------------------------------------------------------------- reader

func (t *Tx) get(kind, key string) proto.Message {
	if m, ok := t.pending[kind][key]; ok {
		return m
	}
	return t.s.get(kind, key)
}

func (t *Tx) keys(kind string) []string {
	base := t.s.keys(kind)
	if len(t.pending[kind]) == 0 {
		return base
	}
	seen := make(map[string]bool, len(base))
	for _, k := range base {
		seen[k] = true
	}
	for k := range t.pending[kind] {
		if !seen[k] {
			base = append(base, k)
		}
	}
	return base
}

func (t *Tx) values(kind string) []proto.Message {
	if len(t.pending[kind]) == 0 {
		return t.s.values(kind)
	}
	var out []proto.Message
	for _, k := range t.keys(kind) {
		if m := t.get(kind, k); m != nil {
			out = append(out, m)
		}
	}
	return out
}

// podsBy overlays the transaction's pod writes on the committed index.
func (t *Tx) podsBy(set bool, k string) map[string]*ordov1.Pod {
	out := t.s.podsBy(set, k)
	for key, m := range t.pending[kinds.Pod] {
		delete(out, key)
		p, ok := m.(*ordov1.Pod)
		if !ok || p == nil {
			continue
		}
		if (set && setKeyOf(p) == k) || (!set && p.GetNodeName() == k) {
			out[key] = p
		}
	}
	return out
}

func (t *Tx) revisionsOf(setKey string) map[string]*ordov1.ControllerRevision {
	out := t.s.revisionsOf(setKey)
	for key, m := range t.pending[KindControllerRevision] {
		delete(out, key)
		if r, ok := m.(*ordov1.ControllerRevision); ok && r != nil &&
			Key(r.GetMetadata().GetNamespace(), r.GetSetName()) == setKey {
			out[key] = r
		}
	}
	return out
}

// ---------------------------------------------------------------- writes

func marshal(m proto.Message) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

func (t *Tx) put(kind, key string, m proto.Message) error {
	data, err := marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", kind, key, err)
	}
	old := t.get(kind, key)
	t.ops = append(t.ops, Op{Bucket: schemaOf(kind).Bucket, Key: key, Val: data})
	if t.pending[kind] == nil {
		t.pending[kind] = map[string]proto.Message{}
	}
	t.pending[kind][key] = m
	t.changes = append(t.changes, Change{Kind: kind, Key: key, Old: old, New: m})
	return nil
}

func (t *Tx) del(kind, key string) error {
	old := t.get(kind, key)
	if old == nil {
		return nil
	}
	t.ops = append(t.ops, Op{Bucket: schemaOf(kind).Bucket, Key: key})
	if t.pending[kind] == nil {
		t.pending[kind] = map[string]proto.Message{}
	}
	t.pending[kind][key] = nil
	t.changes = append(t.changes, Change{Kind: kind, Key: key, Old: old})
	return nil
}

// Put stores a clone of m, an object of any stored kind, under its
// metadata's namespace and name. Uid and creation time come from the stored
// object; the generation is bumped when the spec changed. It returns the
// stored clone.
func (t *Tx) Put(m proto.Message) (proto.Message, error) {
	k, ok := kinds.OfMessage(m)
	if !ok || !k.Stored {
		return nil, fmt.Errorf("store: %T is not a stored kind", m)
	}
	m = proto.Clone(m)
	mr := m.ProtoReflect()
	f := mr.Descriptor().Fields().ByName("metadata")
	if !mr.Has(f) {
		mr.Set(f, mr.NewField(f))
	}
	meta := kinds.Meta(m)
	if !k.Namespaced {
		meta.Namespace = ""
	}
	key := keyOf(k.Name, meta.GetNamespace(), meta.GetName())
	old := t.get(k.Name, key)
	changed := true
	if old != nil {
		changed = !proto.Equal(specOf(old), specOf(m))
	}
	t.stampMeta(meta, kinds.Meta(old), changed, k.Name == kinds.Node)
	return m, t.put(k.Name, key, m)
}

// specOf is the spec of an object, or nil for kinds without one; classes,
// which have no spec, never bump their generation.
func specOf(m proto.Message) proto.Message {
	if m == nil {
		return nil
	}
	mr := m.ProtoReflect()
	f := mr.Descriptor().Fields().ByName("spec")
	if f == nil || !mr.Has(f) {
		return nil
	}
	return mr.Get(f).Message().Interface()
}

// stampMeta fills uid, creation time and generation of meta from old (nil for
// a new object). The generation increases only when specChanged (never for
// nodes).
func (t *Tx) stampMeta(meta, old *ordov1.ObjectMeta, specChanged, fixed bool) {
	if old == nil {
		meta.Uid = NewUID()
		meta.CreationTime = timestamppb.New(t.now)
		meta.Generation = 1
		return
	}
	meta.Uid = old.GetUid()
	meta.CreationTime = old.GetCreationTime()
	meta.Generation = old.GetGeneration()
	if specChanged && !fixed {
		meta.Generation++
	}
}

// Delete removes an object of kind; a missing one is no error.
func (t *Tx) Delete(kind, ns, name string) error { return t.del(kind, keyOf(kind, ns, name)) }

// PutStatefulSet stores a clone of set (see Put).
func (t *Tx) PutStatefulSet(set *ordov1.StatefulSet) (*ordov1.StatefulSet, error) {
	return putTyped(t, set)
}

// PutService stores a clone of svc (see Put).
func (t *Tx) PutService(svc *ordov1.Service) (*ordov1.Service, error) { return putTyped(t, svc) }

// PutPod stores a clone of pod (see Put).
func (t *Tx) PutPod(pod *ordov1.Pod) (*ordov1.Pod, error) { return putTyped(t, pod) }

// PutNode stores a clone of node (see Put).
func (t *Tx) PutNode(node *ordov1.NodeInfo) (*ordov1.NodeInfo, error) { return putTyped(t, node) }

// PutPersistentVolume stores a clone of pv (see Put).
func (t *Tx) PutPersistentVolume(pv *ordov1.PersistentVolume) (*ordov1.PersistentVolume, error) {
	return putTyped(t, pv)
}

// PutPersistentVolumeClaim stores a clone of c (see Put).
func (t *Tx) PutPersistentVolumeClaim(c *ordov1.PersistentVolumeClaim) (*ordov1.PersistentVolumeClaim, error) {
	return putTyped(t, c)
}

// PutStorageClass stores a clone of sc (see Put).
func (t *Tx) PutStorageClass(sc *ordov1.StorageClass) (*ordov1.StorageClass, error) {
	return putTyped(t, sc)
}

func putTyped[T proto.Message](t *Tx, m T) (T, error) {
	out, err := t.Put(m)
	if err != nil {
		var zero T
		return zero, err
	}
	return out.(T), nil
}

// NextEpoch returns the next pod epoch from a persistent sequence: every call,
// across restarts, returns a higher number.
func (t *Tx) NextEpoch() (uint64, error) {
	if t.epoch == 0 {
		t.s.mu.RLock()
		t.epoch = t.s.epoch
		t.s.mu.RUnlock()
	}
	t.epoch++
	t.ops = append(t.ops, Op{Bucket: BucketMeta, Key: metaEpoch, Val: u64(t.epoch)})
	return t.epoch, nil
}

// NewUID returns a random version-4 UUID.
func NewUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
