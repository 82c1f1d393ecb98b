package scheduler

import (
	"sort"

	"google.golang.org/protobuf/proto"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Storage objects in the store. Volumes and classes are cluster-wide (keyed by
// name), claims are namespaced ("<namespace>/<name>").

// PersistentVolume returns the stored volume or nil.
func (s *Store) PersistentVolume(name string) *ordov1.PersistentVolume {
	m, _ := s.get(KindPersistentVolume, name).(*ordov1.PersistentVolume)
	return m
}

// PersistentVolumeClaim returns the stored claim or nil.
func (s *Store) PersistentVolumeClaim(ns, name string) *ordov1.PersistentVolumeClaim {
	m, _ := s.get(KindPersistentVolumeClaim, Key(ns, name)).(*ordov1.PersistentVolumeClaim)
	return m
}

// StorageClass returns the stored class or nil.
func (s *Store) StorageClass(name string) *ordov1.StorageClass {
	m, _ := s.get(KindStorageClass, name).(*ordov1.StorageClass)
	return m
}

// PersistentVolumes returns every volume, sorted by name.
func (s *Store) PersistentVolumes() []*ordov1.PersistentVolume {
	return listOf[*ordov1.PersistentVolume](s, KindPersistentVolume)
}

// PersistentVolumeClaims returns every claim, sorted by key.
func (s *Store) PersistentVolumeClaims() []*ordov1.PersistentVolumeClaim {
	return listOf[*ordov1.PersistentVolumeClaim](s, KindPersistentVolumeClaim)
}

// StorageClasses returns every class, sorted by name.
func (s *Store) StorageClasses() []*ordov1.StorageClass {
	return listOf[*ordov1.StorageClass](s, KindStorageClass)
}

// PersistentVolume returns the volume in the transaction's view, or nil.
func (t *Tx) PersistentVolume(name string) *ordov1.PersistentVolume {
	m, _ := t.get(KindPersistentVolume, name).(*ordov1.PersistentVolume)
	return m
}

// PersistentVolumeClaim returns the claim in the transaction's view, or nil.
func (t *Tx) PersistentVolumeClaim(ns, name string) *ordov1.PersistentVolumeClaim {
	m, _ := t.get(KindPersistentVolumeClaim, Key(ns, name)).(*ordov1.PersistentVolumeClaim)
	return m
}

// StorageClass returns the class in the transaction's view, or nil.
func (t *Tx) StorageClass(name string) *ordov1.StorageClass {
	m, _ := t.get(KindStorageClass, name).(*ordov1.StorageClass)
	return m
}

// listTx lists kind in the transaction's view (committed objects with this
// transaction's writes applied), sorted by key.
func listTx[T proto.Message](t *Tx, kind string) []T {
	t.s.mu.RLock()
	keys := map[string]bool{}
	for k := range t.s.objects[kind] {
		keys[k] = true
	}
	t.s.mu.RUnlock()
	for k := range t.pending[kind] {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var out []T
	for _, k := range sorted {
		if m, ok := t.get(kind, k).(T); ok {
			out = append(out, m)
		}
	}
	return out
}

// PersistentVolumes lists the volumes in the transaction's view.
func (t *Tx) PersistentVolumes() []*ordov1.PersistentVolume {
	return listTx[*ordov1.PersistentVolume](t, KindPersistentVolume)
}

// PersistentVolumeClaims lists the claims in the transaction's view.
func (t *Tx) PersistentVolumeClaims() []*ordov1.PersistentVolumeClaim {
	return listTx[*ordov1.PersistentVolumeClaim](t, KindPersistentVolumeClaim)
}

// StorageClasses lists the classes in the transaction's view.
func (t *Tx) StorageClasses() []*ordov1.StorageClass {
	return listTx[*ordov1.StorageClass](t, KindStorageClass)
}

// PutPersistentVolume stores a clone of pv (uid, creation time, generation as for sets).
func (t *Tx) PutPersistentVolume(pv *ordov1.PersistentVolume) (*ordov1.PersistentVolume, error) {
	pv = proto.Clone(pv).(*ordov1.PersistentVolume)
	if pv.Metadata == nil {
		pv.Metadata = &ordov1.ObjectMeta{}
	}
	pv.Metadata.Namespace = ""
	old := t.PersistentVolume(pv.Metadata.Name)
	t.stampMeta(pv.Metadata, old.GetMetadata(), old == nil || !proto.Equal(old.GetSpec(), pv.GetSpec()))
	return pv, t.put(KindPersistentVolume, pv.Metadata.Name, pv)
}

// PutPersistentVolumeClaim stores a clone of c.
func (t *Tx) PutPersistentVolumeClaim(c *ordov1.PersistentVolumeClaim) (*ordov1.PersistentVolumeClaim, error) {
	c = proto.Clone(c).(*ordov1.PersistentVolumeClaim)
	if c.Metadata == nil {
		c.Metadata = &ordov1.ObjectMeta{}
	}
	old := t.PersistentVolumeClaim(c.Metadata.Namespace, c.Metadata.Name)
	t.stampMeta(c.Metadata, old.GetMetadata(), old == nil || !proto.Equal(old.GetSpec(), c.GetSpec()))
	return c, t.put(KindPersistentVolumeClaim, Key(c.Metadata.Namespace, c.Metadata.Name), c)
}

// PutStorageClass stores a clone of sc.
func (t *Tx) PutStorageClass(sc *ordov1.StorageClass) (*ordov1.StorageClass, error) {
	sc = proto.Clone(sc).(*ordov1.StorageClass)
	if sc.Metadata == nil {
		sc.Metadata = &ordov1.ObjectMeta{}
	}
	sc.Metadata.Namespace = ""
	old := t.StorageClass(sc.Metadata.Name)
	t.stampMeta(sc.Metadata, old.GetMetadata(), old == nil)
	return sc, t.put(KindStorageClass, sc.Metadata.Name, sc)
}

// DeletePersistentVolume removes the volume record.
func (t *Tx) DeletePersistentVolume(name string) error { return t.del(KindPersistentVolume, name) }

// DeletePersistentVolumeClaim removes the claim record.
func (t *Tx) DeletePersistentVolumeClaim(ns, name string) error {
	return t.del(KindPersistentVolumeClaim, Key(ns, name))
}

// DeleteStorageClass removes the class record.
func (t *Tx) DeleteStorageClass(name string) error { return t.del(KindStorageClass, name) }
