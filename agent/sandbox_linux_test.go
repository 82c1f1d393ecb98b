package agent

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func TestSharedProcessNamespaceAndHostPort(t *testing.T) {
	c := sharedContainerd(t)
	state := t.TempDir()
	ta := newTestAgent(t, c, state)
	ctx := context.Background()
	port := freePort(t)
	web := shContainer("web", "mkdir -p /www && echo hello from the pod > /www/index.html && httpd -f -p 8080 -h /www")
	web.Ports = []*ordov1.ContainerPort{{ContainerPort: 8080, HostPort: port, HostIp: "127.0.0.1"}}
	pod := testPod("share-0", 1, web)
	pod.Spec.Containers = append(pod.Spec.Containers, shContainer("other", "sleep 1002"))
	pod.Spec.ShareProcessNamespace = true
	ta.ApplyDesired([]*ordov1.Pod{pod})
	ta.waitReport(t, "share-0 running", phaseIs("share-0", 1, ordov1.PodPhase_POD_PHASE_RUNNING))

	out, _, err := execOutput(ctx, ta.rt, identity.ContainerID("default", "share-0", "web"), "ps")
	if err != nil || !strings.Contains(out, "sleep 1002") || !strings.Contains(out, pidNSInitName) {
		t.Errorf("ps in web does not show the other container and the pod's init: %q %v", out, err)
	}
	initPID := findPIDNSInit(ta.env.podDir("share-0"))
	if initPID == 0 {
		t.Fatal("no PID namespace init recorded")
	}

	url := "http://127.0.0.1:" + strconv.Itoa(int(port)) + "/"
	var body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(url)
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		break
	}
	if body != "hello from the pod\n" {
		t.Errorf("GET %s = %q", url, body)
	}

	// A container restarting keeps the namespace (and the others' processes).
	other := identity.ContainerID("default", "share-0", "other")
	if err := ta.rt.Signal(ctx, other, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ta.waitReport(t, "other restarted", func(r *ordov1.PodStatusReport) bool {
		cs := r.GetStatus().GetContainers()
		return r.GetName() == "share-0" && len(cs) == 2 && cs[1].GetRestartCount() == 1 && cs[1].GetRunning()
	})
	if out, _, _ := execOutput(ctx, ta.rt, other, "ps"); !strings.Contains(out, "httpd") {
		t.Errorf("after a restart the namespace lost web's process: %q", out)
	}

	// A restarted agent keeps the namespace and forwards the port again.
	ta.exit()
	ta = newTestAgent(t, c, state)
	ta.ApplyDesired([]*ordov1.Pod{pod})
	ta.waitReport(t, "share-0 adopted", func(r *ordov1.PodStatusReport) bool { return r.GetName() == "share-0" && r.GetStatus().GetReady() })
	if got := findPIDNSInit(ta.env.podDir("share-0")); got != initPID {
		t.Errorf("PID namespace init after the agent restarted = %d, was %d", got, initPID)
	}
	if resp, err := http.Get(url); err != nil {
		t.Errorf("host port after the agent restarted: %v", err)
	} else {
		resp.Body.Close()
	}

	ta.ApplyDesired(nil)
	ta.waitReport(t, "share-0 gone", phaseIs("share-0", 1, ordov1.PodPhase_POD_PHASE_GONE))
	// Killed by then; reaped (by the agent, its parent here) right after.
	for deadline := time.Now().Add(2 * time.Second); syscall.Kill(initPID, 0) == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("PID namespace init %d still there after GONE", initPID)
			break
		}
	}
	if _, err := http.Get(url); err == nil {
		t.Error("host port still forwarded after GONE")
	}
}
