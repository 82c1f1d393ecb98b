package volumes

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// FileProjection is one file of a volume written by an AtomicWriter.
type FileProjection struct {
	Data []byte
	Mode os.FileMode // permission bits (0644 when written from a ConfigMap by default)
}

const (
	dataDirName       = "..data"
	newDataDirName    = "..data_tmp"
	tsDirLayout       = "..2006_01_02_15_04_05."
	maxFileNameLength = 255
	maxPathLength     = 4096
)

// AtomicWriter writes a set of files (ConfigMap, Secret and downward API
// volumes) into Dir so that a reader sees either the whole old set or the
// whole new set, the way the kubelet does:
//
//	Dir/..2026_01_02_15_04_05.123456/   the files of one version
//	Dir/..data -> ..2026_01_02_15_04_05.123456
//	Dir/app.conf -> ..data/app.conf      what users open
//	Dir/conf.d -> ..data/conf.d          (nested paths: their first element)
//
// A new version is written to a new timestamped directory and published by
// renaming a new ..data link over the old one; user-visible names that are
// no longer in the set are then removed, and so is the old directory.
// Names starting with ".." are reserved.
//
// The writer never follows a symbolic link it did not create: Dir must be a
// real directory, ..data must name a timestamped directory inside Dir, files
// are created with O_NOFOLLOW in directories it just made, and removals do
// not follow links. Callers serialise writes to one Dir; os.RemoveAll(Dir)
// removes the volume (it does not follow links either).
type AtomicWriter struct {
	Dir string
	// FSGroup, when set, becomes the group of every file and directory,
	// with read access for it (files |0440, directories |0550 and setgid),
	// as the kubelet applies a pod's securityContext.fsGroup to
	// read-only volumes.
	FSGroup *int64
}

// HasData reports whether a version was ever published in Dir.
func (w *AtomicWriter) HasData() bool {
	_, ok := w.currentDir()
	return ok
}

// Write publishes payload (relative path -> file) as the volume's content.
// It returns false, writing nothing, when the content on disk is already
// payload.
func (w *AtomicWriter) Write(payload map[string]FileProjection) (bool, error) {
	st, err := os.Lstat(w.Dir)
	if err != nil {
		return false, err
	}
	if !st.IsDir() {
		return false, fmt.Errorf("atomic writer: %s is not a directory", w.Dir)
	}
	clean, err := ValidatePayload(payload)
	if err != nil {
		return false, err
	}
	tops := topNames(clean)

	oldDir, hasOld := w.currentDir()
	if hasOld {
		old, err := walkRegular(filepath.Join(w.Dir, oldDir))
		if err != nil {
			return false, err
		}
		same, err := w.sameContent(clean, filepath.Join(w.Dir, oldDir), old)
		if err != nil {
			return false, err
		}
		if same {
			// Nothing to write; repair the user-visible names if needed.
			if err := w.linkUserVisible(tops); err != nil {
				return false, err
			}
			return false, w.prune(tops, oldDir)
		}
	}

	tsDir, err := os.MkdirTemp(w.Dir, time.Now().UTC().Format(tsDirLayout))
	if err != nil {
		return false, fmt.Errorf("atomic writer: new data directory: %w", err)
	}
	tsName := filepath.Base(tsDir)
	// 0755 lets users other than the owner through; MkdirTemp makes 0700.
	if err := os.Chmod(tsDir, 0o755); err != nil {
		os.RemoveAll(tsDir)
		return false, err
	}
	if err := w.writeFiles(tsDir, clean); err != nil {
		os.RemoveAll(tsDir)
		return false, err
	}
	if err := w.applyFSGroup(tsDir); err != nil {
		os.RemoveAll(tsDir)
		return false, err
	}
	if err := w.linkUserVisible(tops); err != nil {
		os.RemoveAll(tsDir)
		return false, err
	}
	tmpLink := filepath.Join(w.Dir, newDataDirName)
	if err := os.RemoveAll(tmpLink); err != nil {
		os.RemoveAll(tsDir)
		return false, err
	}
	if err := os.Symlink(tsName, tmpLink); err != nil {
		os.RemoveAll(tsDir)
		return false, fmt.Errorf("atomic writer: %w", err)
	}
	dataLink := filepath.Join(w.Dir, dataDirName)
	if st, err := os.Lstat(dataLink); err == nil && st.Mode()&fs.ModeSymlink == 0 {
		// Not ours (a rename cannot replace a directory with a link).
		if err := os.RemoveAll(dataLink); err != nil {
			os.Remove(tmpLink)
			os.RemoveAll(tsDir)
			return false, err
		}
	}
	if err := os.Rename(tmpLink, dataLink); err != nil {
		os.Remove(tmpLink)
		os.RemoveAll(tsDir)
		return false, fmt.Errorf("atomic writer: publish: %w", err)
	}
	return true, w.prune(tops, tsName)
}

