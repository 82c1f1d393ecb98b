package framework

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// LocalLab is the local lab of scripts/lab: a scheduler and N nodes on this
// machine, each node a network namespace with its own containerd and agent.
// It needs root, containerd, runc and iproute2; under CI=true a missing
// prerequisite fails the tests, elsewhere they skip with the reason.
type LocalLab struct {
	availability
	N    int    // nodes: node-1 … node-N
	Dir  string // runtime state, sockets, logs ($ORDO_LAB_DIR)
	Data string // node data; local volumes of the tests go under <Data>/<node>/ ($ORDO_LAB_DATA)
	Name string // prefix of the lab's network namespaces ($ORDO_LAB_NAME)

	conn    *grpc.ClientConn
	control ordov1.ControlClient
}

// NewLocalLab describes a lab of n nodes where the environment puts it
// (ORDO_LAB_DIR, ORDO_LAB_DATA, ORDO_LAB_NAME, as scripts/lab reads them).
func NewLocalLab(n int) *LocalLab {
	return &LocalLab{
		N:    n,
		Dir:  envOr("ORDO_LAB_DIR", "/run/ordo-lab"),
		Data: envOr("ORDO_LAB_DATA", "/var/lib/ordo-lab"),
		Name: envOr("ORDO_LAB_NAME", "ordolab"),
	}
}

func (l *LocalLab) String() string                { return "lab" }
func (l *LocalLab) NotAsked() string              { return "" }
func (l *LocalLab) Required() bool                { return os.Getenv("CI") == "true" }
func (l *LocalLab) Control() ordov1.ControlClient { return l.control }

// Socket is the address of the scheduler's API.
func (l *LocalLab) Socket() string { return "unix://" + filepath.Join(l.Dir, "ordo.sock") }

func (l *LocalLab) Nodes() []string {
	nodes := make([]string, l.N)
	for i := range nodes {
		nodes[i] = fmt.Sprintf("node-%d", i+1)
	}
	return nodes
}

func (l *LocalLab) Waits() Waits {
	return Waits{Poll: 50 * time.Millisecond, SetReady: 90 * time.Second, SetGone: 120 * time.Second,
		ContainersGone: 30 * time.Second}
}

func (l *LocalLab) Prerequisites() error {
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

// Script runs scripts/lab on this lab, bounded to 5 minutes.
func (l *LocalLab) Script(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	root := RepoRoot()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "lab"), args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "ORDO_LAB_DIR="+l.Dir, "ORDO_LAB_DATA="+l.Data, "ORDO_LAB_NAME="+l.Name)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// Start brings up one lab for the whole test binary, from a clean start.
func (l *LocalLab) Start() error {
	_, _ = l.Script(context.Background(), "down")
	if out, err := l.Script(context.Background(), "up", "--nodes", fmt.Sprint(l.N)); err != nil {
		return fmt.Errorf("scripts/lab up: %v\n%s", err, out)
	}
	conn, err := grpc.NewClient(l.Socket(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	l.conn, l.control = conn, ordov1.NewControlClient(conn)
	return nil
}

// Stop takes the lab down. A failing `scripts/lab down` is reported; only
// what it leaves behind is an error.
func (l *LocalLab) Stop() error {
	if l.conn != nil {
		l.conn.Close()
	}
	if out, err := l.Script(context.Background(), "down"); err != nil {
		fmt.Fprintf(os.Stderr, "scripts/lab down: %v\n%s", err, out)
	}
	if left := l.Leftovers(); len(left) > 0 {
		return fmt.Errorf("scripts/lab down left behind: %v", left)
	}
	return nil
}

// Leftovers lists what of the lab exists after `scripts/lab down`: network
// namespaces with the lab's prefix, mounts under its directory, and pod
// network devices in the root namespace.
func (l *LocalLab) Leftovers() []string {
	var left []string
	if out, err := exec.Command("ip", "netns", "list").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], l.Name+"-") {
				left = append(left, "netns "+f[0])
			}
		}
	}
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], l.Dir+"/") {
				left = append(left, "mount "+f[4])
			}
		}
	}
	if out, err := exec.Command("ip", "-o", "link").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "alias ordo:") {
				left = append(left, "link "+line)
			}
		}
	}
	return left
}

func (l *LocalLab) DumpLogs() {
	files, _ := filepath.Glob(filepath.Join(l.Dir, "*.log"))
	more, _ := filepath.Glob(filepath.Join(l.Dir, "*", "*.log"))
	for _, f := range append(files, more...) {
		b, _ := os.ReadFile(f)
		if len(b) > 6000 {
			b = b[len(b)-6000:]
		}
		fmt.Fprintf(os.Stderr, "==== %s (tail)\n%s\n", f, b)
	}
}

// Exec runs a command in a node's network and mount namespace
// (`scripts/lab exec NODE -- CMD...`).
func (l *LocalLab) Exec(ctx context.Context, node string, cmd ...string) (string, error) {
	return l.Script(ctx, append([]string{"exec", node, "--"}, cmd...)...)
}

// readOnlyCommands are asked again when their answer is empty: `ctr tasks
// exec` of containerd 1.6 now and then loses the output of a process that
// exits at once.
var readOnlyCommands = map[string]bool{"cat": true, "hostname": true, "nslookup": true, "wget": true, "ls": true, "ip": true}

func (l *LocalLab) ExecInPod(ctx context.Context, node, pod, container string, cmd ...string) (string, error) {
	if len(cmd) == 0 {
		return "", errors.New("exec in pod: no command")
	}
	var out string
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		out, err = l.Exec(ctx, node, ctrExec(fmt.Sprintf("e2e-%d", time.Now().UnixNano()), pod, container, cmd)...)
		if err != nil || strings.TrimSpace(out) != "" || !readOnlyCommands[cmd[0]] {
			return out, err
		}
	}
	return out, err
}
