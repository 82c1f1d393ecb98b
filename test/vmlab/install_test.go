package vmlab

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordoproject/ordo/test/framework"
)

// scripts/install-node.sh on a plain Debian machine (the NFS server VM, which
// has containerd and runc but no ordo service running) installs the binaries
// and systemd units; the scheduler and the agent start from their env files
// and the agent registers as a Ready node.
func TestInstallNodeOnVM(t *testing.T) {
	framework.Need(t, clus)
	framework.MustExec(t, clus, "nfs", "mkdir", "-p", "/tmp/ordo-install")
	var files []string
	for _, f := range []string{"bin/ordo", "bin/ordo-agent", "bin/ordo-scheduler", "bin/busybox-oci.tar", "scripts/install-node.sh"} {
		files = append(files, filepath.Join(framework.RepoRoot(), f))
	}
	if out, err := clus.Script(2*time.Minute, append(append([]string{"cp"}, files...), "nfs:/tmp/ordo-install/")...); err != nil {
		t.Fatalf("vmlab cp: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		// Leave the VM as it was: no ordo services.
		_, _ = clus.Script(time.Minute, "exec", "nfs", "--", "systemctl", "disable", "--now", "ordo-agent", "ordo-scheduler")
	})
	framework.MustExec(t, clus, "nfs", "/tmp/ordo-install/install-node.sh", "--bin", "/tmp/ordo-install", "--role", "both", "--no-apt",
		"--scheduler", "127.0.0.1:7070", "--node-name", "standalone", "--labels", "tier=test",
		"--listen", "unix:///run/ordo/ordo.sock", "--listen", "127.0.0.1:7070",
		"--image", "/tmp/ordo-install/busybox-oci.tar")
	if got := framework.MustExec(t, clus, "nfs", "systemctl", "is-enabled", "ordo-agent", "ordo-scheduler"); strings.Count(got, "enabled") != 2 {
		t.Errorf("units not enabled: %q", got)
	}
	env := framework.MustExec(t, clus, "nfs", "cat", "/etc/ordo/agent.env")
	for _, want := range []string{"ORDO_SCHEDULER=127.0.0.1:7070", "ORDO_NODE_NAME=standalone", "ORDO_LABELS=tier=test"} {
		if !strings.Contains(env, want+"\n") {
			t.Errorf("agent.env lacks %q:\n%s", want, env)
		}
	}
	nodeReady := func() bool {
		out, err := clus.Script(time.Minute, "exec", "nfs", "--", "ordo", "--server", "unix:///run/ordo/ordo.sock", "get", "nodes")
		if err != nil {
			return false
		}
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "standalone" && f[1] == "Ready" {
				return true
			}
		}
		return false
	}
	framework.WaitFor(t, clus, "node standalone Ready on the VM's own scheduler", 3*time.Minute, nodeReady)
	if got := framework.MustExec(t, clus, "nfs", "ctr", "-n", "ordo", "images", "ls", "-q"); !strings.Contains(got, "ordo.local/busybox:latest") {
		t.Errorf("test image not imported by the agent unit: %q", got)
	}
	// The units restart their daemons: the node comes back after its agent is killed.
	mainPID := func() string {
		out, _ := clus.Script(time.Minute, "exec", "nfs", "--", "systemctl", "show", "-p", "MainPID", "--value", "ordo-agent")
		return strings.TrimSpace(out)
	}
	before := mainPID()
	framework.MustExec(t, clus, "nfs", "systemctl", "kill", "-s", "KILL", "ordo-agent")
	framework.WaitFor(t, clus, "a new ordo-agent process", 2*time.Minute, func() bool {
		pid := mainPID()
		return pid != "" && pid != "0" && pid != before
	})
	framework.WaitFor(t, clus, "node standalone Ready again", 3*time.Minute, nodeReady)
}
