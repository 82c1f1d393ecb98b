package scheduler

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ordoproject/ordo/internal/errdefs"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Kinds of stored objects, as users name them.
const (
	KindStatefulSet = "StatefulSet"
	KindService     = "Service"
	KindPod         = "Pod"
	KindNode        = "Node"

	KindPersistentVolume      = "PersistentVolume"
	KindPersistentVolumeClaim = "PersistentVolumeClaim"
	KindStorageClass          = "StorageClass"
)

// maxEventsPerObject is how many recorded events are kept for one object.
const maxEventsPerObject = 50

var (
	bucketSets     = []byte("statefulsets")
	bucketServices = []byte("services")
	bucketPods     = []byte("pods")
	bucketNodes    = []byte("nodes")
	bucketEvents   = []byte("events")
	bucketMeta     = []byte("meta")
	bucketPVs      = []byte("persistentvolumes")
	bucketPVCs     = []byte("persistentvolumeclaims")
	bucketClasses  = []byte("storageclasses")

	metaSchema = []byte("schema")
)

func bucketOf(kind string) []byte {
	switch kind {
	case KindStatefulSet:
		return bucketSets
	case KindService:
		return bucketServices
	case KindPod:
		return bucketPods
	case KindNode:
		return bucketNodes
	case KindPersistentVolume:
		return bucketPVs
	case KindPersistentVolumeClaim:
		return bucketPVCs
	case KindStorageClass:
		return bucketClasses
	}
	panic("store: unknown kind " + kind)
}

func newOf(kind string) proto.Message {
	switch kind {
	case KindStatefulSet:
		return &ordov1.StatefulSet{}
	case KindService:
		return &ordov1.Service{}
	case KindPod:
		return &ordov1.Pod{}
	case KindNode:
		return &ordov1.NodeInfo{}
	case KindPersistentVolume:
		return &ordov1.PersistentVolume{}
	case KindPersistentVolumeClaim:
		return &ordov1.PersistentVolumeClaim{}
	case KindStorageClass:
		return &ordov1.StorageClass{}
	}
	panic("store: unknown kind " + kind)
}

var allKinds = []string{KindStatefulSet, KindService, KindPod, KindNode, KindPersistentVolume, KindPersistentVolumeClaim, KindStorageClass}

// Key is the store key of a namespaced object: "<namespace>/<name>".
func Key(namespace, name string) string { return namespace + "/" + name }

// Change is one committed change of an object. Old is nil for an added object,
// New is nil for a deleted one. Both are read-only snapshots.
type Change struct {
	Kind string
	Key  string
	Old  proto.Message
	New  proto.Message
}

// Store keeps the cluster state in bbolt and mirrors it in memory. Objects
// returned by its read methods are shared, read-only snapshots: callers that
// want to change one clone it and write the clone through Update.
type Store struct {
	db *bolt.DB

	// wmu serialises writers and guards the commit hooks; the cache only
	// changes while wmu is held, under mu.
	wmu   sync.Mutex
	hooks []func([]Change)

	mu      sync.RWMutex
	objects map[string]map[string]proto.Message
	podsBy  podIndex
	events  map[string][]storedEvent

	hub *hub
}

type storedEvent struct {
	seq uint64
	ev  *ordov1.Event
}

// podIndex finds pods by set ("<ns>/<set>") and by node name.
type podIndex struct {
	set  map[string]map[string]*ordov1.Pod
	node map[string]map[string]*ordov1.Pod
}

func (ix *podIndex) add(key string, p *ordov1.Pod) {
	if p.GetSetName() != "" {
		k := Key(p.GetMetadata().GetNamespace(), p.GetSetName())
		if ix.set[k] == nil {
			ix.set[k] = map[string]*ordov1.Pod{}
		}
		ix.set[k][key] = p
	}
	if p.GetNodeName() != "" {
		if ix.node[p.GetNodeName()] == nil {
			ix.node[p.GetNodeName()] = map[string]*ordov1.Pod{}
		}
		ix.node[p.GetNodeName()][key] = p
	}
}

func (ix *podIndex) remove(key string, p *ordov1.Pod) {
	if p.GetSetName() != "" {
		k := Key(p.GetMetadata().GetNamespace(), p.GetSetName())
		delete(ix.set[k], key)
		if len(ix.set[k]) == 0 {
			delete(ix.set, k)
		}
	}
	if p.GetNodeName() != "" {
		delete(ix.node[p.GetNodeName()], key)
		if len(ix.node[p.GetNodeName()]) == 0 {
			delete(ix.node, p.GetNodeName())
		}
	}
}

