package scheduler

import (
	"errors"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// watchBuffer is how many events a watcher may fall behind before it is dropped.
const watchBuffer = 4096

// ErrWatcherTooSlow ends a watch whose reader does not keep up.
var ErrWatcherTooSlow = errors.New("watch: client too slow, events dropped; watch again")

// hub fans committed changes out to watchers. Publishing never blocks: a
// watcher whose buffer is full is closed with ErrWatcherTooSlow.
type hub struct {
	mu     sync.Mutex
	subs   map[*watcher]struct{}
	buffer int
}

type watcher struct {
	kinds map[string]bool // empty: all
	ns    string
	ch    chan *ordov1.Event
	err   error // set before ch is closed
	once  sync.Once
}

func newHub() *hub { return &hub{subs: map[*watcher]struct{}{}, buffer: watchBuffer} }

func (h *hub) subscribe(kinds []string, ns string) *watcher {
	w := &watcher{ns: ns, ch: make(chan *ordov1.Event, h.buffer)}
	if len(kinds) > 0 {
		w.kinds = map[string]bool{}
		for _, k := range kinds {
			w.kinds[k] = true
		}
	}
	h.mu.Lock()
	h.subs[w] = struct{}{}
	h.mu.Unlock()
	return w
}

func (h *hub) unsubscribe(w *watcher) {
	h.mu.Lock()
	delete(h.subs, w)
	h.mu.Unlock()
}

func (h *hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.subs {
		w.close(errors.New("scheduler shutting down"))
		delete(h.subs, w)
	}
}

func (w *watcher) close(err error) {
	w.once.Do(func() {
		w.err = err
		close(w.ch)
	})
}

func (w *watcher) wants(kind, ns string) bool {
	if w.kinds != nil && !w.kinds[kind] {
		return false
	}
	return w.ns == "" || kind == KindNode || kind == KindPersistentVolume || kind == KindStorageClass || w.ns == ns
}

func (h *hub) publish(changes []Change, recorded []pendingEvent, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) == 0 {
		return
	}
	ts := timestamppb.New(now)
	for _, c := range changes {
		ev := changeEvent(c, ts)
		ns := eventNamespace(ev)
		for w := range h.subs {
			if w.wants(c.Kind, ns) {
				h.send(w, ev)
			}
		}
	}
	for _, r := range recorded {
		ns := eventNamespace(r.ev)
		for w := range h.subs {
			if w.wants(r.ev.Kind, ns) {
				h.send(w, r.ev)
			}
		}
	}
}

func (h *hub) send(w *watcher, ev *ordov1.Event) {
	select {
	case w.ch <- ev:
	default:
		w.close(ErrWatcherTooSlow)
		delete(h.subs, w)
	}
}

// changeEvent turns a committed change into a watch event carrying the object.
func changeEvent(c Change, ts *timestamppb.Timestamp) *ordov1.Event {
	ev := &ordov1.Event{Kind: c.Kind, Time: ts}
	obj := c.New
	switch {
	case c.Old == nil:
		ev.Type = ordov1.EventType_EVENT_TYPE_ADDED
	case c.New == nil:
		ev.Type = ordov1.EventType_EVENT_TYPE_DELETED
		obj = c.Old
	default:
		ev.Type = ordov1.EventType_EVENT_TYPE_MODIFIED
	}
	setEventObject(ev, obj)
	return ev
}

func setEventObject(ev *ordov1.Event, obj proto.Message) {
	switch o := obj.(type) {
	case *ordov1.StatefulSet:
		ev.Object = &ordov1.Object{Kind: &ordov1.Object_StatefulSet{StatefulSet: o}}
	case *ordov1.Service:
		ev.Object = &ordov1.Object{Kind: &ordov1.Object_Service{Service: o}}
	case *ordov1.Pod:
		ev.Pod = o
	case *ordov1.NodeInfo:
		ev.Node = o
	case *ordov1.PersistentVolume:
		ev.Object = &ordov1.Object{Kind: &ordov1.Object_PersistentVolume{PersistentVolume: o}}
	case *ordov1.PersistentVolumeClaim:
		ev.Object = &ordov1.Object{Kind: &ordov1.Object_PersistentVolumeClaim{PersistentVolumeClaim: o}}
	case *ordov1.StorageClass:
		ev.Object = &ordov1.Object{Kind: &ordov1.Object_StorageClass{StorageClass: o}}
	}
}

func eventNamespace(ev *ordov1.Event) string {
	switch {
	case ev.Pod != nil:
		return ev.Pod.GetMetadata().GetNamespace()
	case ev.Object.GetStatefulSet() != nil:
		return ev.Object.GetStatefulSet().GetMetadata().GetNamespace()
	case ev.Object.GetService() != nil:
		return ev.Object.GetService().GetMetadata().GetNamespace()
	case ev.Object.GetPersistentVolumeClaim() != nil:
		return ev.Object.GetPersistentVolumeClaim().GetMetadata().GetNamespace()
	}
	return ""
}

// Watch subscribes to changes of the given kinds (empty: all) in namespace ns
// (empty: all). When initial is true, the returned slice holds an ADDED event
// for every existing object, consistent with the subscription (no change is
// missed or seen twice). The caller must call cancel when done.
func (s *Store) Watch(kinds []string, ns string, initial bool) (w *watcher, snapshot []*ordov1.Event, cancel func()) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	w = s.hub.subscribe(kinds, ns)
	if initial {
		ts := timestamppb.Now()
		s.mu.RLock()
		for _, kind := range allKinds {
			if w.kinds != nil && !w.kinds[kind] {
				continue
			}
			for _, m := range sortedValues(s.objects[kind]) {
				ev := &ordov1.Event{Type: ordov1.EventType_EVENT_TYPE_ADDED, Kind: kind, Time: ts}
				setEventObject(ev, m)
				if w.wants(kind, eventNamespace(ev)) {
					snapshot = append(snapshot, ev)
				}
			}
		}
		s.mu.RUnlock()
	}
	return w, snapshot, func() { s.hub.unsubscribe(w) }
}
