package state

import (
	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// SchemaVersion is the layout of the buckets written by this code. Version 1
// kept events in a nested bucket per object and the epoch in the meta
// bucket's bbolt sequence; version 2 keeps everything as flat keys, which any
// key-value backend can hold.
const SchemaVersion = "2"

// Buckets of the scheduler's own records.
const (
	BucketMeta   = "meta"   // schema, counters
	BucketEvents = "events" // "<kind>/<key>\x00<seq>" → Event
)

// Keys in BucketMeta.
const (
	metaSchema = "schema"
	metaEpoch  = "epoch" // the last pod epoch handed out, 8 bytes big-endian
)

// KindControllerRevision is the revision history of sets: kept in the store
// like any object, indexed by set, but not served as a kind of its own.
const KindControllerRevision = kinds.ControllerRevision

// kindSchema is one kind as the store keeps it.
type kindSchema struct {
	Name       string
	Bucket     string
	Namespaced bool
	New        func() proto.Message
}

// schema lists every kind the store keeps: each stored kind of the kinds
// table, and the revision history.
var schema = func() []kindSchema {
	buckets := map[string]string{
		kinds.StatefulSet:           "statefulsets",
		kinds.Service:               "services",
		kinds.Pod:                   "pods",
		kinds.Node:                  "nodes",
		kinds.PersistentVolume:      "persistentvolumes",
		kinds.PersistentVolumeClaim: "persistentvolumeclaims",
		kinds.StorageClass:          "storageclasses",
		kinds.ConfigMap:             "configmaps",
		kinds.Secret:                "secrets",
		kinds.PodDisruptionBudget:   "poddisruptionbudgets",
	}
	var out []kindSchema
	for _, k := range kinds.Stored() {
		b, ok := buckets[k.Name]
		if !ok {
			panic("state: stored kind " + k.Name + " has no bucket")
		}
		out = append(out, kindSchema{Name: k.Name, Bucket: b, Namespaced: k.Namespaced, New: k.New})
	}
	return append(out, kindSchema{Name: KindControllerRevision, Bucket: "controllerrevisions", Namespaced: true,
		New: func() proto.Message { return &ordov1.ControllerRevision{} }})
}()

var schemaByKind = func() map[string]*kindSchema {
	m := map[string]*kindSchema{}
	for i := range schema {
		m[schema[i].Name] = &schema[i]
	}
	return m
}()

func schemaOf(kind string) *kindSchema {
	s, ok := schemaByKind[kind]
	if !ok {
		panic("state: unknown kind " + kind)
	}
	return s
}

// Buckets are every bucket the store uses.
func Buckets() []string {
	out := []string{BucketMeta, BucketEvents}
	for _, s := range schema {
		out = append(out, s.Bucket)
	}
	return out
}

// Key is the store key of a namespaced object: "<namespace>/<name>".
func Key(namespace, name string) string { return kinds.NamespacedKey(namespace, name) }

// keyOf is the key of an object of kind in namespace ns.
func keyOf(kind, ns, name string) string {
	if schemaOf(kind).Namespaced {
		return Key(ns, name)
	}
	return name
}
