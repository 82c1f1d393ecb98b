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

// VMLab is the VM lab of scripts/vmlab: N node VMs (containerd and
// ordo-agent under systemd) and an NFS server VM ("nfs") under qemu, with the
// scheduler on the host. Booting VMs takes minutes, so the lab runs only when
// asked for (ORDO_VMLAB=1, make vmlab-test); then a missing prerequisite fails
// the tests.
type VMLab struct {
	availability
	N    int    // node VMs: node-1 … node-N
	Dir  string // runtime state: sockets, consoles, logs ($ORDO_LAB_DIR)
	Data string // VM disk overlays, scheduler store ($ORDO_LAB_DATA)
	Name string // prefix of the lab's network namespace ($ORDO_LAB_NAME)
	// Enabled: the tests run (ORDO_VMLAB=1).
	Enabled bool
	// Reuse runs the tests against a lab that is already up and leaves it
	// running, for working on the tests (ORDO_VMLAB_REUSE=1).
	Reuse bool

	conn    *grpc.ClientConn
	control ordov1.ControlClient
}

// NewVMLab describes a lab of n node VMs as the environment asks for it.
func NewVMLab(n int) *VMLab {
	return &VMLab{
		N:       n,
		Dir:     envOr("ORDO_LAB_DIR", "/run/ordo-vmlab"),
		Data:    envOr("ORDO_LAB_DATA", "/var/lib/ordo-vmlab"),
		Name:    envOr("ORDO_LAB_NAME", "ordovm"),
		Enabled: os.Getenv("ORDO_VMLAB") == "1",
		Reuse:   os.Getenv("ORDO_VMLAB_REUSE") == "1",
	}
}

func (l *VMLab) String() string                { return "VM lab" }
func (l *VMLab) Required() bool                { return true }
func (l *VMLab) Control() ordov1.ControlClient { return l.control }

// Socket is the address of the scheduler's API.
func (l *VMLab) Socket() string { return "unix://" + filepath.Join(l.Dir, "ordo.sock") }

func (l *VMLab) NotAsked() string {
	if !l.Enabled {
		return "VM lab tests run with ORDO_VMLAB=1 (make vmlab-test)"
	}
	return ""
}

func (l *VMLab) Nodes() []string {
	nodes := make([]string, l.N)
	for i := range nodes {
		nodes[i] = fmt.Sprintf("node-%d", i+1)
	}
	return nodes
}

func (l *VMLab) Waits() Waits {
	// DeleteSet does not wait for containers to leave the VMs: the tests
	// look at them right after the pods are gone.
	return Waits{Poll: 500 * time.Millisecond, SetReady: 5 * time.Minute, SetGone: 3 * time.Minute}
}

func (l *VMLab) Prerequisites() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("the VM lab needs root")
	}
	for _, bin := range []string{"qemu-system-x86_64", "qemu-img", "debootstrap", "mkfs.ext4", "ssh", "ip"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s not found (apt-get install qemu-system-x86 qemu-utils debootstrap openssh-client)", bin)
		}
	}
	root := RepoRoot()
	for _, f := range []string{"bin/ordo", "bin/ordo-agent", "bin/ordo-scheduler", "bin/busybox-oci.tar"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			return fmt.Errorf("%s missing (make build image)", f)
		}
	}
	return nil
}

// Script runs scripts/vmlab on this lab, bounded to timeout.
func (l *VMLab) Script(timeout time.Duration, args ...string) (string, error) {
	return l.script(context.Background(), timeout, args...)
}

func (l *VMLab) script(ctx context.Context, timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	root := RepoRoot()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "vmlab"), args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "ORDO_LAB_DIR="+l.Dir, "ORDO_LAB_DATA="+l.Data, "ORDO_LAB_NAME="+l.Name)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// Start boots the lab from a clean start (unless Reuse) and connects to its
// scheduler.
func (l *VMLab) Start() error {
	if !l.Reuse {
		_, _ = l.Script(2*time.Minute, "down")
		start := time.Now()
		out, err := l.Script(20*time.Minute, "up", "--nodes", fmt.Sprint(l.N))
		fmt.Fprintf(os.Stderr, "vmlab up (%.0fs):\n%s", time.Since(start).Seconds(), out)
		if err != nil {
			return fmt.Errorf("scripts/vmlab up: %v", err)
		}
	}
	conn, err := grpc.NewClient(l.Socket(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	l.conn, l.control = conn, ordov1.NewControlClient(conn)
	return nil
}

// Stop takes the lab down (unless Reuse); a failing `scripts/vmlab down` and
// anything it leaves behind are errors.
func (l *VMLab) Stop() error {
	if l.conn != nil {
		l.conn.Close()
	}
	if l.Reuse {
		return nil
	}
	var errs []error
	if out, err := l.Script(2*time.Minute, "down"); err != nil {
		errs = append(errs, fmt.Errorf("scripts/vmlab down: %v\n%s", err, out))
	}
	if left := l.Leftovers(); len(left) > 0 {
		errs = append(errs, fmt.Errorf("scripts/vmlab down left behind: %s", strings.Join(left, ", ")))
	}
	return errors.Join(errs...)
}

// Leftovers lists what a finished lab must not leave: the namespace, qemu
// processes of this lab, the runtime and data directories.
func (l *VMLab) Leftovers() []string {
	var left []string
	netns := l.Name + "-vmnet"
	if _, err := os.Stat("/run/netns/" + netns); err == nil {
		left = append(left, "network namespace "+netns)
	}
	for _, d := range []string{l.Dir, l.Data} {
		if _, err := os.Stat(d); err == nil {
			left = append(left, d)
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte("qemu-system")) && bytes.Contains(b, []byte(l.Data+"/")) {
			left = append(left, "qemu process "+filepath.Base(filepath.Dir(p)))
		}
	}
	return left
}

func (l *VMLab) DumpLogs() {
	files, _ := filepath.Glob(filepath.Join(l.Dir, "*.console"))
	files = append(files, filepath.Join(l.Dir, "scheduler.log"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		fmt.Fprintf(os.Stderr, "==== %s (tail)\n%s\n", f, b)
	}
}

// Exec runs a command on a VM (node-1 … node-N, nfs) over ssh, bounded to 2
// minutes (`scripts/vmlab exec VM -- CMD...`).
func (l *VMLab) Exec(ctx context.Context, vm string, cmd ...string) (string, error) {
	return l.script(ctx, 2*time.Minute, append([]string{"exec", vm, "--"}, cmd...)...)
}

func (l *VMLab) ExecInPod(ctx context.Context, vm, pod, container string, cmd ...string) (string, error) {
	return l.Exec(ctx, vm, ctrExec(fmt.Sprintf("t%d", time.Now().UnixNano()), pod, container, cmd)...)
}
