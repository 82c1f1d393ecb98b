package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// A pod with shareProcessNamespace gets one PID namespace for all its
// containers. Its PID 1 is a small process of the agent's own binary
// (started again with pidNSInitEnv set): it reaps the pod's orphans and lives
// until the pod goes, so a container restarting does not take the
// namespace, and the other containers' processes, with it. It is not a child
// the agent needs: it keeps running when the agent exits, and a new agent
// finds it again through the pid file in the pod's directory.

// pidNSInitEnv makes the agent's binary run as a pod's PID namespace init.
const pidNSInitEnv = "ORDO_AGENT_POD_PIDNS_INIT"

// pidNSInitName is the init's command line, as ps shows it in the pod.
const pidNSInitName = "ordo-pod-init"

func init() {
	if os.Getenv(pidNSInitEnv) == "1" {
		pidNSInit()
	}
}

// pidNSInit reaps children until it is killed (or gets SIGTERM). It never returns.
func pidNSInit() {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGCHLD, syscall.SIGTERM)
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGPIPE)
	for sig := range sigs {
		if sig == syscall.SIGTERM {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
	os.Exit(0)
}

func pidNSFile(podDir string) string { return filepath.Join(podDir, "pidns-init") }

// procStartTime is field 22 of /proc/<pid>/stat, which tells a process from a
// later one with the same pid.
func procStartTime(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return "", fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return "", fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return f[19], nil
}

// findPIDNSInit returns the pid of the pod's PID namespace init recorded in
// podDir when that process still runs, or 0.
func findPIDNSInit(podDir string) int {
	b, err := os.ReadFile(pidNSFile(podDir))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return 0
	}
	if st, err := procStartTime(pid); err != nil || st != f[1] {
		return 0
	}
	if cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err != nil || !bytes.HasPrefix(cmd, []byte(pidNSInitName+"\x00")) {
		return 0
	}
	return pid
}

// startPIDNSInit starts a PID namespace init for the pod and records it in podDir.
func startPIDNSInit(podDir string) (int, error) {
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{pidNSInitName}
	cmd.Env = []string{pidNSInitEnv + "=1"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID, Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start PID namespace init: %w", err)
	}
	pid := cmd.Process.Pid
	go cmd.Wait() // reaped when it ends while this agent runs
	st, err := procStartTime(pid)
	if err == nil {
		err = os.WriteFile(pidNSFile(podDir), []byte(strconv.Itoa(pid)+" "+st+"\n"), 0o644)
	}
	if err != nil {
		cmd.Process.Kill()
		return 0, fmt.Errorf("record PID namespace init: %w", err)
	}
	return pid, nil
}

// stopPIDNSInit kills the pod's PID namespace init, if it has one (which ends
// whatever still runs in the namespace).
func stopPIDNSInit(podDir string) error {
	pid := findPIDNSInit(podDir)
	if pid == 0 {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill PID namespace init %d: %w", pid, err)
	}
	return nil
}

// ensurePIDNS gives a pod with shareProcessNamespace its shared PID
// namespace: the running init recorded in its directory, or a new one. With a
// new one, containers left from before (whose namespace is gone) are removed,
// to be created again in the new namespace.
func (w *podWorker) ensurePIDNS(ctx context.Context) error {
	if !w.pod.GetSpec().GetShareProcessNamespace() {
		return nil
	}
	dir := w.env.podDir(w.key)
	pid := findPIDNSInit(dir)
	if pid == 0 {
		var err error
		if pid, err = startPIDNSInit(dir); err != nil {
			return err
		}
		for _, f := range w.found {
			if err := w.env.rt.Stop(ctx, f.ID, 0); err != nil {
				return err
			}
			if err := w.env.rt.Remove(ctx, f.ID); err != nil {
				return err
			}
		}
		w.found = nil
		w.log.Debug("pod PID namespace started", "init", pid)
	}
	w.pidNSPath = fmt.Sprintf("/proc/%d/ns/pid", pid)
	return nil
}
