package export

import (
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"sigs.k8s.io/yaml"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func TestStatefulSetInKubernetesShape(t *testing.T) {
	set := &ordov1.StatefulSet{
		Metadata: &ordov1.ObjectMeta{Name: "web", Namespace: "default", Generation: 2, Uid: "u1", CreationTime: timestamppb.Now()},
		Spec: &ordov1.StatefulSetSpec{
			Replicas: 3, ServiceName: "nginx",
			Selector: &ordov1.LabelSelector{MatchLabels: map[string]string{"app": "nginx"}},
			Template: &ordov1.PodTemplate{Metadata: &ordov1.ObjectMeta{Labels: map[string]string{"app": "nginx"}}, Spec: &ordov1.PodSpec{
				Containers: []*ordov1.Container{{Name: "nginx", Image: "nginx:1.25",
					ReadinessProbe: &ordov1.Probe{PeriodMs: 200, TimeoutMs: 1000, Exec: &ordov1.ExecAction{Command: []string{"true"}}},
					Resources:      &ordov1.ResourceRequirements{Limits: map[string]string{"memory": "64Mi"}}}},
			}},
			UpdateStrategy: &ordov1.UpdateStrategy{Type: "RollingUpdate", RollingUpdate: &ordov1.RollingUpdate{Partition: 1, MaxUnavailable: 1}},
		},
		Status: &ordov1.StatefulSetStatus{Replicas: 3, ReadyReplicas: 2, ObservedGeneration: 2, UpdateRevision: "web-abc"},
	}
	o, err := Object(set)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(o)
	y, _ := yaml.JSONToYAML(b)
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	md := got["metadata"].(map[string]any)
	spec := got["spec"].(map[string]any)
	st := got["status"].(map[string]any)
	if got["apiVersion"] != "apps/v1" || got["kind"] != "StatefulSet" || md["creationTimestamp"] == nil || md["generation"] != float64(2) ||
		spec["replicas"] != float64(3) || st["readyReplicas"] != float64(2) || st["updateRevision"] != "web-abc" {
		t.Fatalf("not the Kubernetes shape:\n%s", y)
	}
	tpl := spec["template"].(map[string]any)
	c := tpl["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	probe := c["readinessProbe"].(map[string]any)
	if probe["periodSeconds"] != float64(1) || probe["timeoutSeconds"] != float64(1) ||
		tpl["metadata"].(map[string]any)["annotations"].(map[string]any)["ordo.dev/nginx.readiness.period-ms"] != "200" {
		t.Fatalf("sub-second period not kept:\n%s", y)
	}
	if !strings.Contains(string(y), "memory: 64Mi") {
		t.Fatalf("resources:\n%s", y)
	}
}

func TestEveryStoredKindExports(t *testing.T) {
	for _, m := range []proto.Message{&ordov1.StatefulSet{}, &ordov1.Service{}, &ordov1.Pod{}, &ordov1.NodeInfo{}, &ordov1.PersistentVolume{},
		&ordov1.PersistentVolumeClaim{}, &ordov1.StorageClass{}, &ordov1.ConfigMap{}, &ordov1.Secret{}, &ordov1.PodDisruptionBudget{}, &ordov1.Endpoints{}} {
		o, err := Object(m)
		if err != nil {
			t.Errorf("%T: %v", m, err)
			continue
		}
		b, _ := json.Marshal(o)
		var got map[string]any
		_ = json.Unmarshal(b, &got)
		if got["kind"] == "" || got["apiVersion"] == "" {
			t.Errorf("%T: no kind/apiVersion: %s", m, b)
		}
	}
	l, err := Objects([]proto.Message{&ordov1.Pod{Metadata: &ordov1.ObjectMeta{Name: "a"}}})
	if err != nil || l.Kind != "List" || len(l.Items) != 1 {
		t.Fatalf("Objects = %+v, %v", l, err)
	}
}