// OpenStore opens (creating it if needed) the bbolt file at path and loads it.
func OpenStore(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open %s: locked by another process: %w", path, errdefs.ErrUnavailable)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{
		db:      db,
		objects: map[string]map[string]proto.Message{},
		podsBy:  podIndex{set: map[string]map[string]*ordov1.Pod{}, node: map[string]map[string]*ordov1.Pod{}},
		events:  map[string][]storedEvent{},
		hub:     newHub(),
	}
	if err := s.load(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) load() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketSets, bucketServices, bucketPods, bucketNodes, bucketEvents, bucketMeta, bucketRevisions, bucketPVs, bucketPVCs, bucketClasses} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		if meta.Get(metaSchema) == nil {
			if err := meta.Put(metaSchema, []byte("1")); err != nil {
				return err
			}
		}
		for _, kind := range allKinds {
			m := map[string]proto.Message{}
			s.objects[kind] = m
			err := tx.Bucket(bucketOf(kind)).ForEach(func(k, v []byte) error {
				msg := newOf(kind)
				if err := proto.Unmarshal(v, msg); err != nil {
					return fmt.Errorf("decode %s %s: %w", kind, k, err)
				}
				m[string(k)] = msg
				if p, ok := msg.(*ordov1.Pod); ok {
					s.podsBy.add(string(k), p)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return tx.Bucket(bucketEvents).ForEach(func(k, v []byte) error {
			if v != nil {
				return nil
			}
			obj := string(k)
			return tx.Bucket(bucketEvents).Bucket(k).ForEach(func(sk, sv []byte) error {
				ev := &ordov1.Event{}
				if err := proto.Unmarshal(sv, ev); err != nil {
					return fmt.Errorf("decode event %s: %w", obj, err)
				}
				s.events[obj] = append(s.events[obj], storedEvent{seq: binary.BigEndian.Uint64(sk), ev: ev})
				return nil
			})
		})
	})
}

// Close syncs and closes the database and ends every watch.
func (s *Store) Close() error {
	s.hub.closeAll()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.db.Sync(); err != nil {
		s.db.Close()
		return fmt.Errorf("sync store: %w", err)
	}
	return s.db.Close()
}

// OnCommit registers fn to be called, in commit order and while no other write
// can happen, with the changes of every committed Update. fn must not block
// and must not write to the store.
func (s *Store) OnCommit(fn func([]Change)) {
	s.wmu.Lock()
	s.hooks = append(s.hooks, fn)
	s.wmu.Unlock()
}

// ---------------------------------------------------------------- reads

func (s *Store) get(kind, key string) proto.Message {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.objects[kind][key]
}

// StatefulSet returns the stored set or nil.
func (s *Store) StatefulSet(ns, name string) *ordov1.StatefulSet {
	m, _ := s.get(KindStatefulSet, Key(ns, name)).(*ordov1.StatefulSet)
	return m
}

// Service returns the stored service or nil.
func (s *Store) Service(ns, name string) *ordov1.Service {
	m, _ := s.get(KindService, Key(ns, name)).(*ordov1.Service)
	return m
}

// Pod returns the stored pod or nil.
func (s *Store) Pod(ns, name string) *ordov1.Pod {
	m, _ := s.get(KindPod, Key(ns, name)).(*ordov1.Pod)
	return m
}

// Node returns the stored node or nil.
func (s *Store) Node(name string) *ordov1.NodeInfo {
	m, _ := s.get(KindNode, name).(*ordov1.NodeInfo)
	return m
}

func sortedValues[T proto.Message](m map[string]T) []T {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]T, 0, len(keys))
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}

func listOf[T proto.Message](s *Store, kind string) []T {
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := make([]string, 0, len(s.objects[kind]))
	for k := range s.objects[kind] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]T, 0, len(keys))
	for _, k := range keys {
		out = append(out, s.objects[kind][k].(T))
	}
	return out
}

// StatefulSets returns every set, sorted by key.
func (s *Store) StatefulSets() []*ordov1.StatefulSet {
	return listOf[*ordov1.StatefulSet](s, KindStatefulSet)
}

// Services returns every service, sorted by key.
func (s *Store) Services() []*ordov1.Service { return listOf[*ordov1.Service](s, KindService) }

// Pods returns every pod, sorted by key.
func (s *Store) Pods() []*ordov1.Pod { return listOf[*ordov1.Pod](s, KindPod) }

// Nodes returns every node, sorted by name.
func (s *Store) Nodes() []*ordov1.NodeInfo { return listOf[*ordov1.NodeInfo](s, KindNode) }

