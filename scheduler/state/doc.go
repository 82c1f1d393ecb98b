// Package state is the scheduler's state: the only code that touches
// storage. It owns
//
//   - the schema (schema.go): which bucket each kind of the kinds table
//     lives in, plus the scheduler's own records (revision history, events,
//     counters);
//   - the Backend interface (backend.go) behind which the bytes are kept:
//     bbolt (bolt.go) is the embedded default; another backend (etcd: one key
//     per object, compare-and-swap transactions, a watch feeding the view)
//     plugs in behind the same interface without touching the services;
//   - the Store: an in-memory view of every object with indexes (pods by set
//     and by node), commit hooks and the watch hub;
//   - Tx, one write transaction, whose reads see its own writes and which
//     carries every state transition as a method, in files by object
//     (pods.go, nodes.go, claims.go, sets.go, revisions.go).
//
// It may not call the services (control, nodes, loop, clusternet): they
// read the Store and change it through Update; they hear of each other's
// changes only from the commit hooks.
package state
