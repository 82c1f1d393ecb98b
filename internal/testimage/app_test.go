package testimage

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestParseSources(t *testing.T) {
	oneLine := `# the distribution
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian bookworm main contrib
deb http://mirror.example/debian-security bookworm-security main
deb-src http://mirror.example/debian bookworm main
deb [signed-by=/usr/share/keyrings/vendor.gpg] https://vendor.example/apt bookworm main
deb https://other.example/apt cloud-sdk-bookworm main
`
	got := parseOneLineSources(oneLine)
	if len(got) != 5 || got[0].SignedBy != "/usr/share/keyrings/debian-archive-keyring.gpg" ||
		!reflect.DeepEqual(got[0].Components, []string{"main", "contrib"}) || got[1].URIs[0] != "http://mirror.example/debian-security" {
		t.Fatalf("one-line sources = %+v", got)
	}
	deb822 := `Types: deb
# a comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian
Suites: bookworm-backports
Components: main
Enabled: no

Types: deb
URIs: https://vendor.example/node
Suites: nodistro
Components: main
Signed-By: /usr/share/keyrings/vendor.gpg
`
	got = append(got, parseDeb822Sources(deb822)...)
	if len(got) != 7 {
		t.Fatalf("sources = %+v", got)
	}
	derived, err := SourcesFor(got, "bookworm", "trixie")
	if err != nil {
		t.Fatal(err)
	}
	want := `Types: deb
URIs: http://mirror.example/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: trixie-security
Components: main

Types: deb
URIs: http://mirror.example/debian
Suites: trixie trixie-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`
	if s := string(FormatSources(derived)); s != want {
		t.Errorf("derived sources:\n%s\nwant:\n%s", s, want)
	}
	if _, err := SourcesFor(got, "jammy", "trixie"); err == nil {
		t.Error("sources derived from a suite the machine does not have")
	}
}

func TestControlAndAptOutput(t *testing.T) {
	f := parseControl([]byte("Package: redis-tools\nVersion: 5:7.0.15-1~deb12u1\nPre-Depends: init-system-helpers (>= 1.54~)\nDepends: adduser, libatomic1 (>= 4.8),\n libc6 (>= 2.34), libssl3 | libssl3t64, libjemalloc2:any\n"))
	if f["Version"] != "5:7.0.15-1~deb12u1" {
		t.Fatalf("fields = %v", f)
	}
	deps := dependencyNames(f["Pre-Depends"] + "," + f["Depends"])
	if want := []string{"init-system-helpers", "adduser", "libatomic1", "libc6", "libssl3", "libjemalloc2"}; !reflect.DeepEqual(deps, want) {
		t.Errorf("dependencies = %v, want %v", deps, want)
	}
	files, err := parsePrintURIs([]byte("Reading package lists...\n'http://mirror.example/pool/main/e/etcd/etcd-server_3.5.16-4_amd64.deb' etcd-server_3.5.16-4_amd64.deb 11022368 SHA256:abc123\n"))
	if err != nil || len(files) != 1 || files[0] != (debFile{"etcd-server_3.5.16-4_amd64.deb", "abc123"}) {
		t.Errorf("print-uris = %+v %v", files, err)
	}
}

func TestLayerSortsAndAddsParents(t *testing.T) {
	l := newLayer()
	must(t, l.File("/usr/local/bin/x", 0o755, []byte("x")))
	must(t, l.Symlink("lib", "usr/lib"))
	must(t, l.Dir("usr/lib", 0o755))
	must(t, l.File("usr/local/bin/x", 0o755, []byte("x"))) // the same again: fine
	if err := l.File("usr/local/bin/x", 0o755, []byte("y")); err == nil {
		t.Error("a path given twice with different content was accepted")
	}
	if err := l.File("lib/libc.so.6", 0o644, nil); err == nil {
		t.Error("a file below a symbolic link was accepted")
	}
	names := layerNames(t, mustBytes(t, l))
	want := []string{"lib", "usr/", "usr/lib/", "usr/local/", "usr/local/bin/", "usr/local/bin/x"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("layer = %v, want %v", names, want)
	}
}

