package volumes

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ordoproject/ordo/internal/errdefs"
)

// KernelMounter mounts NFS exports with mount.nfs when it is installed, else
// with mount(2). A node whose kernel has no NFS client fails at once with a
// message saying so instead of hanging.
type KernelMounter struct {
	// Filesystems is the file listing the kernel's filesystems (/proc/filesystems).
	Filesystems string
	// Timeout bounds one mount attempt.
	Timeout time.Duration
}

var _ Mounter = (*KernelMounter)(nil)

// ErrNoNFSClient is returned on nodes whose kernel cannot mount NFS.
var ErrNoNFSClient = errors.New("this node's kernel has no NFS client (no nfs in /proc/filesystems): install the NFS client (nfs-common) or load the nfs module")

// NFSSupported reports whether the kernel lists an NFS filesystem in the
// filesystems file (/proc/filesystems).
func NFSSupported(filesystems string) (bool, error) {
	f, err := os.Open(filesystems)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 0 {
			if fs := fields[len(fields)-1]; fs == "nfs" || fs == "nfs4" {
				return true, nil
			}
		}
	}
	return false, sc.Err()
}

func (k *KernelMounter) MountNFS(ctx context.Context, source, target, options string) error {
	fsFile := k.Filesystems
	if fsFile == "" {
		fsFile = "/proc/filesystems"
	}
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := exec.LookPath("mount.nfs"); err == nil {
		args := []string{"-t", "nfs"}
		if options != "" {
			args = append(args, "-o", options)
		}
		out, err := exec.CommandContext(ctx, "mount", append(args, source, target)...).CombinedOutput()
		if ctx.Err() != nil {
			return fmt.Errorf("mount.nfs did not finish within %s: %w", timeout, errdefs.ErrUnavailable)
		}
		if err != nil {
			return fmt.Errorf("mount.nfs: %s: %w", strings.TrimSpace(string(out)), err)
		}
		return nil
	}
	ok, err := NFSSupported(fsFile)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %w", ErrNoNFSClient, errdefs.ErrUnavailable)
	}
	host, _, _ := strings.Cut(source, ":/")
	host = strings.Trim(host, "[]")
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("resolve nfs server %s: %w", host, err)
	}
	flagNames, data := SplitFlags(options)
	var flags uintptr
	for _, f := range flagNames {
		switch f {
		case "ro":
			flags |= unix.MS_RDONLY
		case "noexec":
			flags |= unix.MS_NOEXEC
		case "nosuid":
			flags |= unix.MS_NOSUID
		case "nodev":
			flags |= unix.MS_NODEV
		case "noatime":
			flags |= unix.MS_NOATIME
		case "sync":
			flags |= unix.MS_SYNCHRONOUS
		}
	}
	if data != "" {
		data += ","
	}
	data += "addr=" + addrs[0]
	done := make(chan error, 1)
	go func() { done <- unix.Mount(source, target, "nfs", flags, data) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("mount(2) nfs: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("nfs mount of %s did not finish within %s: %w", source, timeout, errdefs.ErrUnavailable)
	}
}

func (k *KernelMounter) Unmount(target string) error {
	err := unix.Unmount(target, 0)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return unix.Unmount(target, unix.MNT_DETACH)
	}
	return nil
}

func (k *KernelMounter) IsMounted(target string) (bool, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false, err
	}
	target = filepath.Clean(target)
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.ReplaceAll(f[4], `\040`, " ") == target {
			return true, nil
		}
	}
	return false, nil
}
