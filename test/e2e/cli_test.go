package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordoproject/ordo/test/framework"
)

// ordoCLI builds the ordo command once and runs it against the lab, as a user would.
func ordoCLI(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	bin := filepath.Join(os.TempDir(), "ordo-e2e-cli")
	if _, err := os.Stat(bin); err != nil || !cliBuilt {
		build := exec.Command("go", "build", "-o", bin, "./cmd/ordo")
		build.Dir = framework.RepoRoot()
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build ./cmd/ordo: %v\n%s", err, out)
		}
		cliBuilt = true
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "ORDO_ADDR="+clus.Socket())
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

var cliBuilt bool

// The README's example: apply examples/web.yaml, watch web-0..2 come up in order,
// read them back as a table and as JSON, scale with the CLI, delete with -f.
func TestCLIWebExample(t *testing.T) {
	framework.Need(t, clus)
	example := filepath.Join(framework.RepoRoot(), "examples", "web.yaml")
	out, err := ordoCLI(t, "", "apply", "-f", example)
	if err != nil {
		t.Fatalf("ordo apply: %v\n%s", err, out)
	}
	if !strings.Contains(out, "statefulset/web created") || !strings.Contains(out, "service/nginx created") {
		t.Errorf("apply printed %q", out)
	}
	defer func() {
		if out, err := ordoCLI(t, "", "delete", "-f", example); err != nil {
			t.Errorf("ordo delete -f: %v\n%s", err, out)
		}
		framework.WaitFor(t, clus, "web gone", 120*time.Second, func() bool { return len(framework.ListPods(t, clus, "web")) == 0 })
	}()
	framework.WaitSetReady(t, clus, "web", "web-0", "web-1", "web-2")

	out, err = ordoCLI(t, "", "get", "pods", "-o", "json")
	if err != nil {
		t.Fatalf("get pods -o json: %v\n%s", err, out)
	}
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("get pods -o json is not JSON: %v\n%s", err, out)
	}
	seen := 0
	for _, it := range list.Items {
		md, _ := it["metadata"].(map[string]any)
		if name, _ := md["name"].(string); strings.HasPrefix(name, "web-") {
			seen++
			// The Kubernetes shape: what kubectl's jq scripts read.
			if it["kind"] != "Pod" || it["apiVersion"] != "v1" {
				t.Errorf("%s: kind %v apiVersion %v", name, it["kind"], it["apiVersion"])
			}
			st, _ := it["status"].(map[string]any)
			for _, k := range []string{"phase", "podIP", "startTime", "conditions", "containerStatuses"} {
				if _, ok := st[k]; !ok {
					t.Errorf("%s: status has no %s: %v", name, k, st)
				}
			}
			if st["phase"] != "Running" {
				t.Errorf("%s: phase %v", name, st["phase"])
			}
			spec, _ := it["spec"].(map[string]any)
			if n, _ := spec["nodeName"].(string); n == "" {
				t.Errorf("%s: no spec.nodeName", name)
			}
			labels, _ := md["labels"].(map[string]any)
			if _, ok := labels["controller-revision-hash"]; !ok {
				t.Errorf("%s: no controller-revision-hash label", name)
			}
			if _, ok := md["creationTimestamp"]; !ok {
				t.Errorf("%s: no metadata.creationTimestamp", name)
			}
		}
	}
	if seen != 3 {
		t.Errorf("get pods -o json lists %d web pods:\n%s", seen, out)
	}

	out, _ = ordoCLI(t, "", "get", "sts", "web")
	if !strings.Contains(out, "3/3") {
		t.Errorf("get sts web:\n%s", out)
	}
	out, _ = ordoCLI(t, "", "get", "pods")
	for _, name := range []string{"web-0", "web-1", "web-2"} {
		if !strings.Contains(out, name) || !strings.Contains(out, "Running") {
			t.Errorf("get pods lacks %s Running:\n%s", name, out)
		}
	}

	if out, err := ordoCLI(t, "", "scale", "sts/web", "--replicas=1"); err != nil {
		t.Fatalf("scale: %v\n%s", err, out)
	}
	framework.WaitSetReady(t, clus, "web", "web-0")
}

// Bad input gets an error naming the field, and nothing is stored.
func TestCLIRejectsBadInput(t *testing.T) {
	framework.Need(t, clus)
	cases := map[string]struct{ manifest, field string }{
		"negative replicas": {setManifest("bad", "OrderedReady", -1, plainSleeper), "spec.replicas"},
		"invalid name":      {strings.Replace(setManifest("bad", "OrderedReady", 1, plainSleeper), "name: bad\n", "name: Bad_Name\n", 1), "metadata.name"},
		"selector mismatch": {strings.Replace(setManifest("bad", "OrderedReady", 1, plainSleeper), "      labels:\n        app: bad", "      labels:\n        app: other", 1), "spec.selector"},
		"unknown field":     {strings.Replace(setManifest("bad", "OrderedReady", 1, plainSleeper), "  replicas:", "  replica: 2\n  replicas:", 1), "replica"},
		"missing image":     {strings.Replace(setManifest("bad", "OrderedReady", 1, plainSleeper), "        image: ordo.local/busybox:latest\n", "", 1), "image"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := ordoCLI(t, c.manifest, "apply", "-f", "-")
			if err == nil {
				t.Fatalf("apply accepted:\n%s", out)
			}
			if !strings.Contains(out, c.field) {
				t.Errorf("error does not name %s: %s", c.field, out)
			}
			if out, _ := ordoCLI(t, "", "get", "sts", "bad"); !strings.Contains(strings.ToLower(out), "not found") {
				t.Errorf("after a rejected apply, get sts bad says:\n%s", out)
			}
		})
	}
}