// ValidatePayload checks the paths of a payload as the kubelet does
// (relative, no "..", no element over 255 bytes, at most 4096 bytes, not
// starting with "..") and returns it with cleaned paths. A path that is both
// a file and the directory of another is refused.
func ValidatePayload(payload map[string]FileProjection) (map[string]FileProjection, error) {
	out := make(map[string]FileProjection, len(payload))
	for p, f := range payload {
		if err := ValidatePath(p); err != nil {
			return nil, err
		}
		c := filepath.Clean(p)
		if _, dup := out[c]; dup {
			return nil, fmt.Errorf("invalid path %q: given twice", p)
		}
		out[c] = f
	}
	for p := range out {
		for d := filepath.Dir(p); d != "."; d = filepath.Dir(d) {
			if _, ok := out[d]; ok {
				return nil, fmt.Errorf("invalid path %q: %q is a file", p, d)
			}
		}
	}
	return out, nil
}

// ValidatePath checks one path of a payload (see ValidatePayload).
func ValidatePath(p string) error {
	if p == "" {
		return errors.New("invalid path: must not be empty")
	}
	if filepath.IsAbs(p) {
		return fmt.Errorf("invalid path %q: must be relative", p)
	}
	if len(p) > maxPathLength {
		return fmt.Errorf("invalid path: must be at most %d characters", maxPathLength)
	}
	items := strings.Split(p, "/")
	for _, item := range items {
		if item == ".." {
			return fmt.Errorf("invalid path %q: must not contain '..'", p)
		}
		if len(item) > maxFileNameLength {
			return fmt.Errorf("invalid path %q: file names must be at most %d characters", p, maxFileNameLength)
		}
	}
	if strings.HasPrefix(items[0], "..") {
		return fmt.Errorf("invalid path %q: must not start with '..'", p)
	}
	if filepath.Clean(p) == "." {
		return fmt.Errorf("invalid path %q: names no file", p)
	}
	return nil
}

// currentDir is the timestamped directory ..data names, when it is a real
// directory directly inside Dir.
func (w *AtomicWriter) currentDir() (string, bool) {
	target, err := os.Readlink(filepath.Join(w.Dir, dataDirName))
	if err != nil || !isTSName(target) {
		return "", false
	}
	st, err := os.Lstat(filepath.Join(w.Dir, target))
	if err != nil || !st.IsDir() {
		return "", false
	}
	return target, true
}

// isTSName tells whether name can be a timestamped directory of the writer:
// one path element starting with "..", other than the reserved names.
func isTSName(name string) bool {
	return strings.HasPrefix(name, "..") && !strings.Contains(name, "/") &&
		name != ".." && name != dataDirName && name != newDataDirName
}

// walkRegular lists dir's tree without following links: relative path ->
// entry type (directories, regular files and anything else).
func walkRegular(dir string) (map[string]fs.FileMode, error) {
	out := map[string]fs.FileMode{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out[rel] = d.Type()
		return nil
	})
	return out, err
}

