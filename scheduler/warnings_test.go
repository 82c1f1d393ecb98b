package scheduler

import (
	"strings"
	"testing"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
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
