package testimage

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// App is an image of an application built from Debian packages: the named
// files of the packages, the shared libraries they load (found in the
// packages, fetching the library packages they depend on as needed), and
// busybox with all its applets in /bin, so that shell scripts and tools
// such as nslookup work in it.
type App struct {
	// Tags name the image, such as the upstream image a published manifest
	// names.
	Tags []string
	// Suite is the Debian release the packages come from; "" is this
	// machine's.
	Suite string
	// Packages are fetched and unpacked; Files are taken from them.
	Packages []string
	// Files are the files the image gets, by their path in the packages.
	Files []AppFile
	// Dirs are empty directories the image has (with mode 0755).
	Dirs []string
	// Config is the image config. Labels get the Debian suite and the
	// name=version of every package the image took files from.
	Config ocispec.ImageConfig
}

// AppFile is a file of a package ("/usr/bin/etcd") and where the image has it
// (To; "" is the same path). Symbolic links are followed: the image gets the
// file they lead to, under the name given.
type AppFile struct{ From, To string }

// DefaultPath is the PATH of the app images.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Apps are the application images the end-to-end tests use, by name (make
// app-images builds each as bin/NAME-oci.tar).
var Apps = map[string]App{
	// etcd for the etcd project's StatefulSet example
	// (test/e2e/testdata/etcd), which names quay.io/coreos/etcd:v3.5.15 and
	// /usr/local/bin/etcd and probes /readyz and /livez (etcd >= 3.5.12):
	// Debian trixie has etcd 3.5.16.
	"etcd": {
		Tags:     []string{"quay.io/coreos/etcd:v3.5.15"},
		Suite:    "trixie",
		Packages: []string{"etcd-server", "etcd-client"},
		Files: []AppFile{
			{From: "/usr/bin/etcd", To: "/usr/local/bin/etcd"},
			{From: "/usr/bin/etcdctl", To: "/usr/local/bin/etcdctl"},
			{From: "/usr/bin/etcdutl", To: "/usr/local/bin/etcdutl"},
		},
		Dirs: []string{"/var/etcd", "/var/lib/etcd"},
		Config: ocispec.ImageConfig{
			Env:          []string{DefaultPath},
			Cmd:          []string{"/usr/local/bin/etcd"},
			ExposedPorts: map[string]struct{}{"2379/tcp": {}, "2380/tcp": {}},
		},
	},
	// Redis for the redis-cluster StatefulSet (test/e2e/testdata/redis),
	// which names redis:5.0-rc and runs redis-server and redis-cli from PATH
	// in /data, the working directory of the upstream image (redis writes
	// its files there). Debian bookworm has Redis 7.0, which reads the
	// manifest's configuration as 5.0 does.
	"redis": {
		Tags:     []string{"docker.io/library/redis:5.0-rc"},
		Suite:    "bookworm",
		Packages: []string{"redis-server", "redis-tools"},
		Files: []AppFile{
			{From: "/usr/bin/redis-server"},
			{From: "/usr/bin/redis-cli"},
		},
		Dirs: []string{"/data"},
		Config: ocispec.ImageConfig{
			Env:          []string{DefaultPath},
			Cmd:          []string{"redis-server"},
			WorkingDir:   "/data",
			ExposedPorts: map[string]struct{}{"6379/tcp": {}},
		},
	},
}

// AppNames lists the names of Apps, sorted.
func AppNames() []string {
	var names []string
	for n := range Apps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// BuildApp fetches the app's packages through deb (its Suite is set from
// the app's) and writes the image as an OCI image layout archive.
func BuildApp(w io.Writer, app App, deb Debian) error {
	if len(app.Tags) == 0 {
		return errors.New("app image: no tag")
	}
	if app.Suite != "" {
		deb.Suite = app.Suite
	}
	suite, err := deb.suite()
	if err != nil {
		return err
	}
	pkgs, err := deb.Fetch(app.Packages...)
	if err != nil {
		return err
	}
	layer, used, err := appLayer(app, &deb, pkgs)
	if err != nil {
		return err
	}
	cfg := app.Config
	cfg.Labels = map[string]string{}
	for k, v := range app.Config.Labels {
		cfg.Labels[k] = v
	}
	cfg.Labels["dev.ordo.debian.suite"] = suite
	cfg.Labels["dev.ordo.debian.packages"] = strings.Join(Versions(used), " ")
	return writeLayout(w, layer, cfg, app.Tags)
}

// multiarch is the Debian multiarch triplet of the machine.
func multiarch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64-linux-gnu"
	case "arm64":
		return "aarch64-linux-gnu"
	case "arm":
		return "arm-linux-gnueabihf"
	case "386":
		return "i386-linux-gnu"
	case "ppc64le":
		return "powerpc64le-linux-gnu"
	case "s390x":
		return "s390x-linux-gnu"
	case "riscv64":
		return "riscv64-linux-gnu"
	}
	return runtime.GOARCH + "-linux-gnu"
}

