// Package loop is the controller half of the scheduler's loop:
//
//	store change → queue(set key) → controller.Reconcile → actions → one transaction
//
// It is woken by commits (sets, their pods, nodes, storage) and by the
// controller's RequeueAfter timers; it never polls. One worker handles one
// set at a time: it reads the state, asks the pure controller what the set
// needs (placement and volume choice included), and commits the result
// through state.Tx transitions in one transaction. It decides nothing
// itself and may not touch storage or the other services.
package loop

import (
	"context"
	"log/slog"
	"maps"
	"runtime"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/state"
)

// Loop is the reconcile queue and its worker.
type Loop struct {
	store *state.Store
	log   *slog.Logger

	mu      sync.Mutex
	queued  map[string]bool
	order   []string
	busy    bool
	wake    chan struct{}
	idle    *sync.Cond
	timers  map[string]*time.Timer
	stopped bool
}

// New returns the loop of store, woken by its commits.
func New(store *state.Store, log *slog.Logger) *Loop {
	l := &Loop{
		store:  store,
		log:    log,
		queued: map[string]bool{},
		wake:   make(chan struct{}, 1),
		timers: map[string]*time.Timer{},
	}
	l.idle = sync.NewCond(&l.mu)
	store.OnCommit(l.onCommit)
	return l
}

// onCommit maps committed changes to the set keys they concern.
func (l *Loop) onCommit(changes []state.Change) {
	var keys []string
	all := false
	budgets := map[string]bool{} // namespaces whose budgets may have changed
	for _, c := range changes {
		if m := c.New; m != nil && (c.Kind == kinds.Pod || c.Kind == kinds.PodDisruptionBudget || c.Kind == kinds.StatefulSet) {
			budgets[kinds.Meta(m).GetNamespace()] = true
		} else if m := c.Old; m != nil && (c.Kind == kinds.Pod || c.Kind == kinds.PodDisruptionBudget || c.Kind == kinds.StatefulSet) {
			budgets[kinds.Meta(m).GetNamespace()] = true
		}
		switch c.Kind {
		case kinds.StatefulSet:
			// The loop's own status writes need no second look.
			old, _ := c.Old.(*ordov1.StatefulSet)
			nw, _ := c.New.(*ordov1.StatefulSet)
			if old != nil && nw != nil && proto.Equal(old.GetSpec(), nw.GetSpec()) && proto.Equal(old.GetMetadata(), nw.GetMetadata()) {
				continue
			}
			keys = append(keys, c.Key)
		case kinds.Pod:
			for _, m := range []proto.Message{c.Old, c.New} {
				if p, ok := m.(*ordov1.Pod); ok && p.GetSetName() != "" {
					keys = append(keys, state.Key(p.GetMetadata().GetNamespace(), p.GetSetName()))
				}
			}
			// A pod that went away frees room on its node for pods of other sets.
			if c.New == nil {
				all = true
			}
		case kinds.PersistentVolume, kinds.PersistentVolumeClaim, kinds.StorageClass:
			// Volumes becoming free or bound change where pods can go.
			all = true
		case kinds.Node:
			old, _ := c.Old.(*ordov1.NodeInfo)
			nw, _ := c.New.(*ordov1.NodeInfo)
			if old == nil || nw == nil || old.GetReady() != nw.GetReady() ||
				!proto.Equal(old.GetCapacity(), nw.GetCapacity()) ||
				!maps.Equal(old.GetMetadata().GetLabels(), nw.GetMetadata().GetLabels()) {
				all = true
			}
		}
	}
	if all {
		for _, s := range l.store.StatefulSets() {
			keys = append(keys, state.Key(s.GetMetadata().GetNamespace(), s.GetMetadata().GetName()))
		}
	}
	if len(budgets) > 0 && l.store.Count(kinds.PodDisruptionBudget) > 0 {
		for ns := range budgets {
			keys = append(keys, budgetsKey+ns)
		}
	}
	l.Enqueue(keys...)
}

// budgetsKey prefixes the queue key of a namespace's disruption budgets
// (no set key starts with it: names cannot hold a NUL).
const budgetsKey = "\x00budgets/"

// Enqueue asks for the sets with these keys ("<ns>/<name>") to be reconciled.
func (l *Loop) Enqueue(keys ...string) {
	if len(keys) == 0 {
		return
	}
	l.mu.Lock()
	for _, k := range keys {
		if !l.queued[k] {
			l.queued[k] = true
			l.order = append(l.order, k)
		}
	}
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Run works the queue until ctx is done.
func (l *Loop) Run(ctx context.Context) {
	// Level-based: after a restart every set is looked at once.
	for _, s := range l.store.StatefulSets() {
		l.Enqueue(state.Key(s.GetMetadata().GetNamespace(), s.GetMetadata().GetName()))
	}
	defer func() {
		l.mu.Lock()
		l.stopped = true
		for _, t := range l.timers {
			t.Stop()
		}
		l.idle.Broadcast()
		l.mu.Unlock()
	}()
	for {
		l.mu.Lock()
		if len(l.order) == 0 {
			l.busy = false
			l.idle.Broadcast()
			l.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-l.wake:
			}
			continue
		}
		key := l.order[0]
		l.order = l.order[1:]
		delete(l.queued, key)
		l.busy = true
		l.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		l.reconcile(key)
		// Let the node senders woken by that commit run before the next key.
		runtime.Gosched()
	}
}

// WaitIdle blocks until the queue is empty and no key is being worked on.
func (l *Loop) WaitIdle() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for (l.busy || len(l.order) > 0) && !l.stopped {
		l.idle.Wait()
	}
}

func (l *Loop) requeueAfter(key string, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return
	}
	if t, ok := l.timers[key]; ok {
		t.Stop()
	}
	l.timers[key] = time.AfterFunc(d, func() {
		l.mu.Lock()
		delete(l.timers, key)
		l.mu.Unlock()
		l.Enqueue(key)
	})
}
