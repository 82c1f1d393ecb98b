package volumes

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNFSSupported(t *testing.T) {
	dir := t.TempDir()
	without := filepath.Join(dir, "without")
	with := filepath.Join(dir, "with")
	os.WriteFile(without, []byte("nodev\tsysfs\nnodev\ttmpfs\n\text4\n"), 0o644)
	os.WriteFile(with, []byte("nodev\tsysfs\n\text4\nnodev\tnfs\nnodev\tnfs4\n"), 0o644)
	if ok, err := NFSSupported(without); ok || err != nil {
		t.Errorf("without nfs: %v %v", ok, err)
	}
	if ok, err := NFSSupported(with); !ok || err != nil {
		t.Errorf("with nfs: %v %v", ok, err)
	}
}

// On a kernel without an NFS client, a mount fails at once and says why.
func TestNFSMountWithoutClientFailsClearly(t *testing.T) {
	if _, err := exec.LookPath("mount.nfs"); err == nil {
		t.Skip("mount.nfs is installed: mounts go through it")
	}
	fs := filepath.Join(t.TempDir(), "filesystems")
	os.WriteFile(fs, []byte("nodev\tsysfs\n\text4\n"), 0o644)
	k := &KernelMounter{Filesystems: fs, Timeout: time.Minute}
	err := k.MountNFS(context.Background(), "10.0.0.9:/export", t.TempDir(), "hard")
	if !errors.Is(err, ErrNoNFSClient) || !strings.Contains(err.Error(), "no NFS client") {
		t.Fatalf("MountNFS = %v", err)
	}
}
