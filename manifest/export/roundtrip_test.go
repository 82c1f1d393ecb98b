package export_test

import (
	"encoding/json"
	"os"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/ordoproject/ordo/internal/kinds"
	"github.com/ordoproject/ordo/manifest"
	"github.com/ordoproject/ordo/manifest/export"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// What `ordo get -o yaml` prints of an applied object applies again and
// gives the same object.
func TestExportedObjectsApplyAgain(t *testing.T) {
	for _, f := range []string{"web", "zookeeper", "mysql", "cassandra"} {
		data, err := os.ReadFile("../../test/e2e/testdata/" + f + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		first, err := manifest.Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, o := range first.Objects {
			_, m, _ := kindsOf(o)
			exported, err := export.Object(m)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			j, _ := json.Marshal(exported)
			y, _ := yaml.JSONToYAML(j)
			again, err := manifest.Decode(y)
			if err != nil {
				t.Fatalf("%s: exported object does not apply again: %v\n%s", f, err, y)
			}
			// Quantities come back in canonical form ("0.5" as "500m"), as
			// the Kubernetes API server keeps them.
			canonical(o)
			canonical(again.Objects[0])
			if len(again.Objects) != 1 || !proto.Equal(again.Objects[0], o) {
				t.Errorf("%s: round trip changed the object:\nwas  %v\nnow  %v\n%s", f, o, again.Objects, y)
			}
		}
	}
}

func canonical(o *ordov1.Object) {
	set := o.GetStatefulSet()
	if set == nil {
		return
	}
	ps := set.GetSpec().GetTemplate().GetSpec()
	for _, c := range append(append([]*ordov1.Container(nil), ps.GetInitContainers()...), ps.GetContainers()...) {
		for _, m := range []map[string]string{c.GetResources().GetLimits(), c.GetResources().GetRequests()} {
			for k, v := range m {
				if q, err := resource.ParseQuantity(v); err == nil {
					m[k] = q.String()
				}
			}
		}
	}
}

// A probe period below one second survives get -o yaml and apply.
func TestSubSecondProbeSurvivesRoundTrip(t *testing.T) {
	const web = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: nginx
  replicas: 1
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      containers:
      - name: nginx
        image: nginx
        readinessProbe:
          exec: {command: ["true"]}
          periodSeconds: 0.2
          timeoutSeconds: 0.05
`
	first, err := manifest.Decode([]byte(web))
	if err != nil {
		t.Fatal(err)
	}
	_, m, _ := kindsOf(first.Objects[0])
	exported, _ := export.Object(m)
	j, _ := json.Marshal(exported)
	y, _ := yaml.JSONToYAML(j)
	again, err := manifest.Decode(y)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(again.Objects[0], first.Objects[0]) {
		t.Fatalf("round trip changed the set:\nwas %v\nnow %v\n%s", first.Objects[0], again.Objects[0], y)
	}
}

// A stored set, with the fields the scheduler writes (uid, generation,
// creation time, status), applies again: those fields are accepted and
// have no effect.
func TestStoredObjectAppliesAgain(t *testing.T) {
	data, err := os.ReadFile("../../test/e2e/testdata/web.yaml")
	if err != nil {
		t.Fatal(err)
	}
	first, err := manifest.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range first.Objects {
		_, m, _ := kindsOf(o)
		stored := proto.Clone(m)
		meta := kinds.Meta(stored)
		meta.Uid, meta.Generation, meta.CreationTime = "0b0e6d4c-1", 3, timestamppb.Now()
		if s, ok := stored.(*ordov1.StatefulSet); ok {
			s.Status = &ordov1.StatefulSetStatus{Replicas: 2, ReadyReplicas: 2, CurrentRevision: "web-1", ObservedGeneration: 3}
		}
		exported, _ := export.Object(stored)
		j, _ := json.Marshal(exported)
		y, _ := yaml.JSONToYAML(j)
		again, err := manifest.Decode(y)
		if err != nil {
			t.Fatalf("stored %T does not apply again: %v\n%s", m, err, y)
		}
		if !proto.Equal(again.Objects[0], o) {
			t.Errorf("round trip changed it:\nwas %v\nnow %v", o, again.Objects[0])
		}
	}
}
