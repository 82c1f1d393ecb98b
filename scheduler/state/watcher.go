package state

import (
	"sync"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Watcher is one subscription to committed changes and recorded events.
type Watcher struct {
	kinds map[string]bool // empty: all
	ns    string
	ch    chan *ordov1.Event
	err   error // set before ch is closed
	once  sync.Once
}

// Events delivers the events; it is closed when the watch ends (see Err).
func (w *Watcher) Events() <-chan *ordov1.Event { return w.ch }

// Err says why the watch ended, once Events is closed.
func (w *Watcher) Err() error { return w.err }

func (w *Watcher) close(err error) {
	w.once.Do(func() {
		w.err = err
		close(w.ch)
	})
}

func (w *Watcher) wants(kind, ns string) bool {
	if w.kinds != nil && !w.kinds[kind] {
		return false
	}
	if w.ns == "" {
		return true
	}
	k, ok := kinds.Lookup(kind)
	return (ok && !k.Namespaced) || w.ns == ns
}
