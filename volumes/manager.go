package volumes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/ordoproject/ordo/internal/errdefs"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

// Mounter mounts and unmounts NFS exports (the kernel's client on Linux).
type Mounter interface {
	// MountNFS mounts source ("server:/path") at target with options.
	MountNFS(ctx context.Context, source, target, options string) error
	Unmount(target string) error
	// IsMounted reports whether something is mounted at target.
	IsMounted(target string) (bool, error)
}

// Manager prepares the volumes of the pods of one node.
type Manager struct {
	stateDir string
	mounter  Mounter
	log      *slog.Logger

	// mu serialises NFS mounting and the record of who uses each mount. The
	// record is a file per user under <stateDir>/nfs-users/<pv>/, so that an
	// agent that restarts still unmounts a volume when its last pod goes.
	mu sync.Mutex
}

// NewManager keeps emptyDir volumes and NFS mounts under stateDir.
func NewManager(stateDir string, mounter Mounter, log *slog.Logger) *Manager {
	if log == nil {
		log = slog.Default()
	}
	return &Manager{stateDir: filepath.Clean(stateDir), mounter: mounter, log: log}
}

func (m *Manager) nfsUsersDir(pv string) string { return filepath.Join(m.stateDir, "nfs-users", pv) }

func (m *Manager) emptyDirRoot(pod string) string { return filepath.Join(m.stateDir, "volumes", pod) }
func (m *Manager) nfsTarget(pv string) string     { return filepath.Join(m.stateDir, "nfs", pv) }

// Prepare makes every volume of pod (key) available on the host and says
// where each is, by volume name. Errors name the volume and say what to fix.
func (m *Manager) Prepare(ctx context.Context, pod string, vols []*ordov1.ResolvedVolume) (map[string]Source, error) {
	out := make(map[string]Source, len(vols))
	for _, v := range vols {
		src, err := m.prepare(ctx, pod, v)
		if err != nil {
			what := "volume " + v.GetName()
			if pv := v.GetPersistentVolume(); pv != "" {
				what += " (claim " + v.GetClaim() + ", PersistentVolume " + pv + ")"
			}
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out[v.GetName()] = src
	}
	return out, nil
}

func (m *Manager) prepare(ctx context.Context, pod string, v *ordov1.ResolvedVolume) (Source, error) {
	ro := v.GetReadOnly()
	switch {
	case v.GetLocal() != nil:
		p := v.GetLocal().GetPath()
		if err := CheckHostPath(p, m.stateDir); err != nil {
			return Source{}, err
		}
		if err := mustBeDir(p, "local path"); err != nil {
			return Source{}, err
		}
		return Source{Path: filepath.Clean(p), ReadOnly: ro}, nil
	case v.GetHostPath() != nil:
		p, typ := v.GetHostPath().GetPath(), v.GetHostPath().GetType()
		if err := CheckHostPath(p, m.stateDir); err != nil {
			return Source{}, err
		}
		if err := hostPath(p, typ); err != nil {
			return Source{}, err
		}
		return Source{Path: filepath.Clean(p), ReadOnly: ro}, nil
	case v.GetEmptyDir() != nil:
		if err := CheckName(v.GetName()); err != nil {
			return Source{}, err
		}
		p := filepath.Join(m.emptyDirRoot(pod), v.GetName())
		if err := os.MkdirAll(p, 0o777); err != nil {
			return Source{}, fmt.Errorf("create emptyDir: %w", err)
		}
		if err := os.Chmod(p, 0o777); err != nil {
			return Source{}, err
		}
		return Source{Path: p, ReadOnly: ro}, nil
	case v.GetNfs() != nil:
		return m.prepareNFS(ctx, pod, v)
	}
	return Source{}, errdefs.Invalid("volume", "has no source the agent knows (local, hostPath, emptyDir or nfs)")
}

// CheckName refuses names that are not a single path element.
func CheckName(n string) error {
	if n == "" || n == "." || n == ".." || filepath.Base(n) != n {
		return errdefs.Invalid("name", "%q is not a valid volume name", n)
	}
	return nil
}

func mustBeDir(p, what string) error {
	st, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s %s does not exist on this node; create it first (ordo does not create volume directories): %w", what, p, errdefs.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s %s is not a directory: %w", what, p, errdefs.ErrInvalid)
	}
	return nil
}