// podsUnsorted returns every pod in no particular order (cheaper than Pods).
func (s *Store) podsUnsorted() []*ordov1.Pod {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*ordov1.Pod, 0, len(s.objects[KindPod]))
	for _, m := range s.objects[KindPod] {
		out = append(out, m.(*ordov1.Pod))
	}
	return out
}

// podsOfSetUnsorted is PodsOfSet in no particular order.
func (s *Store) podsOfSetUnsorted(ns, set string) []*ordov1.Pod {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := s.podsBy.set[Key(ns, set)]
	out := make([]*ordov1.Pod, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	return out
}

// PodsOfSet returns the pods whose set_name is set in namespace ns, sorted by key.
func (s *Store) PodsOfSet(ns, set string) []*ordov1.Pod {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return sortedValues(s.podsBy.set[Key(ns, set)])
}

// PodsOnNode returns the pods bound to node, sorted by key.
func (s *Store) PodsOnNode(node string) []*ordov1.Pod {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return sortedValues(s.podsBy.node[node])
}

// CountPodsOnNode returns how many pods are bound to node.
func (s *Store) CountPodsOnNode(node string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.podsBy.node[node])
}

// Events returns the recorded events of one object, oldest first.
func (s *Store) Events(kind, key string) []*ordov1.Event {
	s.mu.RLock()
	defer s.mu.RUnlock()
	evs := s.events[eventKey(kind, key)]
	out := make([]*ordov1.Event, len(evs))
	for i, e := range evs {
		out[i] = e.ev
	}
	return out
}

func eventKey(kind, key string) string { return kind + "/" + key }

// ---------------------------------------------------------------- writes

// Tx is one write transaction. Its reads see its own writes.
type Tx struct {
	s       *Store
	btx     *bolt.Tx
	now     time.Time
	pending map[string]map[string]proto.Message // nil value: deleted
	changes []Change
	events  []pendingEvent
}

type pendingEvent struct {
	key string
	seq uint64
	ev  *ordov1.Event
}

// Update runs fn in one bbolt transaction. When fn returns nil the changes are
// committed and synced to disk, applied to the in-memory view, handed to the
// commit hooks and published to watchers; otherwise nothing is changed.
func (s *Store) Update(fn func(tx *Tx) error) error { return s.update(true, fn) }

// UpdateUnsynced is Update without waiting for the disk: the changes become
// durable with the next synced Update (each one flushes all before it) or
// Close. It is for what agents report again after a restart anyway (pod
// status): a crash can only lose such reports, never a pod or an epoch.
func (s *Store) UpdateUnsynced(fn func(tx *Tx) error) error { return s.update(false, fn) }

func (s *Store) update(sync bool, fn func(tx *Tx) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	t := &Tx{s: s, now: time.Now(), pending: map[string]map[string]proto.Message{}}
	// Writers are serialised by wmu, so the flag applies to this commit only.
	s.db.NoSync = !sync
	err := s.db.Update(func(btx *bolt.Tx) error {
		t.btx = btx
		return fn(t)
	})
	s.db.NoSync = false
	if err != nil {
		return err
	}
	if len(t.changes) == 0 && len(t.events) == 0 {
		return nil
	}
	s.mu.Lock()
	for _, c := range t.changes {
		if p, ok := c.Old.(*ordov1.Pod); ok {
			s.podsBy.remove(c.Key, p)
		}
		if c.New == nil {
			delete(s.objects[c.Kind], c.Key)
		} else {
			s.objects[c.Kind][c.Key] = c.New
			if p, ok := c.New.(*ordov1.Pod); ok {
				s.podsBy.add(c.Key, p)
			}
		}
	}
	for _, e := range t.events {
		list := append(s.events[e.key], storedEvent{seq: e.seq, ev: e.ev})
		if len(list) > maxEventsPerObject {
			list = append([]storedEvent(nil), list[len(list)-maxEventsPerObject:]...)
		}
		s.events[e.key] = list
	}
	s.mu.Unlock()
	changes := coalesce(t.changes)
	for _, h := range s.hooks {
		h(changes)
	}
	s.hub.publish(changes, t.events, t.now)
	return nil
}

// coalesce merges several changes of one object within a transaction into one.
func coalesce(cs []Change) []Change {
	if len(cs) < 2 {
		return cs
	}
	idx := map[string]int{}
	out := cs[:0:0]
	for _, c := range cs {
		k := c.Kind + "/" + c.Key
		if i, ok := idx[k]; ok {
			out[i].New = c.New
			continue
		}
		idx[k] = len(out)
		out = append(out, c)
	}
	res := out[:0]
	for _, c := range out {
		if c.Old == nil && c.New == nil {
			continue
		}
		res = append(res, c)
	}
	return res
}

