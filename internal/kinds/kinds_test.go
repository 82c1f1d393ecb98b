package kinds

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func TestLookupAliases(t *testing.T) {
	for alias, want := range map[string]string{
		"sts": StatefulSet, "StatefulSets": StatefulSet, "statefulset": StatefulSet,
		"po": Pod, "pods": Pod, "no": Node, "svc": Service, "pv": PersistentVolume,
		"pvc": PersistentVolumeClaim, "sc": StorageClass, "ep": Endpoints, "endpoints": Endpoints,
	} {
		k, ok := Lookup(alias)
		if !ok || k.Name != want {
			t.Errorf("Lookup(%q) = %v, %v; want %s", alias, k, ok, want)
		}
	}
	if _, err := Parse("deployment"); err == nil || err.Error() == "" {
		t.Fatalf("Parse(deployment) = %v, want an error listing the kinds", err)
	}
}

func TestKeyScope(t *testing.T) {
	if got := MustLookup("pvc").Key("", "www-web-0"); got != "default/www-web-0" {
		t.Errorf("claim key = %q", got)
	}
	if got := MustLookup("pv").Key("team", "vol-1"); got != "vol-1" {
		t.Errorf("volume key = %q", got)
	}
}

// Every stored kind round-trips through each place it travels in the API.
func TestConversionsRoundTrip(t *testing.T) {
	for _, k := range Stored() {
		m := withName(k, "x-"+k.Plural)

		ev := &ordov1.Event{}
		k.SetEvent(ev, m)
		if got := k.FromEvent(ev); !proto.Equal(got, m) {
			t.Errorf("%s: event round trip = %v", k.Name, got)
		}
		gr := &ordov1.GetResponse{}
		k.SetGet(gr, m)
		if got := k.FromGet(gr); !proto.Equal(got, m) {
			t.Errorf("%s: get round trip = %v", k.Name, got)
		}
		lr := &ordov1.ListResponse{}
		k.Append(lr, m)
		if items := k.Items(lr); len(items) != 1 || !proto.Equal(items[0], m) {
			t.Errorf("%s: list round trip = %v", k.Name, items)
		}
		if o := k.Object(m); o != nil {
			ok, om, found := OfObject(o)
			if !found || ok.Name != k.Name || !proto.Equal(om, m) {
				t.Errorf("%s: object round trip = %v %v", k.Name, ok, om)
			}
		}
		if got, ok := OfMessage(m); !ok || got.Name != k.Name {
			t.Errorf("%s: OfMessage = %v", k.Name, got)
		}
		if Meta(m).GetName() != "x-"+k.Plural {
			t.Errorf("%s: Meta = %v", k.Name, Meta(m))
		}
		// Other kinds see nothing of theirs in these.
		for _, other := range Stored() {
			if other != k && (other.FromEvent(ev) != nil || other.FromGet(gr) != nil) {
				t.Errorf("%s seen as %s", k.Name, other.Name)
			}
		}
	}
}

func TestOfEvent(t *testing.T) {
	for _, k := range Stored() {
		m := withName(k, "x")
		ev := &ordov1.Event{}
		k.SetEvent(ev, m)
		if got, om, ok := OfEvent(ev); !ok || got != k || !proto.Equal(om, m) {
			t.Errorf("%s: OfEvent = %v %v %v", k.Name, got, om, ok)
		}
	}
	if _, _, ok := OfEvent(&ordov1.Event{Reason: "Created"}); ok {
		t.Error("an event without an object has a kind")
	}
}

func withName(k *Kind, name string) proto.Message {
	m := k.New()
	f := m.ProtoReflect().Descriptor().Fields().ByName("metadata")
	meta := &ordov1.ObjectMeta{Name: name}
	m.ProtoReflect().Set(f, protoreflect.ValueOfMessage(meta.ProtoReflect()))
	return m
}
