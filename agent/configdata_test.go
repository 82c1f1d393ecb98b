package agent

import (
	"os"
	"testing"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func TestConfigStoreSetAndChanged(t *testing.T) {
	s := newConfigStore()
	ch := s.changed()
	cm := func(ns, name, v string) *ordov1.ConfigMap {
		return &ordov1.ConfigMap{Metadata: &ordov1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string]string{"k": v}}
	}
	sec := &ordov1.Secret{Metadata: &ordov1.ObjectMeta{Name: "s"}, Data: map[string][]byte{"k": []byte("v")}}
	if s.set(nil, nil) {
		t.Error("setting nothing on an empty store is a change")
	}
	if !s.set([]*ordov1.ConfigMap{cm("", "a", "1"), cm("team-a", "a", "2")}, []*ordov1.Secret{sec}) {
		t.Error("first data not a change")
	}
	select {
	case <-ch:
	default:
		t.Fatal("changed channel not closed on a change")
	}
	ch = s.changed()
	if s.set([]*ordov1.ConfigMap{cm("team-a", "a", "2"), cm("", "a", "1")}, []*ordov1.Secret{sec}) {
		t.Error("the same data in another order is a change")
	}
	select {
	case <-ch:
		t.Fatal("changed channel closed without a change")
	default:
	}
	if got := s.namespace("").configMap("a").GetData()["k"]; got != "1" {
		t.Errorf("default/a = %q", got)
	}
	if got := s.namespace("team-a").configMap("a").GetData()["k"]; got != "2" {
		t.Errorf("team-a/a = %q", got)
	}
	if s.namespace("team-a").secret("s") != nil || s.namespace("default").secret("s") == nil {
		t.Error("secret looked up in the wrong namespace")
	}
	// A removed object is a change.
	if !s.set([]*ordov1.ConfigMap{cm("", "a", "1")}, []*ordov1.Secret{sec}) {
		t.Error("removing a ConfigMap is not a change")
	}
	if s.namespace("team-a").configMap("a") != nil {
		t.Error("removed ConfigMap still found")
	}
	if !s.set([]*ordov1.ConfigMap{cm("", "a", "changed")}, []*ordov1.Secret{sec}) {
		t.Error("changed data is not a change")
	}
}

func TestDetectNodeResources(t *testing.T) {
	r := detectNodeResources(os.TempDir())
	if r.CPUMillis < 1000 || r.MemoryBytes <= 0 || r.EphemeralStorageBytes <= 0 {
		t.Errorf("node resources = %+v", r)
	}
}
