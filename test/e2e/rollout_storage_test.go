package e2e

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ordoproject/ordo/test/framework"
)

// A rolling update keeps every pod's claim and data: each ordinal comes back on
// the new image, on its volume's node, and reads what it wrote before.
func TestRollingUpdateKeepsData(t *testing.T) {
	framework.Need(t, clus)
	pvNode := map[string]string{"local-pv1": "node-1", "local-pv2": "node-2"}
	for name, node := range pvNode {
		if err := os.MkdirAll(pvDir(node, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		deleteSetIfExists(t, "web")
		for _, c := range []string{"www-web-0", "www-web-1"} {
			_ = framework.Delete(clus, "pvc", c)
		}
		for name, node := range pvNode {
			_ = framework.Delete(clus, "pv", name)
			os.RemoveAll(pvDir(node, name))
		}
		_ = framework.Delete(clus, "sc", "local-storage")
	})
	framework.Apply(t, clus, storageManifest(pvNode))
	framework.Apply(t, clus, webSet(2, ""))
	before := framework.WaitSetReady(t, clus, "web", "web-0", "web-1")
	for name, p := range before {
		out, err := framework.ExecInPod(clus, p.GetNodeName(), name, "nginx", "sh", "-c", "echo kept-by-"+name+" > /usr/share/nginx/html/marker")
		if err != nil {
			t.Fatalf("write marker in %s: %v\n%s", name, err, out)
		}
	}
	oldRev := before["web-0"].GetRevision()

	setImage(t, "web", "nginx", imageV2)
	var newRev string
	framework.WaitFor(t, clus, "update revision", 30*time.Second, func() bool {
		newRev = getSet(t, "web").GetStatus().GetUpdateRevision()
		return newRev != "" && newRev != oldRev
	})
	pods := waitRevision(t, "web", newRev, "web-0", "web-1")
	for name, p := range pods {
		if p.GetEpoch() <= before[name].GetEpoch() {
			t.Fatalf("%s was not replaced (epoch %d)", name, p.GetEpoch())
		}
		if img := containerImage(t, p.GetNodeName(), name, "nginx"); img != imageV2 {
			t.Errorf("%s runs %s, want %s", name, img, imageV2)
		}
		out, err := framework.ExecInPod(clus, p.GetNodeName(), name, "nginx", "cat", "/usr/share/nginx/html/marker")
		if err != nil || strings.TrimSpace(out) != "kept-by-"+name {
			t.Errorf("%s reads %q from its volume after the update (%v)", name, out, err)
		}
	}
	checkOwnData(t, pods, pvNode, "web-0", "web-1")
}
