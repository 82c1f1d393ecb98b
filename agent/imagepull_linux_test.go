package agent

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/ordoproject/ordo/internal/testimage"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// With imagePullPolicy Always and a registry that cannot be reached, a
// pod runs the node's copy of its image and the agent says so in a
// warning (the registry here is a closed loopback port: nothing leaves
// the machine).
func TestAlwaysPullFallsBackToLocalCopyWithWarning(t *testing.T) {
	c := sharedContainerd(t)
	const ref = "127.0.0.1:1/ordo/busybox:offline"
	var buf bytes.Buffer
	if err := testimage.Build(&buf, ref); err != nil {
		t.Fatal(err)
	}
	ctx := namespaces.WithNamespace(context.Background(), testNamespace)
	imgs, err := c.client.Import(ctx, &buf)
	if err != nil || len(imgs) == 0 {
		t.Fatalf("import: %v", err)
	}
	defer c.client.ImageService().Delete(ctx, imgs[0].Name)
	ta := newTestAgent(t, c, t.TempDir())
	pod := testPod("off-0", 1, &ordov1.Container{Name: "app", Image: ref, ImagePullPolicy: "Always", Command: []string{"sleep", "1000"}})
	ta.ApplyDesired([]*ordov1.Pod{pod})
	warned := false
	ta.waitReport(t, "off-0 running", func(r *ordov1.PodStatusReport) bool {
		for _, w := range r.GetWarnings() {
			warned = warned || strings.Contains(w, "running the copy the node has")
		}
		return phaseIs("off-0", 1, ordov1.PodPhase_POD_PHASE_RUNNING)(r)
	})
	if !warned {
		t.Fatal("no warning that the local copy ran")
	}
	ta.ApplyDesired(nil)
	ta.waitReport(t, "off-0 gone", phaseIs("off-0", 1, ordov1.PodPhase_POD_PHASE_GONE))
}
