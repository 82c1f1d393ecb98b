package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// The end-to-end tests run against the local lab (scripts/lab): a scheduler and
// three nodes, each a network namespace with its own containerd and agent.
// They need root, containerd, runc and iproute2. Under CI=true a missing
// prerequisite fails the run; elsewhere the tests are skipped with the reason.

const labNodes = 3

var (
	repoRoot string
	labDir   string
	control  ordov1.ControlClient
	labErr   error // why the lab is not usable
)

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	labDir = os.Getenv("ORDO_LAB_DIR")
	if labDir == "" {
		labDir = "/run/ordo-lab"
	}
	code := func() (code int) {
		if labErr = prerequisites(); labErr != nil {
			return m.Run() // each test reports labErr
		}
		// A clean start, then one lab for the whole package.
		_, _ = runLab("down")
		if out, err := runLab("up", "--nodes", fmt.Sprint(labNodes)); err != nil {
			labErr = fmt.Errorf("scripts/lab up: %v\n%s", err, out)
			dumpLabLogs()
			_, _ = runLab("down")
			return m.Run()
		}
		defer func() {
			if out, err := runLab("down"); err != nil {
				fmt.Fprintf(os.Stderr, "scripts/lab down: %v\n%s", err, out)
			}
			if left := labLeftovers(); len(left) > 0 {
				fmt.Fprintf(os.Stderr, "scripts/lab down left behind: %v\n", left)
				code = 1
			}
		}()
		conn, err := grpc.NewClient("unix://"+filepath.Join(labDir, "ordo.sock"),
			grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			labErr = err
			return m.Run()
		}
		defer conn.Close()
		control = ordov1.NewControlClient(conn)
		code = m.Run()
		if code != 0 {
			dumpLabLogs()
		}
		return code
	}()
	os.Exit(code)
}

func prerequisites() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("end-to-end tests need root")
	}
	for _, bin := range []string{"containerd", "runc", "ctr", "ip", "nsenter", "busybox"} {
		if _, err := exec.LookPath(bin); err != nil {
			if _, err2 := os.Stat("/bin/" + bin); err2 != nil {
				return fmt.Errorf("%s not found (scripts/install-deps.sh installs it)", bin)
			}
		}
	}
	return nil
}

// needLab fails (under CI) or skips the test when the lab could not be started.
func needLab(t testing.TB) {
	t.Helper()
	if labErr == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("lab unavailable: %v", labErr)
	}
	t.Skipf("lab unavailable: %v", labErr)
}

func runLab(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(repoRoot, "scripts", "lab"), args...)
	cmd.Dir = repoRoot
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func lab(t testing.TB, args ...string) string {
	t.Helper()
	out, err := runLab(args...)
	if err != nil {
		t.Fatalf("scripts/lab %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func dumpLabLogs() {
	files, _ := filepath.Glob(filepath.Join(labDir, "*.log"))
	more, _ := filepath.Glob(filepath.Join(labDir, "*", "*.log"))
	for _, f := range append(files, more...) {
		b, _ := os.ReadFile(f)
		if len(b) > 6000 {
			b = b[len(b)-6000:]
		}
		fmt.Fprintf(os.Stderr, "==== %s (tail)\n%s\n", f, b)
	}
}

// nodeContainers lists the container IDs in namespace ordo on a node, as a user
// would with `scripts/lab exec node-1 -- ctr -n ordo containers ls -q`.
func nodeContainers(t testing.TB, node string) []string {
	t.Helper()
	out := lab(t, "exec", node, "--", "ctr", "-n", "ordo", "containers", "ls", "-q")
	var ids []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			ids = append(ids, l)
		}
	}
	sort.Strings(ids)
	return ids
}

// execInPod runs a command in a pod's container on its node through ctr.
// `ctr tasks exec` of containerd 1.6 now and then loses the output of a process
// that exits at once; an empty answer of a command that only reads is therefore
// asked again a few times.
var readOnlyCommands = map[string]bool{"cat": true, "hostname": true, "nslookup": true, "wget": true, "ls": true, "ip": true}

func execInPod(t testing.TB, node, pod, container string, cmd ...string) (string, error) {
	t.Helper()
	id := identity.ContainerID(identity.DefaultNamespace, pod, container)
	var out string
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		args := append([]string{"exec", node, "--", "ctr", "-n", "ordo", "tasks", "exec",
			"--exec-id", fmt.Sprintf("e2e-%d", time.Now().UnixNano()), id}, cmd...)
		out, err = runLab(args...)
		if err != nil || strings.TrimSpace(out) != "" || !readOnlyCommands[cmd[0]] {
			return out, err
		}
	}
	return out, err
}

func apply(t testing.TB, manifest string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := control.Apply(ctx, &ordov1.ApplyRequest{Manifest: []byte(manifest)}); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

func listPods(t testing.TB, set string) map[string]*ordov1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := control.List(ctx, &ordov1.ListRequest{Kind: "Pod"})
	if err != nil {
		t.Fatalf("list pods: %v", err)
	}
	pods := map[string]*ordov1.Pod{}
	for _, p := range resp.GetPods() {
		if p.GetSetName() == set {
			pods[p.GetMetadata().GetName()] = p
		}
	}
	return pods
}

func running(p *ordov1.Pod) bool {
	return p.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_RUNNING && p.GetMetadata().GetDeletionTime() == nil
}

func readyPod(p *ordov1.Pod) bool { return running(p) && p.GetStatus().GetReady() }

// waitFor polls cond until it holds or the deadline passes. It is how a test
// waits for the system to converge; no assertion here is about speed.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitSetReady waits until exactly the named pods exist and are Ready.
func waitSetReady(t testing.TB, set string, names ...string) map[string]*ordov1.Pod {
	t.Helper()
	var pods map[string]*ordov1.Pod
	waitFor(t, fmt.Sprintf("%s ready as %v", set, names), 90*time.Second, func() bool {
		pods = listPods(t, set)
		if len(pods) != len(names) {
			return false
		}
		for _, n := range names {
			if !readyPod(pods[n]) {
				return false
			}
		}
		return true
	})
	return pods
}

// deleteSet deletes a set and waits until its pods are gone from the store and
// from every node's containerd.
func deleteSet(t testing.TB, set string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := control.Delete(ctx, &ordov1.DeleteRequest{Ref: &ordov1.ObjectRef{Kind: "StatefulSet", Name: set}})
	if err != nil {
		t.Errorf("delete %s: %v", set, err)
		return
	}
	waitFor(t, set+" deleted", 120*time.Second, func() bool { return len(listPods(t, set)) == 0 })
	for i := 1; i <= labNodes; i++ {
		node := fmt.Sprintf("node-%d", i)
		waitFor(t, "containers of "+set+" gone from "+node, 30*time.Second, func() bool {
			for _, id := range nodeContainers(t, node) {
				if strings.HasPrefix(id, set+"-") {
					return false
				}
			}
			return true
		})
	}
}

func setManifest(name, policy string, replicas int, podSpec string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: %[1]s
spec:
  serviceName: %[1]s
  replicas: %[3]d
  podManagementPolicy: %[2]s
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      terminationGracePeriodSeconds: 1
%[4]s`, name, policy, replicas, podSpec)
}