// sameContent tells whether oldDir (listed in old) holds exactly payload,
// with the same modes.
func (w *AtomicWriter) sameContent(payload map[string]FileProjection, oldDir string, old map[string]fs.FileMode) (bool, error) {
	want := map[string]bool{}
	for p := range payload {
		for q := p; q != "."; q = filepath.Dir(q) {
			want[q] = true
		}
	}
	for p := range old {
		if !want[p] {
			return false, nil // something to remove
		}
	}
	for p, f := range payload {
		typ, ok := old[p]
		if !ok || !typ.IsRegular() {
			return false, nil
		}
		fh, err := os.OpenFile(filepath.Join(oldDir, p), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
		if err != nil {
			return false, err
		}
		st, err := fh.Stat()
		if err != nil {
			fh.Close()
			return false, err
		}
		if !st.Mode().IsRegular() || st.Mode()&(os.ModePerm|os.ModeSetgid) != w.fileMode(f.Mode) || st.Size() != int64(len(f.Data)) {
			fh.Close()
			return false, nil
		}
		data, err := io.ReadAll(fh)
		fh.Close()
		if err != nil {
			return false, err
		}
		if !bytes.Equal(data, f.Data) {
			return false, nil
		}
	}
	return true, nil
}

// fileMode is the mode a file of the payload gets on disk.
func (w *AtomicWriter) fileMode(m os.FileMode) os.FileMode {
	m &= os.ModePerm
	if w.FSGroup != nil {
		m |= 0o440
	}
	return m
}

// writeFiles writes payload into dir, a directory just made and only ours.
func (w *AtomicWriter) writeFiles(dir string, payload map[string]FileProjection) error {
	paths := make([]string, 0, len(payload))
	for p := range payload {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	made := map[string]bool{".": true}
	for _, p := range paths {
		var parents []string
		for d := filepath.Dir(p); !made[d]; d = filepath.Dir(d) {
			parents = append(parents, d)
		}
		for i := len(parents) - 1; i >= 0; i-- {
			full := filepath.Join(dir, parents[i])
			if err := os.Mkdir(full, 0o755); err != nil {
				return fmt.Errorf("atomic writer: %w", err)
			}
			if err := os.Chmod(full, 0o755); err != nil {
				return err
			}
			made[parents[i]] = true
		}
		f := payload[p]
		full := filepath.Join(dir, p)
		mode := f.Mode & os.ModePerm
		fh, err := os.OpenFile(full, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, mode)
		if err != nil {
			return fmt.Errorf("atomic writer: %w", err)
		}
		_, err = fh.Write(f.Data)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("atomic writer: write %s: %w", p, err)
		}
		// The umask applied at creation; set the mode asked for.
		if err := os.Chmod(full, mode); err != nil {
			return err
		}
	}
	return nil
}

// applyFSGroup gives the tree at dir (and Dir itself) to FSGroup.
func (w *AtomicWriter) applyFSGroup(dir string) error {
	if w.FSGroup == nil {
		return nil
	}
	gid := int(*w.FSGroup)
	set := func(p string, isDir bool) error {
		if err := os.Lchown(p, -1, gid); err != nil {
			return fmt.Errorf("atomic writer: fsGroup: %w", err)
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		mode := st.Mode() & os.ModePerm
		if isDir {
			mode |= 0o550 | os.ModeSetgid
		} else {
			mode |= 0o440
		}
		return os.Chmod(p, mode)
	}
	if err := set(w.Dir, true); err != nil {
		return err
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		return set(p, d.IsDir())
	})
}

// topNames are the first elements of the payload's paths.
func topNames(payload map[string]FileProjection) map[string]bool {
	out := map[string]bool{}
	for p := range payload {
		top, _, _ := strings.Cut(p, "/")
		out[top] = true
	}
	return out
}

// linkUserVisible makes Dir/<name> a link to ..data/<name> for every name,
// replacing whatever else is there.
func (w *AtomicWriter) linkUserVisible(names map[string]bool) error {
	for name := range names {
		p := filepath.Join(w.Dir, name)
		want := dataDirName + "/" + name
		if target, err := os.Readlink(p); err == nil && target == want {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			return err
		}
		if err := os.Symlink(want, p); err != nil {
			return fmt.Errorf("atomic writer: %w", err)
		}
	}
	return nil
}

// prune removes the user-visible links of names no longer in the volume and
// every timestamped directory but keep.
func (w *AtomicWriter) prune(names map[string]bool, keep string) error {
	entries, err := os.ReadDir(w.Dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		p := filepath.Join(w.Dir, name)
		switch {
		case name == dataDirName || name == newDataDirName || name == keep:
		case isTSName(name):
			// A directory left by an earlier version (or an interrupted
			// write); a link is removed, never followed.
			errs = append(errs, os.RemoveAll(p))
		case !names[name] && e.Type()&fs.ModeSymlink != 0:
			if target, err := os.Readlink(p); err == nil && target == dataDirName+"/"+name {
				errs = append(errs, os.Remove(p))
			}
		}
	}
	return errors.Join(errs...)
}
