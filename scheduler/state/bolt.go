package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ordoproject/ordo/internal/errdefs"
)

// boltBackend keeps the store in one bbolt file: a bucket per kind, keys as
// the Store names them.
type boltBackend struct {
	db *bolt.DB
}

var _ Backend = (*boltBackend)(nil)

// OpenBolt opens (creating it if needed) the bbolt file at path, creates
// the buckets and upgrades an older layout.
func OpenBolt(path string) (Backend, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open %s: locked by another process: %w", path, errdefs.ErrUnavailable)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := db.Update(prepareBolt); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &boltBackend{db: db}, nil
}

// prepareBolt creates missing buckets and upgrades the layout to SchemaVersion.
func prepareBolt(tx *bolt.Tx) error {
	for _, b := range Buckets() {
		if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	meta := tx.Bucket([]byte(BucketMeta))
	switch v := string(meta.Get([]byte(metaSchema))); v {
	case SchemaVersion:
		return nil
	case "":
		// A new file.
	case "1":
		if err := upgradeBoltV1(tx); err != nil {
			return fmt.Errorf("upgrade store layout 1 → %s: %w", SchemaVersion, err)
		}
	default:
		return fmt.Errorf("store layout %q is newer than this scheduler understands (%s): %w", v, SchemaVersion, errdefs.ErrUnavailable)
	}
	return meta.Put([]byte(metaSchema), []byte(SchemaVersion))
}

// upgradeBoltV1 moves the epoch out of the meta bucket's sequence and each
// object's nested event bucket into flat keys.
func upgradeBoltV1(tx *bolt.Tx) error {
	meta := tx.Bucket([]byte(BucketMeta))
	if err := meta.Put([]byte(metaEpoch), u64(meta.Sequence())); err != nil {
		return err
	}
	events := tx.Bucket([]byte(BucketEvents))
	var nested []string
	if err := events.ForEach(func(k, v []byte) error {
		if v == nil {
			nested = append(nested, string(k))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, obj := range nested {
		type kv struct{ k, v []byte }
		var items []kv
		if err := events.Bucket([]byte(obj)).ForEach(func(k, v []byte) error {
			items = append(items, kv{append([]byte(nil), k...), append([]byte(nil), v...)})
			return nil
		}); err != nil {
			return err
		}
		if err := events.DeleteBucket([]byte(obj)); err != nil {
			return err
		}
		for _, it := range items {
			if err := events.Put([]byte(eventStoreKey(obj, binary.BigEndian.Uint64(it.k))), it.v); err != nil {
				return err
			}
		}
	}
	return nil
}

func u64(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

func (b *boltBackend) Load(fn func(bucket, key string, val []byte) error) error {
	return b.db.View(func(tx *bolt.Tx) error {
		for _, name := range Buckets() {
			bk := tx.Bucket([]byte(name))
			if bk == nil {
				continue
			}
			if err := bk.ForEach(func(k, v []byte) error {
				if v == nil {
					return nil
				}
				return fn(name, string(k), v)
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

// Commit writes ops in one bbolt transaction. Writers are serialised by the
// Store, so the NoSync flag applies to this commit only.
func (b *boltBackend) Commit(ops []Op, sync bool) error {
	b.db.NoSync = !sync
	defer func() { b.db.NoSync = false }()
	return b.db.Update(func(tx *bolt.Tx) error {
		for _, op := range ops {
			bk := tx.Bucket([]byte(op.Bucket))
			if bk == nil {
				return fmt.Errorf("store: no bucket %s", op.Bucket)
			}
			var err error
			if op.Val == nil {
				err = bk.Delete([]byte(op.Key))
			} else {
				err = bk.Put([]byte(op.Key), op.Val)
			}
			if err != nil {
				return fmt.Errorf("store %s %s: %w", op.Bucket, op.Key, err)
			}
		}
		return nil
	})
}

// Close syncs and closes the file.
func (b *boltBackend) Close() error {
	if err := b.db.Sync(); err != nil {
		b.db.Close()
		return fmt.Errorf("sync store: %w", err)
	}
	return b.db.Close()
}
