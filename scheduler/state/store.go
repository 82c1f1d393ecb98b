package state

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// maxEventsPerObject is how many recorded events are kept for one object.
const maxEventsPerObject = 50

// Change is one committed change of an object. Old is nil for an added object,
// New is nil for a deleted one. Both are read-only snapshots.
type Change struct {
	Kind string
	Key  string
	Old  proto.Message
	New  proto.Message
}

// Store mirrors the whole state in memory over a Backend. Objects returned by
// its reads are shared, read-only snapshots: callers that want to change one
// clone it and write the clone through Update.
type Store struct {
	View
	be  Backend
	log *slog.Logger

	// wmu serialises writers and guards the commit hooks; the view only
	// changes while wmu is held, under mu.
	wmu   sync.Mutex
	hooks []func([]Change)

	mu       sync.RWMutex
	objects  map[string]map[string]proto.Message
	pods     podIndex
	revs     map[string]map[string]*ordov1.ControllerRevision // by "<ns>/<set>"
	events   map[string][]storedEvent
	eventSeq map[string]uint64
	epoch    uint64

	hub *hub
}

type storedEvent struct {
	seq uint64
	ev  *ordov1.Event
}

// Open opens the bbolt store at path (see OpenBolt) and loads it.
func Open(path string, log *slog.Logger) (*Store, error) {
	be, err := OpenBolt(path)
	if err != nil {
		return nil, err
	}
	s, err := New(be, log)
	if err != nil {
		be.Close()
		return nil, err
	}
	return s, nil
}

// New loads the state kept by be into a Store.
func New(be Backend, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Store{
		be:       be,
		log:      log,
		objects:  map[string]map[string]proto.Message{},
		pods:     newPodIndex(),
		revs:     map[string]map[string]*ordov1.ControllerRevision{},
		events:   map[string][]storedEvent{},
		eventSeq: map[string]uint64{},
		hub:      newHub(),
	}
	s.View = View{r: s}
	for _, k := range schema {
		s.objects[k.Name] = map[string]proto.Message{}
	}
	byBucket := map[string]*kindSchema{}
	for i := range schema {
		byBucket[schema[i].Bucket] = &schema[i]
	}
	err := be.Load(func(bucket, key string, val []byte) error {
		switch bucket {
		case BucketMeta:
			if key == metaEpoch && len(val) == 8 {
				s.epoch = binary.BigEndian.Uint64(val)
			}
			return nil
		case BucketEvents:
			obj, seq, ok := parseEventStoreKey(key)
			if !ok {
				return nil
			}
			ev := &ordov1.Event{}
			if err := proto.Unmarshal(val, ev); err != nil {
				return fmt.Errorf("decode event %s: %w", obj, err)
			}
			s.events[obj] = append(s.events[obj], storedEvent{seq: seq, ev: ev})
			if seq > s.eventSeq[obj] {
				s.eventSeq[obj] = seq
			}
			return nil
		}
		ks := byBucket[bucket]
		if ks == nil {
			return nil
		}
		m := ks.New()
		if err := proto.Unmarshal(val, m); err != nil {
			return fmt.Errorf("decode %s %s: %w", ks.Name, key, err)
		}
		s.objects[ks.Name][key] = m
		s.index(key, nil, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Keep only the newest events of each object (the backend returns keys in order).
	for obj, evs := range s.events {
		if len(evs) > maxEventsPerObject {
			s.events[obj] = append([]storedEvent(nil), evs[len(evs)-maxEventsPerObject:]...)
		}
	}
	return s, nil
}

// Close ends every watch and closes the backend.
func (s *Store) Close() error {
	s.hub.closeAll()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.be.Close()
}

// CloseWatches ends every open watch (the scheduler is stopping).
func (s *Store) CloseWatches() { s.hub.closeAll() }

// OnCommit registers fn to be called, in commit order and while no other write
// can happen, with the changes of every committed Update. fn must not block
// and must not write to the store.
func (s *Store) OnCommit(fn func([]Change)) {
	s.wmu.Lock()
	s.hooks = append(s.hooks, fn)
	s.wmu.Unlock()
}

// Update runs fn in one transaction. When fn returns nil the changes are
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
	t := newTx(s)
	if err := fn(t); err != nil {
		return err
	}
	if len(t.ops) == 0 {
		return nil
	}
	if err := s.be.Commit(t.ops, sync); err != nil {
		return err
	}
	s.mu.Lock()
	for _, c := range t.changes {
		if c.New == nil {
			delete(s.objects[c.Kind], c.Key)
		} else {
			s.objects[c.Kind][c.Key] = c.New
		}
		s.index(c.Key, c.Old, c.New)
	}
	if t.epoch != 0 {
		s.epoch = t.epoch
	}
	for _, e := range t.events {
		list := append(s.events[e.key], storedEvent{seq: e.seq, ev: e.ev})
		if len(list) > maxEventsPerObject {
			list = append([]storedEvent(nil), list[len(list)-maxEventsPerObject:]...)
		}
		s.events[e.key] = list
		s.eventSeq[e.key] = e.seq
	}
	s.mu.Unlock()
	changes := coalesce(t.changes)
	for _, h := range s.hooks {
		h(changes)
	}
	s.hub.publish(changes, t.events, t.now)
	return nil
}

// index keeps the pod and revision indexes in step with a change. s.mu
// must be held (or the store not shared yet).
func (s *Store) index(key string, old, nw proto.Message) {
	if p, ok := old.(*ordov1.Pod); ok {
		s.pods.remove(key, p)
	}
	if p, ok := nw.(*ordov1.Pod); ok {
		s.pods.add(key, p)
	}
	if r, ok := old.(*ordov1.ControllerRevision); ok {
		k := Key(r.GetMetadata().GetNamespace(), r.GetSetName())
		delete(s.revs[k], key)
		if len(s.revs[k]) == 0 {
			delete(s.revs, k)
		}
	}
	if r, ok := nw.(*ordov1.ControllerRevision); ok {
		k := Key(r.GetMetadata().GetNamespace(), r.GetSetName())
		if s.revs[k] == nil {
			s.revs[k] = map[string]*ordov1.ControllerRevision{}
		}
		s.revs[k][key] = r
	}
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

// Watch subscribes to changes of the given kinds (empty: all) in namespace ns
// (empty: all). When initial is true, the returned slice holds an ADDED event
// for every existing object, consistent with the subscription (no change is
// missed or seen twice). The caller must call cancel when done.
func (s *Store) Watch(kindNames []string, ns string, initial bool) (w *Watcher, snapshot []*ordov1.Event, cancel func()) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	w = &Watcher{ns: ns, ch: make(chan *ordov1.Event, s.hub.buffer)}
	if len(kindNames) > 0 {
		w.kinds = map[string]bool{}
		for _, k := range kindNames {
			w.kinds[k] = true
		}
	}
	s.hub.subscribe(w)
	if initial {
		ts := timestamppb.Now()
		s.mu.RLock()
		for _, k := range kinds.Stored() {
			if w.kinds != nil && !w.kinds[k.Name] {
				continue
			}
			for _, m := range sortedValues(s.objects[k.Name]) {
				ev := &ordov1.Event{Type: ordov1.EventType_EVENT_TYPE_ADDED, Kind: k.Name, Time: ts}
				k.SetEvent(ev, m)
				if w.wants(k.Name, eventNamespace(ev)) {
					snapshot = append(snapshot, ev)
				}
			}
		}
		s.mu.RUnlock()
	}
	return w, snapshot, func() { s.hub.unsubscribe(w) }
}

// ---------------------------------------------------------------- reader

func (s *Store) get(kind, key string) proto.Message {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.objects[kind][key]
}

func (s *Store) keys(kind string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.objects[kind]))
	for k := range s.objects[kind] {
		out = append(out, k)
	}
	return out
}

