package state

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func openTestStore(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(filepath.Join(dir, "ordo.db"), nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return s
}

func testSet(name string, replicas int32) *ordov1.StatefulSet {
	return &ordov1.StatefulSet{
		Metadata: &ordov1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": name}},
		Spec: &ordov1.StatefulSetSpec{
			Replicas:    replicas,
			ServiceName: name,
			Selector:    &ordov1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: &ordov1.PodTemplate{
				Metadata: &ordov1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:     &ordov1.PodSpec{Containers: []*ordov1.Container{{Name: "c", Image: "ordo.local/busybox:latest"}}},
			},
		},
	}
}

func putSet(t *testing.T, s *Store, set *ordov1.StatefulSet) *ordov1.StatefulSet {
	t.Helper()
	var out *ordov1.StatefulSet
	if err := s.Update(func(tx *Tx) error {
		var err error
		out, err = tx.PutStatefulSet(set)
		return err
	}); err != nil {
		t.Fatalf("put set: %v", err)
	}
	return out
}

func TestStoreRoundTripSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir)
	stored := putSet(t, s, testSet("web", 3))
	if stored.GetMetadata().GetUid() == "" || stored.GetMetadata().GetCreationTime() == nil {
		t.Fatalf("uid and creation time not set: %v", stored.GetMetadata())
	}
	if err := s.Update(func(tx *Tx) error {
		if _, err := tx.PutPod(&ordov1.Pod{Metadata: &ordov1.ObjectMeta{Name: "web-0", Namespace: "default"}, SetName: "web", NodeName: "node-1", Epoch: 7}); err != nil {
			return err
		}
		return tx.Record(kinds.Pod, "default", "web-0", "Created", "Created pod %s", "web-0")
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTestStore(t, dir)
	defer s.Close()
	got := s.StatefulSet("default", "web")
	if !proto.Equal(got, stored) {
		t.Fatalf("after reopen:\n got %v\nwant %v", got, stored)
	}
	pods := s.PodsOfSet("default", "web")
	if len(pods) != 1 || pods[0].GetEpoch() != 7 || len(s.PodsOnNode("node-1")) != 1 {
		t.Fatalf("pod indexes after reopen: by set %v, on node-1 %d", pods, len(s.PodsOnNode("node-1")))
	}
	evs := s.Events(kinds.Pod, "default/web-0")
	if len(evs) != 1 || evs[0].GetReason() != "Created" || evs[0].GetMessage() != "Created pod web-0" {
		t.Fatalf("events after reopen: %v", evs)
	}
}

func TestStoreGenerationBumpsOnlyOnSpecChange(t *testing.T) {
	s := openTestStore(t, t.TempDir())
	defer s.Close()
	set := putSet(t, s, testSet("web", 3))
	if g := set.GetMetadata().GetGeneration(); g != 1 {
		t.Fatalf("generation of a new set = %d, want 1", g)
	}
	uid := set.GetMetadata().GetUid()

	c := proto.Clone(set).(*ordov1.StatefulSet)
	c.Status = &ordov1.StatefulSetStatus{Replicas: 2, ObservedGeneration: 1}
	c.Metadata.Labels["tier"] = "front"
	c.Metadata.Uid = "forged"
	if g := putSet(t, s, c).GetMetadata().GetGeneration(); g != 1 {
		t.Fatalf("status and label change bumped generation to %d", g)
	}
	c = proto.Clone(s.StatefulSet("default", "web")).(*ordov1.StatefulSet)
	c.Spec.Replicas = 5
	got := putSet(t, s, c)
	if g := got.GetMetadata().GetGeneration(); g != 2 {
		t.Fatalf("spec change: generation %d, want 2", g)
	}
	if got.GetMetadata().GetUid() != uid || got.GetStatus().GetReplicas() != 2 {
		t.Fatalf("uid or status lost on update: %v", got)
	}
}

func TestStoreEpochSequenceSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir)
	var last uint64
	for i := 0; i < 3; i++ {
		if err := s.Update(func(tx *Tx) error {
			e, err := tx.NextEpoch()
			if e <= last {
				return fmt.Errorf("epoch %d after %d", e, last)
			}
			last = e
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openTestStore(t, dir)
	defer s.Close()
	if err := s.Update(func(tx *Tx) error {
		e, err := tx.NextEpoch()
		if e <= last {
			return fmt.Errorf("epoch after reopen %d, not above %d", e, last)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func TestStoreFailedUpdateChangesNothing(t *testing.T) {
	s := openTestStore(t, t.TempDir())
	defer s.Close()
	boom := errors.New("boom")
	err := s.Update(func(tx *Tx) error {
		if _, err := tx.PutStatefulSet(testSet("web", 1)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if s.StatefulSet("default", "web") != nil {
		t.Fatal("set stored by a failed update")
	}
}

func TestStoreWatchFanOutDropsSlowWatcher(t *testing.T) {
	s := openTestStore(t, t.TempDir())
	defer s.Close()
	s.hub.buffer = 3
	fast, _, cancelFast := s.Watch(nil, "", false)
	defer cancelFast()
	slow, _, cancelSlow := s.Watch([]string{kinds.StatefulSet}, "", false)
	defer cancelSlow()
	other, _, cancelOther := s.Watch(nil, "elsewhere", false)
	defer cancelOther()

	got := 0
	for i := 0; i < 5; i++ {
		set := testSet("web", int32(i))
		putSet(t, s, set)
		ev := <-fast.ch // the fast watcher keeps up
		if ev.GetObject().GetStatefulSet().GetSpec().GetReplicas() != int32(i) {
			t.Fatalf("event %d: %v", i, ev)
		}
		want := ordov1.EventType_EVENT_TYPE_MODIFIED
		if i == 0 {
			want = ordov1.EventType_EVENT_TYPE_ADDED
		}
		if ev.GetType() != want {
			t.Fatalf("event %d type %v, want %v", i, ev.GetType(), want)
		}
		got++
	}
	n := 0
	for range slow.ch {
		n++
	}
	if n != 3 || !errors.Is(slow.err, ErrWatcherTooSlow) {
		t.Fatalf("slow watcher: %d events then err %v; want 3 then ErrWatcherTooSlow", n, slow.err)
	}
	select {
	case ev := <-other.ch:
		t.Fatalf("watcher of another namespace got %v", ev)
	default:
	}

	_, initial, cancel := s.Watch([]string{kinds.StatefulSet}, "default", true)
	defer cancel()
	if len(initial) != 1 || initial[0].GetType() != ordov1.EventType_EVENT_TYPE_ADDED {
		t.Fatalf("initial events: %v", initial)
	}
}

func TestStoreKeepsLastEventsPerObject(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir)
	for i := 0; i < maxEventsPerObject+7; i++ {
		if err := s.Update(func(tx *Tx) error {
			return tx.Record(kinds.StatefulSet, "default", "web", "Scaled", "event %d", i)
		}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(s *Store) {
		t.Helper()
		evs := s.Events(kinds.StatefulSet, "default/web")
		if len(evs) != maxEventsPerObject || evs[0].GetMessage() != "event 7" || evs[len(evs)-1].GetMessage() != fmt.Sprintf("event %d", maxEventsPerObject+6) {
			t.Fatalf("kept %d events, first %q", len(evs), evs[0].GetMessage())
		}
	}
	check(s)
	s.Close()
	s = openTestStore(t, dir)
	defer s.Close()
	check(s)
}