// Now is the time the transaction started; use it for timestamps it writes.
func (t *Tx) Now() time.Time { return t.now }

func (t *Tx) get(kind, key string) proto.Message {
	if m, ok := t.pending[kind][key]; ok {
		return m
	}
	return t.s.get(kind, key)
}

func (t *Tx) put(kind, key string, m proto.Message) error {
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", kind, key, err)
	}
	if err := t.btx.Bucket(bucketOf(kind)).Put([]byte(key), data); err != nil {
		return fmt.Errorf("store %s %s: %w", kind, key, err)
	}
	old := t.get(kind, key)
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
	if err := t.btx.Bucket(bucketOf(kind)).Delete([]byte(key)); err != nil {
		return fmt.Errorf("delete %s %s: %w", kind, key, err)
	}
	if t.pending[kind] == nil {
		t.pending[kind] = map[string]proto.Message{}
	}
	t.pending[kind][key] = nil
	t.changes = append(t.changes, Change{Kind: kind, Key: key, Old: old})
	return nil
}

// getTyped returns the object in the transaction's view, or nil.
func (t *Tx) StatefulSet(ns, name string) *ordov1.StatefulSet {
	m, _ := t.get(KindStatefulSet, Key(ns, name)).(*ordov1.StatefulSet)
	return m
}

// Service returns the service in the transaction's view, or nil.
func (t *Tx) Service(ns, name string) *ordov1.Service {
	m, _ := t.get(KindService, Key(ns, name)).(*ordov1.Service)
	return m
}

// Pod returns the pod in the transaction's view, or nil.
func (t *Tx) Pod(ns, name string) *ordov1.Pod {
	m, _ := t.get(KindPod, Key(ns, name)).(*ordov1.Pod)
	return m
}

// Node returns the node in the transaction's view, or nil.
func (t *Tx) Node(name string) *ordov1.NodeInfo {
	m, _ := t.get(KindNode, name).(*ordov1.NodeInfo)
	return m
}

// stampMeta fills uid, creation time and generation of meta from old (nil for
// a new object). The generation increases only when specChanged.
func (t *Tx) stampMeta(meta, old *ordov1.ObjectMeta, specChanged bool) {
	if old == nil {
		meta.Uid = newUID()
		meta.CreationTime = timestamppb.New(t.now)
		meta.Generation = 1
		return
	}
	meta.Uid = old.GetUid()
	meta.CreationTime = old.GetCreationTime()
	meta.Generation = old.GetGeneration()
	if specChanged {
		meta.Generation++
	}
}

// PutStatefulSet stores a clone of set. Uid and creation time come from the
// stored object; the generation is bumped only when the spec changed.
func (t *Tx) PutStatefulSet(set *ordov1.StatefulSet) (*ordov1.StatefulSet, error) {
	set = proto.Clone(set).(*ordov1.StatefulSet)
	if set.Metadata == nil {
		set.Metadata = &ordov1.ObjectMeta{}
	}
	old := t.StatefulSet(set.Metadata.Namespace, set.Metadata.Name)
	t.stampMeta(set.Metadata, old.GetMetadata(), old == nil || !proto.Equal(old.GetSpec(), set.GetSpec()))
	return set, t.put(KindStatefulSet, Key(set.Metadata.Namespace, set.Metadata.Name), set)
}

// PutService stores a clone of svc (uid, creation time, generation as for sets).
func (t *Tx) PutService(svc *ordov1.Service) (*ordov1.Service, error) {
	svc = proto.Clone(svc).(*ordov1.Service)
	if svc.Metadata == nil {
		svc.Metadata = &ordov1.ObjectMeta{}
	}
	old := t.Service(svc.Metadata.Namespace, svc.Metadata.Name)
	t.stampMeta(svc.Metadata, old.GetMetadata(), old == nil || !proto.Equal(old.GetSpec(), svc.GetSpec()))
	return svc, t.put(KindService, Key(svc.Metadata.Namespace, svc.Metadata.Name), svc)
}