func (s *Store) values(kind string) []proto.Message {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]proto.Message, 0, len(s.objects[kind]))
	for _, m := range s.objects[kind] {
		out = append(out, m)
	}
	return out
}

func (s *Store) podsBy(set bool, k string) map[string]*ordov1.Pod {
	s.mu.RLock()
	defer s.mu.RUnlock()
	src := s.pods.node[k]
	if set {
		src = s.pods.set[k]
	}
	out := make(map[string]*ordov1.Pod, len(src))
	for key, p := range src {
		out[key] = p
	}
	return out
}

func (s *Store) revisionsOf(setKey string) map[string]*ordov1.ControllerRevision {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]*ordov1.ControllerRevision, len(s.revs[setKey]))
	for k, r := range s.revs[setKey] {
		out[k] = r
	}
	return out
}

// Count returns how many objects of kind are stored.
func (s *Store) Count(kind string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.objects[kind])
}

// CountPodsOnNode returns how many pods are bound to node.
func (s *Store) CountPodsOnNode(node string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.pods.node[node])
}

// Events returns the recorded events of one object (kind and store key),
// oldest first.
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

// eventStoreKey is the backend key of event seq of object obj: seqs sort
// in order after the object's key.
func eventStoreKey(obj string, seq uint64) string { return obj + "\x00" + string(u64(seq)) }

func parseEventStoreKey(k string) (obj string, seq uint64, ok bool) {
	i := len(k) - 9
	if i < 0 || k[i] != 0 {
		return "", 0, false
	}
	return k[:i], binary.BigEndian.Uint64([]byte(k[i+1:])), true
}

// now is the clock of transactions.
var now = time.Now