func TestFindFollowsLinksAcrossPackages(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	write(t, filepath.Join(b, "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"), "ld")
	link(t, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", filepath.Join(a, "usr/lib64/ld-linux-x86-64.so.2"))
	write(t, filepath.Join(a, "usr/bin/redis-check-rdb"), "redis")
	link(t, "redis-check-rdb", filepath.Join(a, "usr/bin/redis-server"))
	tree := packageTree{{Name: "a", Root: a}, {Name: "b", Root: b}}
	for p, want := range map[string]string{
		"/lib64/ld-linux-x86-64.so.2": filepath.Join(b, "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
		"/usr/bin/redis-server":       filepath.Join(a, "usr/bin/redis-check-rdb"),
		"/bin/redis-server":           filepath.Join(a, "usr/bin/redis-check-rdb"),
	} {
		got, _, err := tree.find(p)
		if err != nil || got != want {
			t.Errorf("find(%s) = %s %v, want %s", p, got, err, want)
		}
	}
	if _, _, err := tree.find("/usr/bin/missing"); err == nil {
		t.Error("found a file no package has")
	}
}

// The host's /usr/bin/true and its C library stand in for packages: the image
// gets the binary where asked, the loader and libc from the packages, and
// busybox's applets.
func TestAppLayerTakesBinaryAndLibraries(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("uses the x86-64 Linux loader of this machine")
	}
	libc, err := filepath.EvalSymlinks("/lib/x86_64-linux-gnu/libc.so.6")
	if err != nil {
		t.Skip("no /lib/x86_64-linux-gnu/libc.so.6")
	}
	ld, err := filepath.EvalSymlinks("/lib64/ld-linux-x86-64.so.2")
	if err != nil {
		t.Skip("no /lib64/ld-linux-x86-64.so.2")
	}
	if _, err := os.Stat(BusyboxPath); err != nil {
		t.Skip("no busybox")
	}
	app, c := t.TempDir(), t.TempDir()
	copyFile(t, "/usr/bin/true", filepath.Join(app, "usr/bin/true"))
	copyFile(t, libc, filepath.Join(c, "lib/x86_64-linux-gnu/libc.so.6"))
	copyFile(t, ld, filepath.Join(c, "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"))
	link(t, "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", filepath.Join(c, "lib64/ld-linux-x86-64.so.2"))
	spec := App{Files: []AppFile{{From: "/usr/bin/true", To: "/usr/local/bin/true"}}}
	pkgs := []*Package{{Name: "coreutils", Root: app, Depends: []string{"libc6"}}, {Name: "libc6", Root: c}}
	b, used, err := appLayer(spec, &Debian{}, pkgs)
	if err != nil {
		t.Fatal(err)
	}
	if len(used) != 2 {
		t.Errorf("packages used = %v", used)
	}
	entries := layerEntries(t, b)
	for name, typ := range map[string]byte{
		"usr/local/bin/true":                            tar.TypeReg,
		"usr/lib/x86_64-linux-gnu/libc.so.6":            tar.TypeReg,
		"usr/lib64/ld-linux-x86-64.so.2":                tar.TypeReg,
		"usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": tar.TypeSymlink,
		"lib":               tar.TypeSymlink,
		"lib64":             tar.TypeSymlink,
		"bin/sh":            tar.TypeSymlink,
		"tmp/":              tar.TypeDir,
		"etc/nsswitch.conf": tar.TypeReg,
	} {
		if h, ok := entries[name]; !ok || h.Typeflag != typ {
			t.Errorf("%s: %+v", name, h)
		}
	}
	if h := entries["tmp/"]; h != nil && h.Mode != 0o1777 {
		t.Errorf("tmp has mode %o", h.Mode)
	}

	// Without the C library (and no package to fetch it from) the image
	// cannot be made, and the error says why.
	_, _, err = appLayer(spec, &Debian{}, []*Package{{Name: "coreutils", Root: app}})
	if err == nil || !strings.Contains(err.Error(), "needs") {
		t.Errorf("no libc: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustBytes(t *testing.T, l *layerBuilder) []byte {
	t.Helper()
	b, err := l.Bytes()
	must(t, err)
	return b
}

func layerEntries(t *testing.T, b []byte) map[string]*tar.Header {
	t.Helper()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		must(t, err)
		out[h.Name] = h
	}
}

func layerNames(t *testing.T, b []byte) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		must(t, err)
		names = append(names, h.Name)
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(path), 0o755))
	must(t, os.WriteFile(path, []byte(data), 0o755))
}

func link(t *testing.T, target, path string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(path), 0o755))
	must(t, os.Symlink(target, path))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	must(t, err)
	must(t, os.MkdirAll(filepath.Dir(to), 0o755))
	must(t, os.WriteFile(to, b, 0o755))
}
