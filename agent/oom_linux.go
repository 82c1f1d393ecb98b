package agent

import (
	"context"
	"fmt"
	"sync"
	"time"

	apievents "github.com/containerd/containerd/api/events"
	containerd "github.com/containerd/containerd/v2/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// oomTopic is the event containerd's shim publishes when the OOM killer acts
// in a task's cgroup (cgroup v1: memory.oom_control; v2: memory.events).
const oomTopic = "/tasks/oom"

// oomGrace is how long an exit by SIGKILL waits for its OOM event, which the
// shim may publish just after the exit.
const oomGrace = time.Second

// oomWatcher records containerd's OOM events of one namespace, so that a task
// exit can be told apart as OOMKilled.
type oomWatcher struct {
	once sync.Once
	mu   sync.Mutex
	last map[string]time.Time // container ID -> time of its latest OOM event
	seen chan struct{}        // closed and replaced on every event
}

// watch subscribes (once) to the OOM events of namespace ns for as long as the
// client lives.
func (o *oomWatcher) watch(client *containerd.Client, ns string) {
	o.once.Do(func() {
		o.mu.Lock()
		o.last = map[string]time.Time{}
		o.seen = make(chan struct{})
		o.mu.Unlock()
		ready := make(chan struct{})
		go o.run(client, fmt.Sprintf("topic==%q,namespace==%q", oomTopic, ns), ready)
		// Events are only delivered once the subscription is in place.
		select {
		case <-ready:
		case <-time.After(2 * time.Second):
		}
	})
}

func (o *oomWatcher) run(client *containerd.Client, filter string, ready chan struct{}) {
	readyOnce := sync.OnceFunc(func() { close(ready) })
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithCancel(context.Background())
		evs, errs := client.Subscribe(ctx, filter)
		// The subscription is set up by the first receive; give it a moment.
		go func() { time.Sleep(50 * time.Millisecond); readyOnce() }()
		err := func() error {
			for {
				select {
				case e := <-evs:
					if e == nil || e.Event == nil {
						continue
					}
					attempt = 0
					var oom apievents.TaskOOM
					if err := proto.Unmarshal(e.Event.GetValue(), &oom); err != nil || oom.ContainerID == "" {
						continue
					}
					at := e.Timestamp
					if at.IsZero() {
						at = time.Now()
					}
					o.mu.Lock()
					o.last[oom.ContainerID] = at
					close(o.seen)
					o.seen = make(chan struct{})
					o.mu.Unlock()
				case err := <-errs:
					return err
				}
			}
		}()
		cancel()
		if status.Code(err) == codes.Canceled {
			return // the client was closed
		}
		time.Sleep(backoff(attempt, 100*time.Millisecond, 5*time.Second))
	}
}

// killed tells whether the OOM killer acted in container id's cgroup since
// start. An exit by SIGKILL waits a moment for an event that is late.
func (o *oomWatcher) killed(ctx context.Context, id string, start time.Time, sigkill bool) bool {
	deadline := time.NewTimer(oomGrace)
	defer deadline.Stop()
	for {
		o.mu.Lock()
		at, ok := o.last[id]
		seen := o.seen
		o.mu.Unlock()
		if ok && !at.Before(start) {
			return true
		}
		if !sigkill || seen == nil {
			return false
		}
		select {
		case <-seen:
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// forget drops what is known of a removed container.
func (o *oomWatcher) forget(id string) {
	o.mu.Lock()
	delete(o.last, id)
	o.mu.Unlock()
}
