// Package vmlab runs ordo across virtual machines: scripts/vmlab boots node
// VMs (containerd and ordo-agent under systemd) and an NFS server VM with qemu,
// and these tests drive the scheduler on the host.
//
// Booting VMs takes minutes, so the tests run only when ORDO_VMLAB=1 (make
// vmlab-test); `go test ./...` skips them. When asked for, a missing
// prerequisite fails the run.
package vmlab

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/ordoproject/ordo/internal/identity"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

const labNodes = 2

var (
	repoRoot  string
	labDir    string
	dataDir   string
	netnsName string
	control   ordov1.ControlClient
	labErr    error // why the lab is not usable
	enabled   = os.Getenv("ORDO_VMLAB") == "1"
	// reuse runs the tests against a lab that is already up and leaves it
	// running (for working on the tests).
	reuse = os.Getenv("ORDO_VMLAB_REUSE") == "1"
)

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	labDir = envOr("ORDO_LAB_DIR", "/run/ordo-vmlab")
	dataDir = envOr("ORDO_LAB_DATA", "/var/lib/ordo-vmlab")
	netnsName = envOr("ORDO_LAB_NAME", "ordovm") + "-vmnet"
	if !enabled {
		os.Exit(m.Run())
	}
	code := func() int {
		if labErr = prerequisites(); labErr != nil {
			return m.Run()
		}
		var out string
		var err error
		if !reuse {
			_, _ = runVMLab(2*time.Minute, "down")
			start := time.Now()
			out, err = runVMLab(20*time.Minute, "up", "--nodes", fmt.Sprint(labNodes))
			fmt.Fprintf(os.Stderr, "vmlab up (%.0fs):\n%s", time.Since(start).Seconds(), out)
		}
		if err != nil {
			labErr = fmt.Errorf("scripts/vmlab up: %v", err)
			dumpConsoles()
			_, _ = runVMLab(2*time.Minute, "down")
			return m.Run()
		}
		conn, err := grpc.NewClient("unix://"+filepath.Join(labDir, "ordo.sock"),
			grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			labErr = err
		} else {
			defer conn.Close()
			control = ordov1.NewControlClient(conn)
		}
		code := m.Run()
		if code != 0 {
			dumpConsoles()
		}
		return code
	}()
	if enabled && !reuse {
		if out, err := runVMLab(2*time.Minute, "down"); err != nil {
			fmt.Fprintf(os.Stderr, "scripts/vmlab down: %v\n%s", err, out)
			code = 1
		}
		if left := leftovers(); len(left) > 0 {
			fmt.Fprintf(os.Stderr, "scripts/vmlab down left behind: %s\n", strings.Join(left, ", "))
			code = 1
		}
	}
	os.Exit(code)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func prerequisites() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("the VM lab needs root")
	}
	for _, bin := range []string{"qemu-system-x86_64", "qemu-img", "debootstrap", "mkfs.ext4", "ssh", "ip"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s not found (apt-get install qemu-system-x86 qemu-utils debootstrap openssh-client)", bin)
		}
	}
	for _, f := range []string{"bin/ordo", "bin/ordo-agent", "bin/ordo-scheduler", "bin/busybox-oci.tar"} {
		if _, err := os.Stat(filepath.Join(repoRoot, f)); err != nil {
			return fmt.Errorf("%s missing (make build image)", f)
		}
	}
	return nil
}

// leftovers lists what a finished lab must not leave: the namespace, qemu
// processes of this lab, the runtime and data directories.
func leftovers() []string {
	var left []string
	if _, err := os.Stat("/run/netns/" + netnsName); err == nil {
		left = append(left, "network namespace "+netnsName)
	}
	for _, d := range []string{labDir, dataDir} {
		if _, err := os.Stat(d); err == nil {
			left = append(left, d)
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte("qemu-system")) && bytes.Contains(b, []byte(dataDir+"/")) {
			left = append(left, "qemu process "+filepath.Base(filepath.Dir(p)))
		}
	}
	return left
}

func runVMLab(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(repoRoot, "scripts", "vmlab"), args...)
	cmd.Dir = repoRoot
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// vmExec runs a command on a VM (node-1, node-2, nfs) over ssh.
func vmExec(t testing.TB, vm string, cmd ...string) string {
	t.Helper()
	out, err := runVMLab(2*time.Minute, append([]string{"exec", vm, "--"}, cmd...)...)
	if err != nil {
		t.Fatalf("%s: %s: %v\n%s", vm, strings.Join(cmd, " "), err, out)
	}
	return out
}

// execInPod runs a command in a pod's container on its VM through ctr.
func execInPod(t testing.TB, vm, pod, container string, cmd ...string) string {
	t.Helper()
	id := identity.ContainerID(identity.DefaultNamespace, pod, container)
	args := append([]string{"ctr", "-n", "ordo", "tasks", "exec",
		"--exec-id", fmt.Sprintf("t%d", time.Now().UnixNano()), id}, cmd...)
	return vmExec(t, vm, args...)
}

