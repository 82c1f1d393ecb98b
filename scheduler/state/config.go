package state

import (
	"maps"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/errdefs"
	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Configuration data transitions: ConfigMaps and Secrets. Pods on a node
// get the ones they name with their desired list; an immutable one cannot
// change once created.

// ApplyConfigMap stores a validated ConfigMap.
func (t *Tx) ApplyConfigMap(in *ordov1.ConfigMap) (string, error) {
	cur := t.ConfigMap(in.GetMetadata().GetNamespace(), in.GetMetadata().GetName())
	cm := proto.Clone(in).(*ordov1.ConfigMap)
	cm.Metadata = userMeta(in.GetMetadata())
	if cur != nil {
		same := maps.Equal(cur.GetData(), cm.GetData()) && mapsEqualBytes(cur.GetBinaryData(), cm.GetBinaryData()) && cur.GetImmutable() == cm.GetImmutable()
		if same && sameUserMeta(cur.GetMetadata(), in.GetMetadata()) {
			return "unchanged", nil
		}
		if cur.GetImmutable() && !same {
			return "", errdefs.Invalid("data", "field is immutable when `immutable` is set")
		}
	}
	if _, err := t.Put(cm); err != nil {
		return "", err
	}
	if cur == nil {
		return "created", nil
	}
	return "configured", nil
}

// ApplySecret stores a validated Secret.
func (t *Tx) ApplySecret(in *ordov1.Secret) (string, error) {
	cur := t.Secret(in.GetMetadata().GetNamespace(), in.GetMetadata().GetName())
	sec := proto.Clone(in).(*ordov1.Secret)
	sec.Metadata = userMeta(in.GetMetadata())
	if cur != nil {
		same := mapsEqualBytes(cur.GetData(), sec.GetData()) && cur.GetType() == sec.GetType() && cur.GetImmutable() == sec.GetImmutable()
		if same && sameUserMeta(cur.GetMetadata(), in.GetMetadata()) {
			return "unchanged", nil
		}
		if cur.GetImmutable() && !same {
			return "", errdefs.Invalid("data", "field is immutable when `immutable` is set")
		}
	}
	if _, err := t.Put(sec); err != nil {
		return "", err
	}
	if cur == nil {
		return "created", nil
	}
	return "configured", nil
}

// ApplyPodDisruptionBudget stores a validated budget; its status is the
// loop's to compute.
func (t *Tx) ApplyPodDisruptionBudget(in *ordov1.PodDisruptionBudget) (string, error) {
	ns, name := in.GetMetadata().GetNamespace(), in.GetMetadata().GetName()
	cur := t.PodDisruptionBudget(ns, name)
	if cur != nil && proto.Equal(cur.GetSpec(), in.GetSpec()) && sameUserMeta(cur.GetMetadata(), in.GetMetadata()) {
		return "unchanged", nil
	}
	pdb := &ordov1.PodDisruptionBudget{Metadata: userMeta(in.GetMetadata()), Spec: in.GetSpec(), Status: cur.GetStatus()}
	if _, err := t.Put(pdb); err != nil {
		return "", err
	}
	if cur == nil {
		return "created", nil
	}
	return "configured", nil
}

// SetPodDisruptionBudgetStatus stores a budget's computed status.
func (t *Tx) SetPodDisruptionBudgetStatus(ns, name string, st *ordov1.PodDisruptionBudgetStatus) error {
	cur := t.PodDisruptionBudget(ns, name)
	if cur == nil || proto.Equal(cur.GetStatus(), st) {
		return nil
	}
	c := proto.Clone(cur).(*ordov1.PodDisruptionBudget)
	c.Status = st
	_, err := t.Put(c)
	return err
}

// deleteNamespaced removes an object of a namespaced kind that exists.
func (t *Tx) deleteNamespaced(kind, ns, name string) error {
	if t.Get(kind, ns, name) == nil {
		return errdefs.NotFound(kindLower(kind), Key(ns, name))
	}
	return t.Delete(kind, ns, name)
}

func kindLower(kind string) string {
	if k, ok := kinds.Lookup(kind); ok {
		return k.Plural[:len(k.Plural)-1]
	}
	return kind
}

func mapsEqualBytes(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || string(v) != string(w) {
			return false
		}
	}
	return true
}
