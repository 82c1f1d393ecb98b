package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/volumes"
)

// fsGroupVolumes are the pod's volumes the kubelet gives to its fsGroup: the
// writable emptyDirs and claim-backed node directories (local and hostPath
// persistent volumes). NFS exports (their server owns the files) and hostPath
// volumes named in the pod are left as they are, as Kubernetes does.
func fsGroupVolumes(rvs []*ordov1.ResolvedVolume, srcs map[string]volumes.Source) []volumes.Source {
	var out []volumes.Source
	for _, rv := range rvs {
		src, ok := srcs[rv.GetName()]
		if !ok || src.ReadOnly || rv.GetReadOnly() {
			continue
		}
		claimDir := rv.GetPersistentVolume() != "" && (rv.GetLocal() != nil || rv.GetHostPath() != nil)
		if rv.GetEmptyDir() != nil || claimDir {
			out = append(out, src)
		}
	}
	return out
}

// setVolumeOwnership makes everything under dir group-owned by gid and
// group-readable and writable, directories also group-searchable and setgid so
// that new files inherit the group, as the kubelet does for fsGroup. Symbolic
// links are not followed.
func setVolumeOwnership(dir string, gid int64) error {
	if gid < 0 || gid > 1<<31-1 {
		return fmt.Errorf("fsGroup %d is out of range", gid)
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p != dir {
				return nil // removed while walking
			}
			return err
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); !ok || int64(st.Gid) != gid {
			if err := os.Lchown(p, -1, int(gid)); err != nil {
				return fmt.Errorf("chown %s: %w", p, err)
			}
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			return nil
		}
		mode := info.Mode()
		want := mode | 0o060
		if info.IsDir() {
			want |= 0o010 | fs.ModeSetgid
		}
		if want != mode {
			if err := os.Chmod(p, want&(fs.ModePerm|fs.ModeSetgid|fs.ModeSetuid|fs.ModeSticky)); err != nil {
				return fmt.Errorf("chmod %s: %w", p, err)
			}
		}
		return nil
	})
}
