package framework

import (
	"context"
	"slices"
	"sync"
	"testing"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Recorder keeps every pod event of one set, in the order the scheduler sent them.
type Recorder struct {
	mu     sync.Mutex
	events []*ordov1.Event
	cancel context.CancelFunc
	done   chan struct{}
}

// Record watches the pods of a set until Stop or the end of the test.
func Record(t testing.TB, c Cluster, set string) *Recorder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	// Nodes come along so that the first (initial) event proves the watch is
	// subscribed before the test changes anything.
	stream, err := c.Control().Watch(ctx, &ordov1.WatchRequest{Kinds: []string{"Pod", "Node"}, SendInitial: true})
	if err != nil {
		cancel()
		t.Fatalf("watch: %v", err)
	}
	first, err := stream.Recv()
	if err != nil || first.GetNode() == nil && first.GetPod() == nil {
		cancel()
		t.Fatalf("watch: first event %v, %v", first, err)
	}
	r := &Recorder{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			ev, err := stream.Recv()
			if err != nil {
				return
			}
			if ev.GetPod() == nil || ev.GetPod().GetSetName() != set {
				continue
			}
			r.mu.Lock()
			r.events = append(r.events, ev)
			r.mu.Unlock()
		}
	}()
	t.Cleanup(r.Stop)
	return r
}

// Stop ends the watch; the events recorded so far stay.
func (r *Recorder) Stop() { r.cancel(); <-r.done }

// Snapshot returns the events recorded so far.
func (r *Recorder) Snapshot() []*ordov1.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Created lists pod names in the order their ADDED events arrived.
func (r *Recorder) Created() []string { return named(r.Snapshot(), ordov1.EventType_EVENT_TYPE_ADDED) }

// Deleted lists pod names in the order their DELETED events arrived.
func (r *Recorder) Deleted() []string {
	return named(r.Snapshot(), ordov1.EventType_EVENT_TYPE_DELETED)
}

func named(events []*ordov1.Event, typ ordov1.EventType) []string {
	var out []string
	for _, ev := range events {
		if ev.GetType() == typ && ev.GetReason() == "" {
			out = append(out, ev.GetPod().GetMetadata().GetName())
		}
	}
	return out
}

// CheckOrderedCreation asserts that every pod was created only after all
// lower ordinals were Running and Ready, replaying the recorded event stream,
// and returns the pods in the order they were created.
func CheckOrderedCreation(t testing.TB, r *Recorder) []string {
	t.Helper()
	events := r.Snapshot()
	ready := map[int32]bool{}
	for _, ev := range events {
		if ev.GetReason() != "" {
			continue
		}
		p := ev.GetPod()
		switch ev.GetType() {
		case ordov1.EventType_EVENT_TYPE_ADDED:
			for o := int32(0); o < p.GetOrdinal(); o++ {
				if !ready[o] {
					t.Errorf("%s created while ordinal %d was not Running and Ready", p.GetMetadata().GetName(), o)
				}
			}
			ready[p.GetOrdinal()] = Ready(p)
		case ordov1.EventType_EVENT_TYPE_MODIFIED:
			ready[p.GetOrdinal()] = Ready(p)
		case ordov1.EventType_EVENT_TYPE_DELETED:
			delete(ready, p.GetOrdinal())
		}
	}
	return named(events, ordov1.EventType_EVENT_TYPE_ADDED)
}
