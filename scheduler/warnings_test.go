package scheduler

import (
	"os"
	"strings"
	"testing"

	"github.com/ordoproject/ordo/internal/kinds"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/scheduler/state"
)

// A field accepted without effect comes back as a warning of the apply and
// is recorded as an event of its object.
func TestApplyWarningsBecomeEvents(t *testing.T) {
	h := startHarness(t, t.TempDir())
	resp := h.apply(`apiVersion: apps/v1
kind: StatefulSet
metadata: {name: zk}
spec:
  serviceName: zk
  replicas: 0
  selector: {matchLabels: {app: zk}}
  template:
    metadata: {labels: {app: zk}}
    spec:
      serviceAccountName: zk
      containers: [{name: c, image: ordo.local/busybox:latest}]
`)
	if len(resp.GetWarnings()) == 0 || !strings.Contains(resp.GetWarnings()[0], "StatefulSet default/zk: spec.template.spec.serviceAccountName") {
		t.Fatalf("warnings = %q", resp.GetWarnings())
	}
	get, err := h.ctl.Get(h.ctx(), &ordov1.GetRequest{Ref: &ordov1.ObjectRef{Kind: "sts", Name: "zk"}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range get.GetEvents() {
		found = found || (ev.GetReason() == "AcceptedWithoutEffect" && strings.HasPrefix(ev.GetMessage(), "spec.template.spec.serviceAccountName"))
	}
	if !found {
		t.Fatalf("no warning event: %v", get.GetEvents())
	}
	// Too many warnings sent with objects are refused.
	many := make([]string, 1001)
	_, err = h.ctl.Apply(h.ctx(), &ordov1.ApplyRequest{Objects: []*ordov1.Object{{Kind: &ordov1.Object_ConfigMap{ConfigMap: &ordov1.ConfigMap{Metadata: &ordov1.ObjectMeta{Name: "x"}}}}}, Warnings: many})
	if err == nil || !strings.Contains(err.Error(), "warnings") {
		t.Fatalf("1001 warnings: %v", err)
	}
}

// The Kubernetes tutorials' manifests apply unchanged, and a budget gets
// its status.
func TestTutorialManifestsApply(t *testing.T) {
	h := startHarness(t, t.TempDir())
	for _, f := range []string{"web", "zookeeper", "mysql", "cassandra"} {
		data, err := os.ReadFile("../test/e2e/testdata/" + f + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		resp := h.apply(string(data))
		for _, r := range resp.GetResults() {
			if r.GetAction() != "created" {
				t.Errorf("%s: %s %s %s", f, r.GetKind(), r.GetName(), r.GetAction())
			}
		}
	}
	list, err := h.ctl.List(h.ctx(), &ordov1.ListRequest{Kind: "pdb"})
	if err != nil || len(list.GetPodDisruptionBudgets()) != 1 {
		t.Fatalf("pdb list: %v %v", list, err)
	}
	h.settle("zk-pdb status", func(s *state.Store) bool {
		return s.PodDisruptionBudget("default", "zk-pdb").GetStatus().GetExpectedPods() == 3
	})
	cms, err := h.ctl.List(h.ctx(), &ordov1.ListRequest{Kind: "cm"})
	if err != nil || len(cms.GetConfigMaps()) != 1 {
		t.Fatalf("configmaps: %v %v", cms, err)
	}
}

// An agent's warning about a pod (an image run from its local copy) is an
// event of the pod; more than the bound are dropped.
func TestAgentWarningsBecomePodEvents(t *testing.T) {
	h := startHarness(t, t.TempDir())
	a := newFakeAgent(t, "node-1")
	a.connect(h)
	h.apply(setManifest("web", 1, "OrderedReady"))
	a.waitDesired("web-0", func(names []string) bool { return len(names) == 1 })
	many := []string{"Could not pull image \"x\" (no route); running the copy the node has"}
	for i := 0; i < 20; i++ {
		many = append(many, "more")
	}
	if err := a.send(&ordov1.AgentMessage{Msg: &ordov1.AgentMessage_Status{Status: &ordov1.PodStatusReport{
		Name: "web-0", Namespace: "default", Epoch: a.epoch("web-0"), Warnings: many,
		Status: &ordov1.PodStatus{Phase: ordov1.PodPhase_POD_PHASE_PENDING, Reason: "ContainerCreating"}}}}); err != nil {
		t.Fatal(err)
	}
	var warnings int
	h.settle("warning events", func(s *state.Store) bool {
		warnings = 0
		for _, ev := range s.Events(kinds.Pod, "default/web-0") {
			if ev.GetReason() == "Warning" {
				warnings++
			}
		}
		return warnings > 0
	})
	if warnings != 10 {
		t.Fatalf("%d warning events, want the first 10", warnings)
	}
}