// PutPod stores a clone of pod (uid, creation time, generation as for sets).
func (t *Tx) PutPod(pod *ordov1.Pod) (*ordov1.Pod, error) {
	pod = proto.Clone(pod).(*ordov1.Pod)
	if pod.Metadata == nil {
		pod.Metadata = &ordov1.ObjectMeta{}
	}
	old := t.Pod(pod.Metadata.Namespace, pod.Metadata.Name)
	t.stampMeta(pod.Metadata, old.GetMetadata(), old == nil || !proto.Equal(old.GetSpec(), pod.GetSpec()))
	return pod, t.put(KindPod, Key(pod.Metadata.Namespace, pod.Metadata.Name), pod)
}

// PutNode stores a clone of node.
func (t *Tx) PutNode(node *ordov1.NodeInfo) (*ordov1.NodeInfo, error) {
	node = proto.Clone(node).(*ordov1.NodeInfo)
	if node.Metadata == nil {
		node.Metadata = &ordov1.ObjectMeta{}
	}
	node.Metadata.Namespace = ""
	old := t.Node(node.Metadata.Name)
	t.stampMeta(node.Metadata, old.GetMetadata(), false)
	return node, t.put(KindNode, node.Metadata.Name, node)
}

// DeleteStatefulSet removes the set record.
func (t *Tx) DeleteStatefulSet(ns, name string) error { return t.del(KindStatefulSet, Key(ns, name)) }

// DeleteService removes the service record.
func (t *Tx) DeleteService(ns, name string) error { return t.del(KindService, Key(ns, name)) }

// DeletePod removes the pod record.
func (t *Tx) DeletePod(ns, name string) error { return t.del(KindPod, Key(ns, name)) }

// NextEpoch returns the next pod epoch from a persistent sequence: every call,
// across restarts, returns a higher number.
func (t *Tx) NextEpoch() (uint64, error) {
	n, err := t.btx.Bucket(bucketMeta).NextSequence()
	if err != nil {
		return 0, fmt.Errorf("next epoch: %w", err)
	}
	return n, nil
}

// Record stores an event about an object (kind, namespace, name) and streams it
// to watchers once the transaction commits.
func (t *Tx) Record(kind, ns, name, reason, format string, args ...any) error {
	key := name
	if kind != KindNode && kind != KindPersistentVolume && kind != KindStorageClass {
		key = Key(ns, name)
	}
	ev := &ordov1.Event{
		Kind:    kind,
		Time:    timestamppb.New(t.now),
		Reason:  reason,
		Message: fmt.Sprintf(format, args...),
	}
	ref := &ordov1.ObjectMeta{Name: name, Namespace: ns}
	switch kind {
	case KindStatefulSet:
		ev.Object = &ordov1.Object{Kind: &ordov1.Object_StatefulSet{StatefulSet: &ordov1.StatefulSet{Metadata: ref}}}
	case KindService:
		ev.Object = &ordov1.Object{Kind: &ordov1.Object_Service{Service: &ordov1.Service{Metadata: ref}}}
	case KindPod:
		ev.Pod = &ordov1.Pod{Metadata: ref}
	case KindNode:
		ev.Node = &ordov1.NodeInfo{Metadata: ref}
	case KindPersistentVolume:
		ev.Object = &ordov1.Object{Kind: &ordov1.Object_PersistentVolume{PersistentVolume: &ordov1.PersistentVolume{Metadata: ref}}}
	case KindPersistentVolumeClaim:
		ev.Object = &ordov1.Object{Kind: &ordov1.Object_PersistentVolumeClaim{PersistentVolumeClaim: &ordov1.PersistentVolumeClaim{Metadata: ref}}}
	}
	ek := eventKey(kind, key)
	eb, err := t.btx.Bucket(bucketEvents).CreateBucketIfNotExists([]byte(ek))
	if err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	seq, err := eb.NextSequence()
	if err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(ev)
	if err != nil {
		return err
	}
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	if err := eb.Put(k[:], data); err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	// Trim to the newest maxEventsPerObject (committed ones plus this transaction's).
	t.s.mu.RLock()
	have := len(t.s.events[ek])
	var oldest []uint64
	for _, e := range t.s.events[ek] {
		oldest = append(oldest, e.seq)
	}
	t.s.mu.RUnlock()
	for _, e := range t.events {
		if e.key == ek {
			have++
			oldest = append(oldest, e.seq)
		}
	}
	for i := 0; have+1 > maxEventsPerObject && i < len(oldest); i++ {
		binary.BigEndian.PutUint64(k[:], oldest[i])
		if err := eb.Delete(k[:]); err != nil {
			return fmt.Errorf("trim events: %w", err)
		}
		have--
	}
	t.events = append(t.events, pendingEvent{key: ek, seq: seq, ev: ev})
	return nil
}

func newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
