package scheduler

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/controller"
)

// loop is the controller half of the scheduler's loop:
//
//	store change → queue(set key) → controller.Reconcile → actions → store
//
// It is woken by commits (sets, their pods, nodes) and by the controller's
// RequeueAfter timers; it never polls. One worker handles one key at a time.
type loop struct {
	store *Store
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

func newLoop(store *Store, log *slog.Logger) *loop {
	l := &loop{
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
func (l *loop) onCommit(changes []Change) {
	var keys []string
	all := false
	for _, c := range changes {
		switch c.Kind {
		case KindStatefulSet:
			// The loop's own status writes need no second look.
			old, _ := c.Old.(*ordov1.StatefulSet)
			nw, _ := c.New.(*ordov1.StatefulSet)
			if old != nil && nw != nil && proto.Equal(old.GetSpec(), nw.GetSpec()) && proto.Equal(old.GetMetadata(), nw.GetMetadata()) {
				continue
			}
			keys = append(keys, c.Key)
		case KindPod:
			for _, m := range []proto.Message{c.Old, c.New} {
				if p, ok := m.(*ordov1.Pod); ok && p.GetSetName() != "" {
					keys = append(keys, Key(p.GetMetadata().GetNamespace(), p.GetSetName()))
				}
			}
			// A pod that went away frees room on its node for pods of other sets.
			if c.New == nil {
				all = true
			}
		case KindPersistentVolume, KindPersistentVolumeClaim, KindStorageClass:
			// Volumes becoming free or bound change where pods can go.
			all = true
		case KindNode:
			old, _ := c.Old.(*ordov1.NodeInfo)
			nw, _ := c.New.(*ordov1.NodeInfo)
			if old == nil || nw == nil || old.GetReady() != nw.GetReady() ||
				!proto.Equal(old.GetCapacity(), nw.GetCapacity()) ||
				!equalStringMaps(old.GetMetadata().GetLabels(), nw.GetMetadata().GetLabels()) {
				all = true
			}
		}
	}
	if all {
		for _, s := range l.store.StatefulSets() {
			keys = append(keys, Key(s.GetMetadata().GetNamespace(), s.GetMetadata().GetName()))
		}
	}
	l.enqueue(keys...)
}

func (l *loop) enqueue(keys ...string) {
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

// run works the queue until ctx is done.
func (l *loop) run(ctx context.Context) {
	// Level-based: after a restart every set is looked at once.
	for _, s := range l.store.StatefulSets() {
		l.enqueue(Key(s.GetMetadata().GetNamespace(), s.GetMetadata().GetName()))
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

// waitIdle blocks until the queue is empty and no key is being worked on.
func (l *loop) waitIdle() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for (l.busy || len(l.order) > 0) && !l.stopped {
		l.idle.Wait()
	}
}

func (l *loop) requeueAfter(key string, d time.Duration) {
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
		l.enqueue(key)
	})
}

// reconcile runs the controller for one set and applies its decision.
func (l *loop) reconcile(key string) {
	ns, name, _ := strings.Cut(key, "/")
	set := l.store.StatefulSet(ns, name)
	if set == nil {
		return
	}
	pods := l.store.podsOfSetUnsorted(ns, name)
	deleting := set.GetMetadata().GetDeletionTime() != nil
	if deleting && len(pods) == 0 {
		err := l.store.Update(func(tx *Tx) error {
			cur := tx.StatefulSet(ns, name)
			if cur == nil || cur.GetMetadata().GetDeletionTime() == nil || len(l.store.PodsOfSet(ns, name)) > 0 {
				return nil
			}
			if err := tx.DeleteStatefulSet(ns, name); err != nil {
				return err
			}
			if err := tx.DeleteRevisionsOf(ns, name); err != nil {
				return err
			}
			if err := applyRetention(tx, l.log, cur, nil, true); err != nil {
				return err
			}
			return tx.Record(KindStatefulSet, ns, name, "Deleted", "StatefulSet %s deleted: no pods remain", name)
		})
		if err != nil {
			l.log.Error("remove deleted statefulset", "set", key, "err", err)
		}
		return
	}
	revs, err := l.store.Revisions(ns, name)
	if err != nil {
		l.log.Error("read revision history", "set", key, "err", err)
		l.requeueAfter(key, time.Second)
		return
	}
	in := controller.Input{
		Set:       set,
		Pods:      pods,
		Nodes:     l.store.Nodes(),
		AllPods:   l.store.podsUnsorted(),
		Now:       time.Now(),
		Revisions: controllerRevisions(revs),
	}
	if deleting {
		c := proto.Clone(set).(*ordov1.StatefulSet)
		c.Spec.Replicas = 0
		in.Set = c
	}
	in.NodeFilters = nodeFilters(l.store, in.Set, in.Set.GetSpec().GetReplicas(), in.Nodes)
	if err := l.retention(set, pods); err != nil {
		l.log.Error("claim retention", "set", key, "err", err)
	}
	res := controller.Reconcile(in)
	if res.RequeueAfter > 0 {
		l.requeueAfter(key, res.RequeueAfter)
	}
	if res.Rollback != nil && !deleting {
		l.rollback(key, set, res)
		return
	}
	history := res.NewRevision != nil || len(res.PruneRevisions) > 0
	if len(res.Actions) == 0 && !history && (res.Status == nil || proto.Equal(res.Status, set.GetStatus())) {
		return
	}
	// Actions and history are synced before any agent hears of them; a
	// status-only write is not (it is computed again after a restart).
	update := l.store.Update
	if len(res.Actions) == 0 && !history {
		update = l.store.UpdateUnsynced
	}
	err = update(func(tx *Tx) error {
		if history {
			if err := applyHistory(tx, set, res); err != nil {
				return err
			}
		}
		for _, a := range res.Actions {
			if err := l.apply(tx, a); err != nil {
				return err
			}
		}
		if res.Status != nil {
			cur := tx.StatefulSet(ns, name)
			if cur != nil && !proto.Equal(cur.GetStatus(), res.Status) {
				c := proto.Clone(cur).(*ordov1.StatefulSet)
				c.Status = res.Status
				if _, err := tx.PutStatefulSet(c); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		l.log.Error("apply reconcile result", "set", key, "err", err)
		// Try again later rather than spin.
		l.requeueAfter(key, time.Second)
	}
}

// apply carries out one controller action inside tx.
func (l *loop) apply(tx *Tx, a controller.Action) error {
	ns, name := a.Pod.GetMetadata().GetNamespace(), a.Pod.GetMetadata().GetName()
	cur := tx.Pod(ns, name)
	switch a.Kind {
	case controller.CreatePod:
		if cur != nil {
			// Never a second pod for one identity; the controller will see it next time.
			l.log.Warn("create skipped: pod exists", "pod", name, "namespace", ns)
			return nil
		}
		p := proto.Clone(a.Pod).(*ordov1.Pod)
		epoch, err := tx.NextEpoch()
		if err != nil {
			return err
		}
		if err := l.volumesFor(tx, p); err != nil {
			return err
		}
		p.Epoch = epoch
		p.Metadata.CreationTime = nil
		p.Metadata.DeletionTime = nil
		if p.Status == nil {
			p.Status = &ordov1.PodStatus{Phase: ordov1.PodPhase_POD_PHASE_PENDING}
		}
		if p.NodeName != "" {
			p.ScheduledTime = timestamppb.New(tx.Now())
		} else {
			p.ScheduledTime = nil
		}
		if _, err := tx.PutPod(p); err != nil {
			return err
		}
		l.log.Info("pod created", "pod", name, "namespace", ns, "node", p.NodeName, "epoch", epoch)
		if err := tx.Record(KindPod, ns, name, "Created", "Created pod %s (epoch %d)", name, epoch); err != nil {
			return err
		}
		if err := tx.Record(KindStatefulSet, ns, p.SetName, "SuccessfulCreate", "create Pod %s in StatefulSet %s successful", name, p.SetName); err != nil {
			return err
		}
		if p.NodeName != "" {
			return tx.Record(KindPod, ns, name, "Scheduled", "Successfully assigned %s/%s to %s", ns, name, p.NodeName)
		}
		return tx.Record(KindPod, ns, name, "FailedScheduling", "%s", p.GetStatus().GetMessage())
	case controller.BindPod:
		if cur == nil || cur.GetNodeName() != "" || cur.GetMetadata().GetDeletionTime() != nil {
			return nil
		}
		p := proto.Clone(cur).(*ordov1.Pod)
		p.NodeName = a.Node
		if err := l.volumesFor(tx, p); err != nil {
			return err
		}
		if p.NodeName == "" {
			return l.apply(tx, controller.Action{Kind: controller.MarkUnschedulable, Pod: p, Reason: p.GetStatus().GetMessage()})
		}
		p.ScheduledTime = timestamppb.New(tx.Now())
		if p.Status == nil {
			p.Status = &ordov1.PodStatus{Phase: ordov1.PodPhase_POD_PHASE_PENDING}
		}
		if p.Status.Reason == controller.ReasonUnschedulable {
			p.Status.Reason, p.Status.Message = "", ""
		}
		if _, err := tx.PutPod(p); err != nil {
			return err
		}
		l.log.Info("pod bound", "pod", name, "namespace", ns, "node", a.Node)
		return tx.Record(KindPod, ns, name, "Scheduled", "Successfully assigned %s/%s to %s", ns, name, a.Node)
	case controller.DeletePod:
		if cur == nil || cur.GetEpoch() != a.Pod.GetEpoch() {
			return nil
		}
		return deletePod(tx, l.log, cur, a.Reason)
	case controller.MarkUnschedulable:
		if cur == nil || cur.GetNodeName() != "" {
			return nil
		}
		if cur.GetStatus().GetReason() == controller.ReasonUnschedulable && cur.GetStatus().GetMessage() == a.Reason {
			return nil
		}
		p := proto.Clone(cur).(*ordov1.Pod)
		if p.Status == nil {
			p.Status = &ordov1.PodStatus{Phase: ordov1.PodPhase_POD_PHASE_PENDING}
		}
		p.Status.Reason = controller.ReasonUnschedulable
		p.Status.Message = a.Reason
		if _, err := tx.PutPod(p); err != nil {
			return err
		}
		l.log.Info("pod unschedulable", "pod", name, "namespace", ns, "reason", a.Reason)
		return tx.Record(KindPod, ns, name, "FailedScheduling", "%s", a.Reason)
	}
	return nil
}

// deletePod asks for pod to stop: it gets a deletion time, which takes it out
// of its node's desired list. A pod that never reached a node, or whose agent
// already confirmed it gone, is removed at once.
func deletePod(tx *Tx, log *slog.Logger, cur *ordov1.Pod, why string) error {
	ns, name := cur.GetMetadata().GetNamespace(), cur.GetMetadata().GetName()
	if cur.GetNodeName() == "" || cur.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_GONE {
		if err := tx.DeletePod(ns, name); err != nil {
			return err
		}
		log.Info("pod deleted", "pod", name, "namespace", ns, "node", cur.GetNodeName(), "reason", why)
		return tx.Record(KindPod, ns, name, "Deleted", "Deleted pod %s (epoch %d)", name, cur.GetEpoch())
	}
	if cur.GetMetadata().GetDeletionTime() != nil {
		return nil
	}
	p := proto.Clone(cur).(*ordov1.Pod)
	p.Metadata.DeletionTime = timestamppb.New(tx.Now())
	if _, err := tx.PutPod(p); err != nil {
		return err
	}
	log.Info("stopping pod", "pod", name, "namespace", ns, "node", p.NodeName, "reason", why)
	if err := tx.Record(KindPod, ns, name, "Killing", "Stopping pod %s on %s: %s", name, p.NodeName, why); err != nil {
		return err
	}
	if p.SetName != "" {
		return tx.Record(KindStatefulSet, ns, p.SetName, "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful", name, p.SetName)
	}
	return nil
}

func equalStringMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
