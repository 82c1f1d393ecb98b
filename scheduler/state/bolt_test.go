package state

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// A store written in layout 1 (epoch in the meta bucket's sequence, events
// in a nested bucket per object) opens with its epochs still increasing and
// its events kept.
func TestOpenUpgradesLayout1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ordo.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket([]byte(BucketMeta))
		if err != nil {
			return err
		}
		if err := meta.Put([]byte(metaSchema), []byte("1")); err != nil {
			return err
		}
		if err := meta.SetSequence(41); err != nil {
			return err
		}
		events, err := tx.CreateBucket([]byte(BucketEvents))
		if err != nil {
			return err
		}
		eb, err := events.CreateBucket([]byte("Pod/default/web-0"))
		if err != nil {
			return err
		}
		for i, reason := range []string{"Created", "Ready"} {
			data, _ := proto.Marshal(&ordov1.Event{Kind: kinds.Pod, Reason: reason})
			var k [8]byte
			binary.BigEndian.PutUint64(k[:], uint64(i+1))
			if err := eb.Put(k[:], data); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	s, err := Open(path, nil)
	if err != nil {
		t.Fatalf("open layout 1: %v", err)
	}
	evs := s.Events(kinds.Pod, "default/web-0")
	if len(evs) != 2 || evs[0].GetReason() != "Created" || evs[1].GetReason() != "Ready" {
		t.Fatalf("events after upgrade: %v", evs)
	}
	var epoch uint64
	if err := s.Update(func(tx *Tx) error {
		epoch, err = tx.NextEpoch()
		if err != nil {
			return err
		}
		return tx.Record(kinds.Pod, "default", "web-0", "Started", "again")
	}); err != nil {
		t.Fatal(err)
	}
	if epoch != 42 {
		t.Fatalf("first epoch after upgrade = %d, want 42", epoch)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if evs := s.Events(kinds.Pod, "default/web-0"); len(evs) != 3 || evs[2].GetReason() != "Started" {
		t.Fatalf("events after reopen: %v", evs)
	}
}
