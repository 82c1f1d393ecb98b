package controller

import (
	"regexp"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func TestRevision(t *testing.T) {
	a := testSet("web", 3, "")
	b := testSet("web", 5, PolicyParallel) // only the template counts
	b.Metadata.Generation = 7
	ra, rb := Revision(a), Revision(b)
	if ra != rb {
		t.Errorf("same template, different revisions %q %q", ra, rb)
	}
	if !regexp.MustCompile(`^web-[a-z0-9]{10}$`).MatchString(ra) {
		t.Errorf("revision %q is not <set>-<10 lowercase alphanumerics>", ra)
	}

	// Map order must not matter.
	for i := 0; i < 20; i++ {
		c := testSet("web", 3, "")
		c.Spec.Template.Metadata.Labels = map[string]string{"a": "1", "b": "2", "c": "3", "app": "web", "tier": "x"}
		d := proto.Clone(c).(*ordov1.StatefulSet)
		if Revision(c) != Revision(d) {
			t.Fatal("revision depends on map order")
		}
	}

	for name, change := range map[string]func(*ordov1.StatefulSet){
		"image":  func(s *ordov1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "ordo.local/busybox:v2" },
		"labels": func(s *ordov1.StatefulSet) { s.Spec.Template.Metadata.Labels["tier"] = "db" },
		"env": func(s *ordov1.StatefulSet) {
			s.Spec.Template.Spec.Containers[0].Env = []*ordov1.EnvVar{{Name: "A", Value: "1"}}
		},
	} {
		c := testSet("web", 3, "")
		change(c)
		if Revision(c) == ra {
			t.Errorf("changing the %s keeps revision %q", name, ra)
		}
	}
}

func TestNewPod(t *testing.T) {
	set := testSet("web", 3, "")
	set.Metadata.Namespace = ""
	set.Spec.ServiceName = "nginx"
	set.Spec.Template.Metadata.Annotations = map[string]string{"note": "x"}
	rev := Revision(set)
	p := NewPod(set, 2, rev)

	if p.Metadata.Name != "web-2" || p.Metadata.Namespace != identity.DefaultNamespace {
		t.Errorf("metadata %v", p.Metadata)
	}
	want := map[string]string{
		"app":                      "web",
		identity.LabelPodName:      "web-2",
		identity.LabelPodIndex:     "2",
		identity.LabelRevisionHash: rev,
	}
	if len(p.Metadata.Labels) != len(want) {
		t.Errorf("labels %v, want %v", p.Metadata.Labels, want)
	}
	for k, v := range want {
		if p.Metadata.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, p.Metadata.Labels[k], v)
		}
	}
	if p.Metadata.Annotations["note"] != "x" {
		t.Errorf("annotations %v", p.Metadata.Annotations)
	}
	if p.Spec.Hostname != "web-2" || p.Spec.Subdomain != "nginx" {
		t.Errorf("hostname %q subdomain %q", p.Spec.Hostname, p.Spec.Subdomain)
	}
	if len(p.Spec.Containers) != 1 || p.Spec.Containers[0].Image != "ordo.local/busybox:latest" {
		t.Errorf("containers %v", p.Spec.Containers)
	}
	if p.SetName != "web" || p.Ordinal != 2 || p.Revision != rev || p.Epoch != 0 || p.NodeName != "" {
		t.Errorf("pod %v", p)
	}
	if p.Status.GetPhase() != ordov1.PodPhase_POD_PHASE_PENDING {
		t.Errorf("phase %v", p.Status.GetPhase())
	}

	// The pod is a copy: changing it leaves the set's template alone.
	p.Spec.Containers[0].Image = "changed"
	p.Metadata.Labels["app"] = "changed"
	if set.Spec.Template.Spec.Containers[0].Image != "ordo.local/busybox:latest" || set.Spec.Template.Metadata.Labels["app"] != "web" {
		t.Error("NewPod shares memory with the template")
	}
	if set.Spec.Template.Spec.Hostname != "" {
		t.Error("NewPod changed the template")
	}
}