func hostPath(p, typ string) error {
	st, err := os.Stat(p)
	exists := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	switch typ {
	case "DirectoryOrCreate":
		if !exists {
			return os.MkdirAll(p, 0o755)
		}
		if !st.IsDir() {
			return fmt.Errorf("hostPath %s is not a directory: %w", p, errdefs.ErrInvalid)
		}
	case "FileOrCreate":
		if !exists {
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return fmt.Errorf("create hostPath file: %w", err)
			}
			return f.Close()
		}
		if st.IsDir() {
			return fmt.Errorf("hostPath %s is a directory, not a file: %w", p, errdefs.ErrInvalid)
		}
	case "File":
		if !exists || st.IsDir() {
			return fmt.Errorf("hostPath %s is not an existing file: %w", p, errdefs.ErrNotFound)
		}
	default: // "" and Directory
		return mustBeDir(p, "hostPath")
	}
	return nil
}

func (m *Manager) prepareNFS(ctx context.Context, pod string, v *ordov1.ResolvedVolume) (Source, error) {
	n := v.GetNfs()
	pv := v.GetPersistentVolume()
	if err := CheckName(pv); err != nil {
		return Source{}, err
	}
	opts, err := NFSOptions(v.GetMountOptions(), n.GetReadOnly())
	if err != nil {
		return Source{}, err
	}
	target := m.nfsTarget(pv)
	m.mu.Lock()
	defer m.mu.Unlock()
	mounted, err := m.mounter.IsMounted(target)
	if err != nil {
		return Source{}, err
	}
	if !mounted {
		if err := os.MkdirAll(target, 0o755); err != nil {
			return Source{}, err
		}
		src := NFSSource(n.GetServer(), n.GetPath())
		if err := m.mounter.MountNFS(ctx, src, target, opts); err != nil {
			os.Remove(target)
			return Source{}, fmt.Errorf("mount nfs %s: %w", src, err)
		}
		m.log.Info("nfs volume mounted", "volume", pv, "source", src, "target", target, "options", opts)
	}
	users := m.nfsUsersDir(pv)
	if err := os.MkdirAll(users, 0o755); err != nil {
		return Source{}, err
	}
	if err := os.WriteFile(filepath.Join(users, pod), nil, 0o644); err != nil {
		return Source{}, err
	}
	return Source{Path: target, ReadOnly: v.GetReadOnly() || n.GetReadOnly()}, nil
}

// Release removes pod's emptyDir volumes and drops its use of NFS mounts,
// unmounting those it was the last user of.
func (m *Manager) Release(pod string) error {
	var errs []error
	if err := os.RemoveAll(m.emptyDirRoot(pod)); err != nil {
		errs = append(errs, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	pvs, _ := os.ReadDir(filepath.Join(m.stateDir, "nfs-users"))
	for _, e := range pvs {
		pv := e.Name()
		users := m.nfsUsersDir(pv)
		if err := os.Remove(filepath.Join(users, pod)); err != nil {
			continue // not a user of this volume
		}
		if left, _ := os.ReadDir(users); len(left) > 0 {
			continue
		}
		os.Remove(users)
		target := m.nfsTarget(pv)
		if err := m.mounter.Unmount(target); err != nil {
			errs = append(errs, fmt.Errorf("unmount nfs volume %s: %w", pv, err))
			continue
		}
		os.Remove(target)
		m.log.Info("nfs volume unmounted", "volume", pv, "target", target)
	}
	return errors.Join(errs...)
}

// Cleanup removes everything inside a released local volume's directory,
// keeping the directory itself.
func (m *Manager) Cleanup(path string) error {
	if err := CheckHostPath(path, m.stateDir); err != nil {
		return err
	}
	if err := mustBeDir(path, "local path"); err != nil {
		if errors.Is(err, errdefs.ErrNotFound) {
			return nil // nothing to remove
		}
		return err
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(path, e.Name())); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
