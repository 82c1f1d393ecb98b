package state

// Backend keeps the store's bytes. The Store holds the whole state in memory
// and writes through to its backend; a backend only has to load everything
// once and commit batches of puts and deletes atomically.
//
// A replicated backend (etcd) would also make Commit conditional on holding
// leadership and feed changes made elsewhere into the Store; both fit behind
// this interface.
type Backend interface {
	// Load calls fn for every key of every bucket; fn must not keep val.
	Load(fn func(bucket, key string, val []byte) error) error
	// Commit writes ops atomically: all or none. With sync false the backend
	// may return before the data is durable (it becomes durable with the next
	// synced commit or Close).
	Commit(ops []Op, sync bool) error
	Close() error
}

// Op is one write of a commit: Val nil deletes the key.
type Op struct {
	Bucket string
	Key    string
	Val    []byte
}
