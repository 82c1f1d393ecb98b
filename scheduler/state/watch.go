package state

import (
	"errors"
	"sort"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ordoproject/ordo/internal/kinds"
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
	subs   map[*Watcher]struct{}
	buffer int
}

func newHub() *hub { return &hub{subs: map[*Watcher]struct{}{}, buffer: watchBuffer} }

func (h *hub) subscribe(w *Watcher) {
	h.mu.Lock()
	h.subs[w] = struct{}{}
	h.mu.Unlock()
}

func (h *hub) unsubscribe(w *Watcher) {
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

func (h *hub) publish(changes []Change, recorded []pendingEvent, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) == 0 {
		return
	}
	ts := timestamppb.New(now)
	for _, c := range changes {
		ev := changeEvent(c, ts)
		if ev == nil {
			continue
		}
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

func (h *hub) send(w *Watcher, ev *ordov1.Event) {
	select {
	case w.ch <- ev:
	default:
		w.close(ErrWatcherTooSlow)
		delete(h.subs, w)
	}
}

// changeEvent turns a committed change into a watch event carrying the
// object; nil for kinds that are not served (revision history).
func changeEvent(c Change, ts *timestamppb.Timestamp) *ordov1.Event {
	k, ok := kinds.Lookup(c.Kind)
	if !ok || !k.Stored {
		return nil
	}
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
	k.SetEvent(ev, obj)
	return ev
}

// eventNamespace is the namespace of the object an event is about ("" for
// cluster-wide kinds).
func eventNamespace(ev *ordov1.Event) string {
	k, ok := kinds.Lookup(ev.GetKind())
	if !ok || !k.Namespaced {
		return ""
	}
	if m := k.FromEvent(ev); m != nil {
		return kinds.Meta(m).GetNamespace()
	}
	return ""
}

func sortedValues(m map[string]proto.Message) []proto.Message {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]proto.Message, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}