// usrPath is where an image path lives in a merged-/usr tree: /lib/x is
// /usr/lib/x (the image has /lib -> usr/lib, and /lib64 -> usr/lib64).
func usrPath(p string) string {
	for _, d := range []string{"/lib/", "/lib64/"} {
		if strings.HasPrefix(p, d) {
			return "/usr" + p
		}
	}
	return p
}

// aliases are the paths a file may have in a package: as given and across
// merged /usr (/lib/x and /usr/lib/x, /bin/x and /usr/bin/x).
func aliases(p string) []string {
	out := []string{p}
	for _, d := range []string{"/lib/", "/lib64/", "/bin/", "/sbin/"} {
		if strings.HasPrefix(p, d) {
			return append(out, "/usr"+p)
		}
		if strings.HasPrefix(p, "/usr"+d) {
			return append(out, strings.TrimPrefix(p, "/usr"))
		}
	}
	return out
}

// packageTree is the union of unpacked packages.
type packageTree []*Package

// find returns the file at path p of the packages (the first package that
// has it, across merged /usr), following symbolic links through the whole
// tree, and the package it is in.
func (t packageTree) find(p string) (string, *Package, error) {
	for depth := 0; depth < 32; depth++ {
		next := ""
	search:
		for _, cand := range aliases(p) {
			for _, pkg := range t {
				hp := filepath.Join(pkg.Root, cand)
				fi, err := os.Lstat(hp)
				if err != nil {
					continue
				}
				switch {
				case fi.Mode().IsRegular():
					// A directory on the way may be a link out of the package.
					real, err := filepath.EvalSymlinks(hp)
					if err != nil || !strings.HasPrefix(real, pkg.Root+string(filepath.Separator)) {
						continue
					}
					return hp, pkg, nil
				case fi.Mode()&fs.ModeSymlink != 0:
					target, err := os.Readlink(hp)
					if err != nil {
						return "", nil, err
					}
					if !path.IsAbs(target) {
						target = path.Join(path.Dir(cand), target)
					}
					next = path.Clean(target)
					break search
				}
			}
		}
		if next == "" {
			return "", nil, fs.ErrNotExist
		}
		p = next
	}
	return "", nil, fmt.Errorf("%s: too many levels of symbolic links", p)
}

// elfDeps reads what an ELF file needs to run: its program interpreter and
// the shared libraries it names (DT_NEEDED), with its RUNPATH or RPATH
// directories ($ORIGIN is the directory of imagePath). ok is false for a
// file that is not ELF (a script).
func elfDeps(file, imagePath string) (interp string, needed, runpath []string, ok bool, err error) {
	f, err := elf.Open(file)
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) {
			return "", nil, nil, false, nil
		}
		return "", nil, nil, false, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(p.Open())
			if err != nil {
				return "", nil, nil, false, err
			}
			interp = strings.TrimRight(string(b), "\x00")
		}
	}
	if f.Section(".dynamic") == nil {
		return interp, nil, nil, true, nil
	}
	if needed, err = f.ImportedLibraries(); err != nil {
		return "", nil, nil, false, err
	}
	for _, tag := range []elf.DynTag{elf.DT_RUNPATH, elf.DT_RPATH} {
		vals, _ := f.DynString(tag)
		for _, v := range vals {
			for _, dir := range strings.Split(v, ":") {
				dir = strings.ReplaceAll(dir, "$ORIGIN", path.Dir(imagePath))
				dir = strings.ReplaceAll(dir, "${ORIGIN}", path.Dir(imagePath))
				if path.IsAbs(dir) {
					runpath = append(runpath, path.Clean(dir))
				}
			}
		}
	}
	return interp, needed, runpath, true, nil
}