func dumpConsoles() {
	files, _ := filepath.Glob(filepath.Join(labDir, "*.console"))
	files = append(files, filepath.Join(labDir, "scheduler.log"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		fmt.Fprintf(os.Stderr, "==== %s (tail)\n%s\n", f, b)
	}
}

func needLab(t testing.TB) {
	t.Helper()
	if !enabled {
		t.Skip("VM lab tests run with ORDO_VMLAB=1 (make vmlab-test)")
	}
	if labErr != nil {
		t.Fatalf("VM lab unavailable: %v", labErr)
	}
}

func apply(t testing.TB, manifest string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := control.Apply(ctx, &ordov1.ApplyRequest{Manifest: []byte(manifest)}); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

func list(t testing.TB, kind string) *ordov1.ListResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := control.List(ctx, &ordov1.ListRequest{Kind: kind})
	if err != nil {
		t.Fatalf("list %s: %v", kind, err)
	}
	return resp
}

func listPods(t testing.TB, set string) map[string]*ordov1.Pod {
	t.Helper()
	pods := map[string]*ordov1.Pod{}
	for _, p := range list(t, "Pod").GetPods() {
		if p.GetSetName() == set {
			pods[p.GetMetadata().GetName()] = p
		}
	}
	return pods
}

func readyPod(p *ordov1.Pod) bool {
	return p.GetStatus().GetPhase() == ordov1.PodPhase_POD_PHASE_RUNNING && p.GetStatus().GetReady() &&
		p.GetMetadata().GetDeletionTime() == nil
}

// waitFor polls cond until it holds or the deadline passes; no assertion here
// is about speed (the VMs run under emulation on a shared machine).
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func waitSetReady(t testing.TB, set string, n int) map[string]*ordov1.Pod {
	t.Helper()
	var pods map[string]*ordov1.Pod
	waitFor(t, fmt.Sprintf("%d Ready pods of %s", n, set), 5*time.Minute, func() bool {
		pods = listPods(t, set)
		ready := 0
		for _, p := range pods {
			if readyPod(p) {
				ready++
			}
		}
		return ready == n && len(pods) == n
	})
	return pods
}

func deleteSet(t testing.TB, set string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := control.Delete(ctx, &ordov1.DeleteRequest{Ref: &ordov1.ObjectRef{Kind: "StatefulSet", Name: set}}); err != nil {
		t.Fatalf("delete statefulset %s: %v", set, err)
	}
	waitFor(t, "pods of "+set+" gone", 3*time.Minute, func() bool { return len(listPods(t, set)) == 0 })
}

// recorder keeps every pod event of one set, in the order the scheduler sent them.
type recorder struct {
	mu     sync.Mutex
	events []*ordov1.Event
	cancel context.CancelFunc
	done   chan struct{}
}

func record(t testing.TB, set string) *recorder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := control.Watch(ctx, &ordov1.WatchRequest{Kinds: []string{"Pod", "Node"}, SendInitial: true})
	if err != nil {
		cancel()
		t.Fatalf("watch: %v", err)
	}
	if _, err := stream.Recv(); err != nil {
		cancel()
		t.Fatalf("watch: %v", err)
	}
	r := &recorder{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			ev, err := stream.Recv()
			if err != nil {
				return
			}
			if ev.GetPod() == nil || ev.GetPod().GetSetName() != set {
				continue
			}
			r.mu.Lock()
			r.events = append(r.events, ev)
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() { r.cancel(); <-r.done })
	return r
}

// checkOrderedCreation asserts that every pod was created only once all lower
// ordinals were Running and Ready, and returns the creation order.
func checkOrderedCreation(t testing.TB, r *recorder) []string {
	t.Helper()
	r.mu.Lock()
	events := slices.Clone(r.events)
	r.mu.Unlock()
	ready := map[int32]bool{}
	var created []string
	for _, ev := range events {
		if ev.GetReason() != "" {
			continue
		}
		p := ev.GetPod()
		switch ev.GetType() {
		case ordov1.EventType_EVENT_TYPE_ADDED:
			for o := int32(0); o < p.GetOrdinal(); o++ {
				if !ready[o] {
					t.Errorf("%s created while ordinal %d was not Running and Ready", p.GetMetadata().GetName(), o)
				}
			}
			created = append(created, p.GetMetadata().GetName())
			ready[p.GetOrdinal()] = readyPod(p)
		case ordov1.EventType_EVENT_TYPE_MODIFIED:
			ready[p.GetOrdinal()] = readyPod(p)
		case ordov1.EventType_EVENT_TYPE_DELETED:
			delete(ready, p.GetOrdinal())
		}
	}
	return created
}
