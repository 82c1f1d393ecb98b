package agent

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	"github.com/ordoproject/ordo/internal/testimage"
	"github.com/ordoproject/ordo/network"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/volumes"
)

// testNamespace is unique per run: runc keeps its state under
// /run/containerd/runc/<namespace>, which every containerd on a machine shares.
var testNamespace = fmt.Sprintf("ordo-test-%d", os.Getpid())

// testContainerd is a containerd the tests start in a temporary directory.
type testContainerd struct {
	dir    string
	cmd    *exec.Cmd
	client *containerd.Client
}

var (
	ctdOnce sync.Once
	ctd     *testContainerd
	ctdErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if ctd != nil {
		ctd.shutdown()
	}
	os.Exit(code)
}

// requirePrivileged skips (or, under CI=true, fails) when the tests cannot run
// real containers.
func requirePrivileged(t testing.TB) {
	t.Helper()
	ci := os.Getenv("CI") == "true"
	missing := ""
	if os.Geteuid() != 0 {
		missing = "root"
	}
	for _, bin := range []string{"containerd", "runc", "containerd-shim-runc-v2"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing += " " + bin
		}
	}
	if _, err := os.Stat(testimage.BusyboxPath); err != nil {
		missing += " " + testimage.BusyboxPath
	}
	if missing == "" {
		return
	}
	if ci {
		t.Fatalf("missing prerequisites: %s", missing)
	}
	t.Skipf("needs %s", missing)
}

// sharedContainerd starts (once) the tests' containerd with the test image imported.
func sharedContainerd(t testing.TB) *testContainerd {
	t.Helper()
	requirePrivileged(t)
	ctdOnce.Do(func() { ctd, ctdErr = startContainerd() })
	if ctdErr != nil {
		t.Fatal(ctdErr)
	}
	return ctd
}

func startContainerd() (*testContainerd, error) {
	dir, err := os.MkdirTemp("", "ordo-agent-test-")
	if err != nil {
		return nil, err
	}
	c := &testContainerd{dir: dir}
	sock := filepath.Join(dir, "c.sock")
	cfg := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = %q
[ttrpc]
  address = %q
[metrics]
  address = ""
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock, sock+".ttrpc")
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		return nil, err
	}
	c.cmd = exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"))
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	logf.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		cl, err := containerd.New(sock, containerd.WithTimeout(time.Second))
		if err == nil {
			if _, err = cl.Version(context.Background()); err == nil {
				c.client = cl
				break
			}
			cl.Close()
		}
		if time.Now().After(deadline) {
			c.shutdown()
			return nil, fmt.Errorf("containerd did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := testimage.Import(context.Background(), c.client, testNamespace); err != nil {
		c.shutdown()
		return nil, err
	}
	return c, nil
}

// shutdown deletes every task and container, stops containerd and removes its
// directory, unmounting what is left.
func (c *testContainerd) shutdown() {
	if c.client != nil {
		ctx := namespaces.WithNamespace(context.Background(), testNamespace)
		if cs, err := c.client.Containers(ctx); err == nil {
			for _, ctr := range cs {
				if task, err := ctr.Task(ctx, nil); err == nil {
					task.Delete(ctx, containerd.WithProcessKill)
				}
				ctr.Delete(ctx, containerd.WithSnapshotCleanup)
			}
		}
		c.client.Close()
	}
	if c.cmd != nil && c.cmd.Process != nil {
		c.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { c.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			c.cmd.Process.Kill()
			<-done
		}
	}
	killShims(c.dir)
	unmountUnder(c.dir)
	os.RemoveAll(c.dir)
	// runc removes each container's cgroup but not the namespace's parent, nor
	// its state directory.
	cgs, _ := filepath.Glob("/sys/fs/cgroup/*/" + testNamespace)
	for _, cg := range append(cgs, "/sys/fs/cgroup/"+testNamespace) {
		os.Remove(cg)
	}
	os.Remove(filepath.Join("/run/containerd/runc", testNamespace))
}

