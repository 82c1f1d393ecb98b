package volumes

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func fp(data string, mode os.FileMode) FileProjection {
	return FileProjection{Data: []byte(data), Mode: mode}
}

// tsDirs lists the timestamped directories in dir.
func tsDirs(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if isTSName(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

// visible lists the names in dir that do not start with "..".
func visible(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if !strings.HasPrefix(e.Name(), "..") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustWrite(t *testing.T, w *AtomicWriter, payload map[string]FileProjection) bool {
	t.Helper()
	changed, err := w.Write(payload)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return changed
}

func TestAtomicWriterLayout(t *testing.T) {
	dir := t.TempDir()
	w := &AtomicWriter{Dir: dir}
	if w.HasData() {
		t.Fatal("HasData before the first write")
	}
	if !mustWrite(t, w, map[string]FileProjection{
		"app.conf":       fp("a=1\n", 0o644),
		"conf.d/x.conf":  fp("x\n", 0o600),
		"conf.d/y/z.txt": fp("z", 0o444),
	}) {
		t.Fatal("first write reported no change")
	}
	if !w.HasData() {
		t.Fatal("no data after a write")
	}
	ts := tsDirs(t, dir)
	if len(ts) != 1 || !strings.HasPrefix(ts[0], "..20") {
		t.Fatalf("timestamped dirs = %v", ts)
	}
	if target, err := os.Readlink(filepath.Join(dir, "..data")); err != nil || target != ts[0] {
		t.Fatalf("..data -> %q, %v; want %s", target, err, ts[0])
	}
	for name, want := range map[string]string{"app.conf": "..data/app.conf", "conf.d": "..data/conf.d"} {
		if target, err := os.Readlink(filepath.Join(dir, name)); err != nil || target != want {
			t.Errorf("%s -> %q, %v; want %s", name, target, err, want)
		}
	}
	if got := visible(t, dir); strings.Join(got, " ") != "app.conf conf.d" {
		t.Errorf("visible names = %v", got)
	}
	if s := readFile(t, filepath.Join(dir, "conf.d/y/z.txt")); s != "z" {
		t.Errorf("z.txt = %q", s)
	}
	for p, want := range map[string]os.FileMode{"app.conf": 0o644, "conf.d/x.conf": 0o600, "conf.d/y/z.txt": 0o444, "conf.d": 0o755 | fs.ModeDir, "conf.d/y": 0o755 | fs.ModeDir} {
		st, err := os.Stat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != want {
			t.Errorf("mode of %s = %v, want %v", p, st.Mode(), want)
		}
	}
	if st, _ := os.Stat(filepath.Join(dir, ts[0])); st.Mode().Perm() != 0o755 {
		t.Errorf("data dir mode = %v", st.Mode())
	}
}

func TestAtomicWriterUpdateAddRemoveAndNoop(t *testing.T) {
	dir := t.TempDir()
	w := &AtomicWriter{Dir: dir}
	mustWrite(t, w, map[string]FileProjection{"a": fp("1", 0o644), "b": fp("1", 0o644), "sub/c": fp("1", 0o644)})
	first := tsDirs(t, dir)

	// The same content writes nothing.
	if mustWrite(t, w, map[string]FileProjection{"a": fp("1", 0o644), "b": fp("1", 0o644), "sub/c": fp("1", 0o644)}) {
		t.Error("unchanged payload reported as a change")
	}
	if got := tsDirs(t, dir); len(got) != 1 || got[0] != first[0] {
		t.Errorf("unchanged payload made a new version: %v -> %v", first, got)
	}

	// Change a, remove b and sub/c, add d.
	if !mustWrite(t, w, map[string]FileProjection{"a": fp("2", 0o644), "d": fp("new", 0o644)}) {
		t.Fatal("update reported no change")
	}
	if s := readFile(t, filepath.Join(dir, "a")); s != "2" {
		t.Errorf("a = %q", s)
	}
	if s := readFile(t, filepath.Join(dir, "d")); s != "new" {
		t.Errorf("d = %q", s)
	}
	if got := visible(t, dir); strings.Join(got, " ") != "a d" {
		t.Errorf("visible names after update = %v", got)
	}
	ts := tsDirs(t, dir)
	if len(ts) != 1 || ts[0] == first[0] {
		t.Errorf("timestamped dirs after update = %v (first %v)", ts, first)
	}

	// A removed key only: still a change.
	if !mustWrite(t, w, map[string]FileProjection{"a": fp("2", 0o644)}) {
		t.Error("removing a key reported no change")
	}
	if got := visible(t, dir); strings.Join(got, " ") != "a" {
		t.Errorf("visible names after removal = %v", got)
	}

	// A mode change alone: a change.
	if !mustWrite(t, w, map[string]FileProjection{"a": fp("2", 0o400)}) {
		t.Error("mode change reported no change")
	}
	if st, _ := os.Stat(filepath.Join(dir, "a")); st.Mode().Perm() != 0o400 {
		t.Errorf("mode of a = %v", st.Mode())
	}

	// Empty: the volume is empty but published.
	if !mustWrite(t, w, nil) {
		t.Error("emptying reported no change")
	}
	if got := visible(t, dir); len(got) != 0 {
		t.Errorf("visible names in an empty volume = %v", got)
	}
	if !w.HasData() || len(tsDirs(t, dir)) != 1 {
		t.Errorf("empty volume: HasData %v, dirs %v", w.HasData(), tsDirs(t, dir))
	}
}

func TestAtomicWriterFirstEmptyWritePublishes(t *testing.T) {
	dir := t.TempDir()
	w := &AtomicWriter{Dir: dir}
	if !mustWrite(t, w, map[string]FileProjection{}) {
		t.Error("first (empty) write reported no change")
	}
	if !w.HasData() {
		t.Error("no ..data after an empty first write")
	}
}

func TestAtomicWriterKeepsModeDespiteUmask(t *testing.T) {
	dir := t.TempDir()
	w := &AtomicWriter{Dir: dir}
	mustWrite(t, w, map[string]FileProjection{"x": fp("x", 0o777)})
	if st, _ := os.Stat(filepath.Join(dir, "x")); st.Mode().Perm() != 0o777 {
		t.Errorf("mode = %v, want 0777 whatever the umask", st.Mode())
	}
}

func TestAtomicWriterFSGroup(t *testing.T) {
	dir := t.TempDir()
	gid := int64(os.Getgid())
	w := &AtomicWriter{Dir: dir, FSGroup: &gid}
	mustWrite(t, w, map[string]FileProjection{"secret": fp("s", 0o400), "d/f": fp("f", 0o600)})
	st, _ := os.Stat(filepath.Join(dir, "secret"))
	if st.Mode().Perm() != 0o440 {
		t.Errorf("mode with fsGroup = %v, want 0440", st.Mode())
	}
	st, _ = os.Stat(filepath.Join(dir, "d"))
	if st.Mode()&fs.ModeSetgid == 0 {
		t.Errorf("directory without setgid: %v", st.Mode())
	}
	// Same payload again: nothing to write (the group bits are expected).
	if mustWrite(t, w, map[string]FileProjection{"secret": fp("s", 0o400), "d/f": fp("f", 0o600)}) {
		t.Error("unchanged payload with fsGroup reported as a change")
	}
}

func TestAtomicWriterRejectsBadPaths(t *testing.T) {
	dir := t.TempDir()
	w := &AtomicWriter{Dir: dir}
	for _, p := range []string{"", "/etc/passwd", "../x", "a/../../x", "..data", "..foo/x", ".", "./", strings.Repeat("n", 256)} {
		if _, err := w.Write(map[string]FileProjection{p: fp("x", 0o644)}); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
	if _, err := w.Write(map[string]FileProjection{"a": fp("x", 0o644), "a/b": fp("y", 0o644)}); err == nil {
		t.Error("a file that is also a directory accepted")
	}
	if _, err := w.Write(map[string]FileProjection{"a": fp("x", 0o644), "./a": fp("y", 0o644)}); err == nil {
		t.Error("the same path twice accepted")
	}
	if w.HasData() || len(visible(t, dir)) != 0 {
		t.Error("a refused payload left something behind")
	}
	// Accepted: dots inside names, a cleaned path.
	if _, err := w.Write(map[string]FileProjection{"a..b": fp("x", 0o644), "c/./d": fp("y", 0o644), ".hidden": fp("z", 0o644)}); err != nil {
		t.Errorf("valid paths refused: %v", err)
	}
	if s := readFile(t, filepath.Join(dir, "c/d")); s != "y" {
		t.Errorf("c/d = %q", s)
	}
}

func TestAtomicWriterRefusesSymlinkedDir(t *testing.T) {
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "vol")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	w := &AtomicWriter{Dir: link}
	if _, err := w.Write(map[string]FileProjection{"a": fp("x", 0o644)}); err == nil {
		t.Fatal("wrote through a symlinked volume directory")
	}
	if es, _ := os.ReadDir(real); len(es) != 0 {
		t.Errorf("the link's target was written to: %v", es)
	}
}

// outside makes a directory outside the volume with a file in it and
// returns a check that both are intact.
func outside(t *testing.T) (dir string, intact func()) {
	t.Helper()
	dir = t.TempDir()
	f := filepath.Join(dir, "precious")
	if err := os.WriteFile(f, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, func() {
		t.Helper()
		b, err := os.ReadFile(f)
		if err != nil || string(b) != "keep" {
			t.Errorf("file outside the volume changed: %q, %v", b, err)
		}
		if st, _ := os.Stat(f); st.Mode().Perm() != 0o600 {
			t.Errorf("mode of the file outside the volume changed: %v", st.Mode())
		}
		es, _ := os.ReadDir(dir)
		if len(es) != 1 {
			t.Errorf("directory outside the volume changed: %v", es)
		}
	}
}

func TestAtomicWriterDoesNotFollowDataLinkOutside(t *testing.T) {
	out, intact := outside(t)
	for _, target := range []string{out, "../" + filepath.Base(out), "..data/../.."} {
		dir := t.TempDir()
		if err := os.Symlink(target, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
		w := &AtomicWriter{Dir: dir}
		if w.HasData() {
			t.Errorf("..data -> %s counted as data", target)
		}
		// "precious" is in the payload so that a followed link would be
		// compared, rewritten or removed.
		if !mustWrite(t, w, map[string]FileProjection{"precious": fp("new", 0o644)}) {
			t.Errorf("..data -> %s: no change written", target)
		}
		if s := readFile(t, filepath.Join(dir, "precious")); s != "new" {
			t.Errorf("precious = %q", s)
		}
		mustWrite(t, w, map[string]FileProjection{"other": fp("x", 0o644)})
		intact()
	}
}

func TestAtomicWriterReplacesForeignUserVisibleLinks(t *testing.T) {
	out, intact := outside(t)
	dir := t.TempDir()
	// Someone left a link named like a key, pointing outside.
	if err := os.Symlink(filepath.Join(out, "precious"), filepath.Join(dir, "precious")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(out, filepath.Join(dir, "conf")); err != nil {
		t.Fatal(err)
	}
	w := &AtomicWriter{Dir: dir}
	mustWrite(t, w, map[string]FileProjection{"precious": fp("new", 0o644), "conf/a": fp("a", 0o644)})
	if target, _ := os.Readlink(filepath.Join(dir, "precious")); target != "..data/precious" {
		t.Errorf("precious -> %q", target)
	}
	if target, _ := os.Readlink(filepath.Join(dir, "conf")); target != "..data/conf" {
		t.Errorf("conf -> %q", target)
	}
	// Removing the keys removes our links only.
	mustWrite(t, w, nil)
	intact()
}

func TestAtomicWriterDoesNotFollowLinksInOldData(t *testing.T) {
	out, intact := outside(t)
	dir := t.TempDir()
	w := &AtomicWriter{Dir: dir}
	mustWrite(t, w, map[string]FileProjection{"a": fp("1", 0o644), "sub/b": fp("1", 0o644)})
	cur, _ := w.currentDir()
	// Replace the published files by links out of the volume.
	for _, p := range []string{"a", "sub"} {
		full := filepath.Join(dir, cur, p)
		os.RemoveAll(full)
		target := filepath.Join(out, "precious")
		if p == "sub" {
			target = out
		}
		if err := os.Symlink(target, full); err != nil {
			t.Fatal(err)
		}
	}
	// A stale timestamped name that is a link out of the volume.
	if err := os.Symlink(out, filepath.Join(dir, "..2001_01_01_00_00_00.1")); err != nil {
		t.Fatal(err)
	}
	if !mustWrite(t, w, map[string]FileProjection{"a": fp("1", 0o644), "sub/b": fp("1", 0o644)}) {
		t.Error("links in place of files were taken for the same content")
	}
	if s := readFile(t, filepath.Join(dir, "sub/b")); s != "1" {
		t.Errorf("sub/b = %q", s)
	}
	if ts := tsDirs(t, dir); len(ts) != 1 {
		t.Errorf("timestamped names left: %v", ts)
	}
	intact()
}

func TestAtomicWriterRemovesStaleVersions(t *testing.T) {
	dir := t.TempDir()
	w := &AtomicWriter{Dir: dir}
	mustWrite(t, w, map[string]FileProjection{"a": fp("1", 0o644)})
	// An interrupted write left a directory and a temporary link.
	os.MkdirAll(filepath.Join(dir, "..2001_01_01_00_00_00.9", "x"), 0o755)
	os.Symlink("..2001_01_01_00_00_00.9", filepath.Join(dir, "..data_tmp"))
	mustWrite(t, w, map[string]FileProjection{"a": fp("2", 0o644)})
	if ts := tsDirs(t, dir); len(ts) != 1 {
		t.Errorf("timestamped dirs = %v", ts)
	}
	if _, err := os.Lstat(filepath.Join(dir, "..data_tmp")); !os.IsNotExist(err) {
		t.Errorf("..data_tmp left: %v", err)
	}
}

func TestAtomicWriterRemoveAllDoesNotFollowLinks(t *testing.T) {
	out, intact := outside(t)
	dir := filepath.Join(t.TempDir(), "vol")
	os.Mkdir(dir, 0o755)
	w := &AtomicWriter{Dir: dir}
	mustWrite(t, w, map[string]FileProjection{"a": fp("1", 0o644)})
	os.Symlink(out, filepath.Join(dir, "escape"))
	cur, _ := w.currentDir()
	os.Symlink(filepath.Join(out, "precious"), filepath.Join(dir, cur, "escape"))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	intact()
}

// Readers going through the user-visible names see whole versions, never a
// mix or a partly written file.
func TestAtomicWriterReadersSeeWholeVersions(t *testing.T) {
	dir := t.TempDir()
	w := &AtomicWriter{Dir: dir}
	big := func(c byte) string { return strings.Repeat(string(c), 64<<10) }
	mustWrite(t, w, map[string]FileProjection{"f": fp(big('a'), 0o644)})
	var stop atomic.Bool
	var wg sync.WaitGroup
	var bad atomic.Value
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				b, err := os.ReadFile(filepath.Join(dir, "f"))
				if err != nil {
					continue // the old version went between the look-up and the open
				}
				s := string(b)
				if len(s) != 64<<10 || strings.Count(s, s[:1]) != len(s) {
					bad.Store(len(s))
				}
			}
		}()
	}
	for i := 0; i < 100; i++ {
		mustWrite(t, w, map[string]FileProjection{"f": fp(big(byte('a'+i%26)), 0o644)})
	}
	stop.Store(true)
	wg.Wait()
	if v := bad.Load(); v != nil {
		t.Fatalf("a reader saw a partial or mixed file (%v bytes)", v)
	}
}