// appLayer lays out the image: busybox and its applets in /bin, the app's
// files, their program interpreter and shared libraries (recursively), a
// merged /usr (/lib -> usr/lib), and the files of /etc a small image needs.
// It returns the packages it took files from.
func appLayer(app App, deb *Debian, pkgs []*Package) ([]byte, []*Package, error) {
	l := newLayer()
	for _, d := range []string{"bin", "etc", "proc", "sys", "dev", "root", "run", "var", "usr/bin", "usr/sbin", "usr/local/bin"} {
		if err := l.Dir(d, 0o755); err != nil {
			return nil, nil, err
		}
	}
	if err := l.Dir("tmp", 0o1777); err != nil {
		return nil, nil, err
	}
	for _, d := range app.Dirs {
		if err := l.Dir(d, 0o755); err != nil {
			return nil, nil, err
		}
	}
	for name, data := range map[string]string{
		"etc/passwd":        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":         "root:x:0:\nnogroup:x:65534:\n",
		"etc/nsswitch.conf": "passwd: files\ngroup: files\nhosts: files dns\n",
	} {
		if err := l.File(name, 0o644, []byte(data)); err != nil {
			return nil, nil, err
		}
	}
	if err := addBusybox(l); err != nil {
		return nil, nil, err
	}

	tree := packageTree(pkgs)
	fetched := map[string]bool{}
	for _, p := range pkgs {
		fetched[p.Name] = true
	}
	used := map[*Package]bool{} // the app's packages, and those files came from
	for _, p := range pkgs {
		used[p] = true
	}

	type pending struct {
		host, image string
		pkg         *Package
	}
	var queue []pending
	for _, f := range app.Files {
		host, pkg, err := tree.find(f.From)
		if err != nil {
			return nil, nil, fmt.Errorf("%s is in none of %s: %w", f.From, strings.Join(app.Packages, ", "), err)
		}
		to := f.To
		if to == "" {
			to = f.From
		}
		queue = append(queue, pending{host, to, pkg})
	}
	placed := map[string]string{} // file of a package -> its first path in the image
	addFile := func(p pending) error {
		image := usrPath(p.image)
		if first, ok := placed[p.host]; ok {
			// The same file under a second name (the dynamic loader is
			// both the interpreter and a library of libc): a link.
			rel, err := filepath.Rel(path.Dir(image), first)
			if err != nil {
				return err
			}
			return l.Symlink(image, rel)
		}
		b, err := os.ReadFile(p.host)
		if err != nil {
			return err
		}
		fi, err := os.Stat(p.host)
		if err != nil {
			return err
		}
		placed[p.host] = image
		used[p.pkg] = true
		return l.File(image, int64(fi.Mode().Perm()), b)
	}
	libDirs := func(runpath []string) []string {
		ma := multiarch()
		return append(runpath, "/usr/lib/"+ma, "/lib/"+ma, "/usr/lib", "/lib", "/usr/lib64", "/lib64")
	}
	seen := map[string]bool{}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[usrPath(p.image)] {
			continue
		}
		seen[usrPath(p.image)] = true
		if err := addFile(p); err != nil {
			return nil, nil, err
		}
		interp, needed, runpath, isELF, err := elfDeps(p.host, p.image)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p.image, err)
		}
		if !isELF {
			continue
		}
		if interp != "" {
			host, pkg, err := tree.find(interp)
			for err != nil {
				var more []*Package
				if more, err = fetchDeps(deb, p.pkg, fetched); err != nil {
					return nil, nil, err
				}
				if len(more) == 0 {
					return nil, nil, fmt.Errorf("%s needs %s, which none of the packages has", p.image, interp)
				}
				tree = append(tree, more...)
				host, pkg, err = tree.find(interp)
			}
			queue = append(queue, pending{host, interp, pkg})
		}
		for _, lib := range needed {
			var found *pending
			for found == nil {
				for _, dir := range libDirs(runpath) {
					if host, pkg, err := tree.find(dir + "/" + lib); err == nil {
						found = &pending{host, dir + "/" + lib, pkg}
						break
					}
				}
				if found != nil {
					break
				}
				// Not there yet: fetch the library packages the package of
				// the file depends on, and look again.
				more, err := fetchDeps(deb, p.pkg, fetched)
				if err != nil {
					return nil, nil, err
				}
				if len(more) == 0 {
					return nil, nil, fmt.Errorf("%s (package %s) needs %s, which none of the packages has; add the package that has it", p.image, p.pkg.Name, lib)
				}
				tree = append(tree, more...)
			}
			queue = append(queue, *found)
		}
	}
	// A merged /usr: the dynamic loader is named /lib64/ld-linux-x86-64.so.2
	// (or /lib/ld-linux-aarch64.so.1), and libraries live in /usr/lib.
	for _, d := range []string{"lib", "lib64"} {
		if l.Has("usr/" + d) {
			if err := l.Symlink(d, "usr/"+d); err != nil {
				return nil, nil, err
			}
		}
	}
	b, err := l.Bytes()
	if err != nil {
		return nil, nil, err
	}
	var usedList []*Package
	for p := range used {
		usedList = append(usedList, p)
	}
	return b, usedList, nil
}

// fetchDeps fetches the library packages (lib*) that pkg depends on and that
// are not fetched yet.
func fetchDeps(deb *Debian, pkg *Package, fetched map[string]bool) ([]*Package, error) {
	var names []string
	for _, d := range pkg.Depends {
		if strings.HasPrefix(d, "lib") && !fetched[d] {
			names = append(names, d)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	more, err := deb.Fetch(names...)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		fetched[n] = true
	}
	return more, nil
}

// addBusybox adds the static busybox of this machine as /bin/busybox with a
// link in /bin for every applet it has.
func addBusybox(l *layerBuilder) error {
	bb, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return fmt.Errorf("read busybox: %w", err)
	}
	if err := l.File("bin/busybox", 0o755, bb); err != nil {
		return err
	}
	out, err := exec.Command(BusyboxPath, "--list").Output()
	if err != nil {
		return fmt.Errorf("busybox --list: %w", err)
	}
	applets := strings.Fields(string(out))
	if !slices.Contains(applets, "sh") {
		return fmt.Errorf("%s has no sh applet", BusyboxPath)
	}
	for _, a := range applets {
		if a == "busybox" || strings.Contains(a, "/") {
			continue
		}
		if err := l.Symlink("bin/"+a, "busybox"); err != nil {
			return err
		}
	}
	return nil
}