// killShims kills shim processes left serving this containerd (by their -address).
func killShims(dir string) {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte("containerd-shim")) || !bytes.Contains(b, []byte(dir)) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func unmountUnder(dir string) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var mps []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir) {
			mps = append(mps, f[4])
		}
	}
	for i := len(mps) - 1; i >= 0; i-- {
		unix.Unmount(mps[i], unix.MNT_DETACH)
	}
}

// testAgent is an agent against the tests' containerd with its reports on a channel.
type testAgent struct {
	*Agent
	cancel  context.CancelFunc
	exited  bool
	reports chan *ordov1.PodStatusReport
	rt      Runtime
	net     *network.NetNS
}

func newTestAgent(t testing.TB, c *testContainerd, stateDir string) *testAgent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := Config{NodeName: "node-1", StateDir: stateDir, Namespace: testNamespace, MaxPods: 110,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	cfg.Volumes = newVolumeManager(cfg)
	rt := NewContainerdRuntime(c.client, testNamespace, "", "")
	nn := &network.NetNS{Dir: filepath.Join(stateDir, "netns")}
	a := New(ctx, cfg, rt, nn)
	ta := &testAgent{Agent: a, cancel: cancel, reports: make(chan *ordov1.PodStatusReport, 1000), rt: rt, net: nn}
	a.onReport = func(r *ordov1.PodStatusReport) { ta.reports <- r }
	if err := a.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Pods outlive their agent by design: a failed test's pods go here,
		// with their network namespaces, unless another agent adopted them.
		if !ta.exited {
			a.ApplyDesired(nil)
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				a.mu.Lock()
				n := len(a.workers)
				a.mu.Unlock()
				if n == 0 {
					break
				}
			}
		}
		cancel()
		a.Wait()
	})
	return ta
}

// newVolumeManager is the volume manager cmd/ordo-agent gives the agent.
func newVolumeManager(cfg Config) *volumes.Manager {
	return volumes.NewManager(cfg.StateDir, &volumes.KernelMounter{}, cfg.Logger.With("node", cfg.NodeName))
}

// exit stops the agent the way SIGTERM does: its pods keep running.
func (ta *testAgent) exit() {
	ta.exited = true
	ta.cancel()
	ta.Wait()
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// waitReport returns the first report satisfying ok, failing after a minute
// (a safety net against hangs, not a speed assertion).
func (ta *testAgent) waitReport(t testing.TB, what string, ok func(*ordov1.PodStatusReport) bool) *ordov1.PodStatusReport {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case r := <-ta.reports:
			if ok(r) {
				return r
			}
		case <-timeout:
			t.Fatalf("no report: %s", what)
		}
	}
}

func phaseIs(name string, epoch uint64, phase ordov1.PodPhase) func(*ordov1.PodStatusReport) bool {
	return func(r *ordov1.PodStatusReport) bool {
		return r.GetName() == name && r.GetEpoch() == epoch && r.GetStatus().GetPhase() == phase
	}
}

func testPod(name string, epoch uint64, ctr *ordov1.Container) *ordov1.Pod {
	set, ord := "web", int32(0)
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		set = name[:i]
		n, _ := strconv.Atoi(name[i+1:])
		ord = int32(n)
	}
	if ctr.Image == "" {
		ctr.Image = testimage.DefaultName
	}
	if ctr.ImagePullPolicy == "" {
		ctr.ImagePullPolicy = "Never"
	}
	return &ordov1.Pod{
		Metadata: &ordov1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: &ordov1.PodSpec{
			Containers:                    []*ordov1.Container{ctr},
			RestartPolicy:                 "Always",
			TerminationGracePeriodSeconds: proto.Int64(1),
			Hostname:                      name,
			Subdomain:                     set,
		},
		NodeName: "node-1", SetName: set, Ordinal: ord, Revision: set + "-abc", Epoch: epoch,
	}
}
