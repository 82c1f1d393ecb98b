// Package framework owns what the cluster tests share: the Cluster interface
// they run against, its two implementations (LocalLab: scripts/lab, nodes in
// network namespaces on this machine; VMLab: scripts/vmlab, nodes in qemu
// VMs), how a test binary starts, checks and stops a lab (Main, Need), and the
// helpers written once on top of a Cluster (apply a manifest, list and wait
// for the pods of a set, delete a set, run commands on nodes and in pods,
// record pod events and check ordered creation).
//
// Test packages (test/e2e, test/vmlab) keep what only they test. Helpers that
// take a testing.TB fail the test when the cluster does not answer or does not
// get where it is waited for in time; what a test asserts stays in the test.
package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Cluster is a running ordo cluster: a scheduler to talk to and nodes to run
// commands on.
type Cluster interface {
	// Control is the scheduler's API.
	Control() ordov1.ControlClient
	// Nodes names the nodes that run agents: node-1 … node-N.
	Nodes() []string
	// Exec runs a command on a machine of the cluster (lab: inside the node's
	// namespaces; VM lab: over ssh, where "nfs" is a machine too) and returns
	// its combined output.
	Exec(ctx context.Context, node string, cmd ...string) (string, error)
	// ExecInPod runs a command in a pod's container on its node (through ctr)
	// and returns its combined output.
	ExecInPod(ctx context.Context, node, pod, container string, cmd ...string) (string, error)
	// Waits tells how patient the helpers are with this cluster.
	Waits() Waits
}

// Waits are the bounds the helpers wait with. None is about speed: a lab of
// VMs under emulation on a shared machine is just slower than namespaces.
type Waits struct {
	Poll     time.Duration // between two looks at the cluster (WaitFor)
	SetReady time.Duration // WaitSetReady
	SetGone  time.Duration // DeleteSet: the set's pods gone from the store
	// ContainersGone is how long DeleteSet then waits for the set's
	// containers to leave each node; 0: DeleteSet does not look at nodes.
	ContainersGone time.Duration
}

// Lab is a Cluster that a test binary brings up before its tests and takes
// down after them (Main).
type Lab interface {
	Cluster
	fmt.Stringer // what the lab is called in messages
	// NotAsked is why the tests do not run at all (they skip); "" when they do.
	NotAsked() string
	// Required tells whether a lab that cannot run fails the tests (rather
	// than skipping them).
	Required() bool
	// Prerequisites tells what this machine lacks to run the lab.
	Prerequisites() error
	// Start brings the lab up from a clean state and connects to it.
	Start() error
	// Stop takes the lab down and removes its state; an error means that
	// the machine was not left clean.
	Stop() error
	// DumpLogs copies the tails of the lab's logs to stderr.
	DumpLogs()
	// Unavailable is why the lab could not be started (nil: it runs).
	Unavailable() error
	setUnavailable(error)
}

type availability struct{ err error }

func (a *availability) Unavailable() error       { return a.err }
func (a *availability) setUnavailable(err error) { a.err = err }

// Main runs a test binary's tests on lab l and returns the exit code: a lab
// that cannot start leaves the tests to report why (Need); a lab that started
// is taken down whatever the tests did, and what it leaves behind fails the
// run.
func Main(m *testing.M, l Lab) (code int) {
	if l.NotAsked() != "" {
		return m.Run()
	}
	if err := l.Prerequisites(); err != nil {
		l.setUnavailable(err)
		return m.Run()
	}
	defer func() {
		if err := l.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}()
	if err := l.Start(); err != nil {
		l.setUnavailable(err)
		l.DumpLogs()
		return m.Run()
	}
	code = m.Run()
	if code != 0 {
		l.DumpLogs()
	}
	return code
}

// Need skips the test when the lab was not asked for, and fails (Required) or
// skips it with the reason when the lab could not be started.
func Need(t testing.TB, l Lab) {
	t.Helper()
	if why := l.NotAsked(); why != "" {
		t.Skip(why)
	}
	err := l.Unavailable()
	if err == nil {
		return
	}
	if l.Required() {
		t.Fatalf("%s unavailable: %v", l, err)
	}
	t.Skipf("%s unavailable: %v", l, err)
}

// RepoRoot is the root of the ordo repository the tests run from.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
