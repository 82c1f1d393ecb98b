package state

import (
	"fmt"
	"sort"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Record stores an event about an object (kind, namespace, name) and streams it
// to watchers once the transaction commits. Each object keeps its newest
// maxEventsPerObject events.
func (t *Tx) Record(kind, ns, name, reason, format string, args ...any) error {
	key := Key(ns, name)
	ev := &ordov1.Event{
		Kind:    kind,
		Time:    timestamppb.New(t.now),
		Reason:  reason,
		Message: fmt.Sprintf(format, args...),
	}
	if k, ok := kinds.Lookup(kind); ok {
		if !k.Namespaced {
			key = name
		}
		ref := k.New()
		f := ref.ProtoReflect().Descriptor().Fields().ByName("metadata")
		ref.ProtoReflect().Set(f, protoreflect.ValueOfMessage((&ordov1.ObjectMeta{Name: name, Namespace: ns}).ProtoReflect()))
		k.SetEvent(ev, ref)
	}
	ek := eventKey(kind, key)
	if t.seqs == nil {
		t.seqs = map[string]uint64{}
	}
	seq, ok := t.seqs[ek]
	t.s.mu.RLock()
	if !ok {
		seq = t.s.eventSeq[ek]
	}
	var seqs []uint64
	for _, e := range t.s.events[ek] {
		seqs = append(seqs, e.seq)
	}
	t.s.mu.RUnlock()
	seq++
	t.seqs[ek] = seq
	data, err := marshal(ev)
	if err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	t.ops = append(t.ops, Op{Bucket: BucketEvents, Key: eventStoreKey(ek, seq), Val: data})
	// Trim the stored events to the newest maxEventsPerObject (committed ones
	// plus this transaction's).
	for _, e := range t.events {
		if e.key == ek {
			seqs = append(seqs, e.seq)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for i := 0; len(seqs)-i+1 > maxEventsPerObject; i++ {
		t.ops = append(t.ops, Op{Bucket: BucketEvents, Key: eventStoreKey(ek, seqs[i])})
	}
	t.events = append(t.events, pendingEvent{key: ek, seq: seq, ev: ev})
	return nil
}
