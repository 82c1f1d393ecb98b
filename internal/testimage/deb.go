package testimage

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Debian fetches Debian packages of one suite without installing them. apt
// runs on a private directory of its own (sources, package lists, cache and
// an empty dpkg status) under Dir, set up from this machine's apt sources for
// Suite; apt-get download fetches the .debs and dpkg-deb unpacks each into a
// tree of its own. Nothing on the machine itself changes, and root is not
// needed.
type Debian struct {
	// Suite is the Debian release to take packages from ("trixie"); "" is
	// this machine's (VERSION_CODENAME in /etc/os-release).
	Suite string
	// Dir holds apt's state, the downloaded .debs and the unpacked trees.
	// Packages already there are not fetched again.
	Dir string
	// Sources, when set, is a deb822 sources file to use as it is; otherwise
	// the sources are derived from this machine's (EtcApt): its Debian
	// entries with their suites renamed to Suite, component main only.
	Sources string
	// EtcApt is where this machine's apt sources are read ("/etc/apt").
	EtcApt string
	// Refresh runs apt-get update even when package lists are present.
	Refresh bool
	// Log gets apt's progress; nil discards it.
	Log io.Writer
}

// Package is a fetched and unpacked Debian package.
type Package struct {
	Name, Version, Architecture string
	// Depends names the packages it depends on (Pre-Depends and Depends,
	// the first of each set of alternatives, without versions).
	Depends []string
	Deb     string // the .deb file
	SHA256  string // its digest, as the archive's index gives it
	Root    string // the directory it is unpacked in
}

// debArch is the Debian architecture of the machine's Go architecture.
func debArch() string {
	switch runtime.GOARCH {
	case "arm":
		return "armhf"
	case "386":
		return "i386"
	case "ppc64le":
		return "ppc64el"
	}
	return runtime.GOARCH
}

// HostSuite is this machine's Debian release (VERSION_CODENAME).
func HostSuite() (string, error) {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VERSION_CODENAME="); ok {
			if v = strings.Trim(v, `"'`); v != "" {
				return v, nil
			}
		}
	}
	return "", errors.New("/etc/os-release has no VERSION_CODENAME")
}

func (d *Debian) suite() (string, error) {
	if d.Suite != "" {
		return d.Suite, nil
	}
	return HostSuite()
}

func (d *Debian) root() (string, error) {
	s, err := d.suite()
	if err != nil {
		return "", err
	}
	if d.Dir == "" {
		return "", errors.New("debian: no cache directory")
	}
	abs, err := filepath.Abs(filepath.Join(d.Dir, s))
	return abs, err
}

func (d *Debian) log() io.Writer {
	if d.Log == nil {
		return io.Discard
	}
	return d.Log
}

// aptOptions point apt at the private directory: its own sources, lists,
// cache, preferences and an empty dpkg status, one architecture, and none of
// the extra indexes (translations, AppStream) a machine may be set up to fetch.
func aptOptions(root string) []string {
	arch := debArch()
	opts := []string{
		"Dir::Etc::SourceList=/dev/null",
		"Dir::Etc::SourceParts=" + filepath.Join(root, "sources.list.d"),
		"Dir::Etc::Preferences=/dev/null",
		"Dir::Etc::PreferencesParts=" + filepath.Join(root, "preferences.d"),
		"Dir::State=" + filepath.Join(root, "state"),
		"Dir::State::status=" + filepath.Join(root, "status"),
		"Dir::Cache=" + filepath.Join(root, "cache"),
		// The binary cache of the lists is kept between runs, even where the
		// machine's apt is told not to (container images); the source
		// cache, a copy of it, is not.
		"Dir::Cache::pkgcache=pkgcache.bin",
		"Dir::Cache::srcpkgcache=",
		"APT::Architecture=" + arch,
		"APT::Architectures=" + arch,
		"Acquire::Languages=none",
		"Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false",
		"Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false",
		"Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false",
		"Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled=false",
		"Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false",
		"Acquire::IndexTargets::deb::CNF::DefaultEnabled=false",
	}
	if os.Geteuid() == 0 {
		// apt would hand downloads to its _apt user, which cannot write here.
		opts = append(opts, "APT::Sandbox::User=root")
	}
	args := make([]string, 0, 2*len(opts))
	for _, o := range opts {
		args = append(args, "-o", o)
	}
	return args
}

// setup writes the private apt directory; it reports whether the sources
// changed (the package lists are then stale).
func (d *Debian) setup(root string) (changed bool, err error) {
	suite, err := d.suite()
	if err != nil {
		return false, err
	}
	var sources []byte
	if d.Sources != "" {
		if sources, err = os.ReadFile(d.Sources); err != nil {
			return false, err
		}
	} else {
		etc := d.EtcApt
		if etc == "" {
			etc = "/etc/apt"
		}
		host, err := ReadAptSources(etc)
		if err != nil {
			return false, err
		}
		hostSuite, err := HostSuite()
		if err != nil {
			return false, err
		}
		derived, err := SourcesFor(host, hostSuite, suite)
		if err != nil {
			return false, fmt.Errorf("%w (or give a sources file)", err)
		}
		sources = FormatSources(derived)
	}
	for _, dir := range []string{"sources.list.d", "preferences.d", "state/lists/partial", "cache/archives/partial", "debs", "unpacked"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			return false, err
		}
	}
	// An empty dpkg status: to apt nothing is installed. (Written once: a new
	// file would make apt rebuild its cache.)
	if _, err := os.Stat(filepath.Join(root, "status")); err != nil {
		if err := os.WriteFile(filepath.Join(root, "status"), nil, 0o644); err != nil {
			return false, err
		}
	}
	file := filepath.Join(root, "sources.list.d", "debian.sources")
	if old, err := os.ReadFile(file); err == nil && bytes.Equal(old, sources) {
		return false, nil
	}
	return true, os.WriteFile(file, sources, 0o644)
}

func (d *Debian) apt(root, dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("apt-get", append(append(aptOptions(root), "-q"), args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, io.MultiWriter(&stderr, d.log())
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("apt-get %s: %v\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

func (d *Debian) update(root string) error {
	fmt.Fprintf(d.log(), "debian: apt-get update in %s\n", root)
	_, err := d.apt(root, root, "update")
	return err
}

func hasLists(root string) bool {
	m, _ := filepath.Glob(filepath.Join(root, "state", "lists", "*_Packages*"))
	return len(m) > 0
}

// debFile is one line of `apt-get download --print-uris`:
// 'URI' FILENAME SIZE SHA256:HEX.
type debFile struct{ name, sha256 string }

func parsePrintURIs(out []byte) ([]debFile, error) {
	var files []debFile
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "'") {
			continue
		}
		sum, ok := strings.CutPrefix(f[3], "SHA256:")
		if !ok {
			return nil, fmt.Errorf("apt-get download --print-uris: no SHA256 in %q", line)
		}
		files = append(files, debFile{name: f[1], sha256: sum})
	}
	return files, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Fetch downloads (unless already there) and unpacks the named packages, in
// the order given.
func (d *Debian) Fetch(names ...string) ([]*Package, error) {
	if len(names) == 0 {
		return nil, nil
	}
	root, err := d.root()
	if err != nil {
		return nil, err
	}
	changed, err := d.setup(root)
	if err != nil {
		return nil, err
	}
	updated := false
	if changed || d.Refresh || !hasLists(root) {
		if err := d.update(root); err != nil {
			return nil, err
		}
		updated = true
	}
	files, err := d.download(root, names)
	if err != nil && !updated {
		// The lists may name versions the archive no longer has.
		fmt.Fprintf(d.log(), "debian: %v; updating the package lists\n", err)
		if err := d.update(root); err != nil {
			return nil, err
		}
		files, err = d.download(root, names)
	}
	if err != nil {
		return nil, err
	}
	pkgs := make([]*Package, 0, len(files))
	for _, f := range files {
		p, err := unpack(root, f)
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// download brings the .debs of names into root/debs and returns them in the
// order of names.
func (d *Debian) download(root string, names []string) ([]debFile, error) {
	out, err := d.apt(root, root, append([]string{"download", "--print-uris"}, names...)...)
	if err != nil {
		return nil, err
	}
	files, err := parsePrintURIs(out)
	if err != nil {
		return nil, err
	}
	if len(files) != len(names) {
		return nil, fmt.Errorf("apt-get download --print-uris %s: %d files for %d packages:\n%s", strings.Join(names, " "), len(files), len(names), out)
	}
	debs := filepath.Join(root, "debs")
	var missing []string
	for i, f := range files {
		if sum, err := fileSHA256(filepath.Join(debs, f.name)); err == nil && sum == f.sha256 {
			continue
		}
		missing = append(missing, names[i])
	}
	if len(missing) > 0 {
		fmt.Fprintf(d.log(), "debian: downloading %s\n", strings.Join(missing, " "))
		if _, err := d.apt(root, debs, append([]string{"download"}, missing...)...); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		sum, err := fileSHA256(filepath.Join(debs, f.name))
		if err != nil {
			return nil, err
		}
		if sum != f.sha256 {
			return nil, fmt.Errorf("%s: sha256 %s, the archive says %s", f.name, sum, f.sha256)
		}
	}
	return files, nil
}

// unpack unpacks a downloaded .deb into root/unpacked/<name of the .deb> once
// and reads its control fields.
func unpack(root string, f debFile) (*Package, error) {
	deb := filepath.Join(root, "debs", f.name)
	fields, err := controlFields(deb)
	if err != nil {
		return nil, err
	}
	p := &Package{
		Name:         fields["Package"],
		Version:      fields["Version"],
		Architecture: fields["Architecture"],
		Depends:      dependencyNames(fields["Pre-Depends"] + "," + fields["Depends"]),
		Deb:          deb,
		SHA256:       f.sha256,
		Root:         filepath.Join(root, "unpacked", strings.TrimSuffix(f.name, ".deb")),
	}
	if _, err := os.Stat(p.Root + ".sha256"); err == nil {
		if b, _ := os.ReadFile(p.Root + ".sha256"); strings.TrimSpace(string(b)) == f.sha256 {
			return p, nil
		}
	}
	tmp := p.Root + ".tmp"
	for _, dir := range []string{tmp, p.Root} {
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
	}
	if out, err := exec.Command("dpkg-deb", "-x", deb, tmp).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("dpkg-deb -x %s: %v\n%s", deb, err, out)
	}
	if err := os.Rename(tmp, p.Root); err != nil {
		return nil, err
	}
	return p, os.WriteFile(p.Root+".sha256", []byte(f.sha256+"\n"), 0o644)
}

func controlFields(deb string) (map[string]string, error) {
	out, err := exec.Command("dpkg-deb", "--field", deb, "Package", "Version", "Architecture", "Pre-Depends", "Depends").Output()
	if err != nil {
		return nil, fmt.Errorf("dpkg-deb --field %s: %w", deb, err)
	}
	return parseControl(out), nil
}

// parseControl reads the fields of one control paragraph; continuation lines
// are joined to their field.
func parseControl(b []byte) map[string]string {
	fields := map[string]string{}
	var last string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
			if last != "" {
				fields[last] += " " + strings.TrimSpace(line)
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		last = strings.TrimSpace(k)
		fields[last] = strings.TrimSpace(v)
	}
	return fields
}

// dependencyNames turns "libc6 (>= 2.34), libssl3t64 | libssl3, adduser:any"
// into [libc6 libssl3t64 adduser].
func dependencyNames(field string) []string {
	var names []string
	seen := map[string]bool{}
	for _, dep := range strings.Split(field, ",") {
		alt, _, _ := strings.Cut(dep, "|")
		name := strings.TrimSpace(alt)
		if i := strings.IndexAny(name, " (["); i >= 0 {
			name = name[:i]
		}
		name, _, _ = strings.Cut(name, ":")
		if name != "" && !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	return names
}

// Versions lists "name=version" of the packages, sorted.
func Versions(pkgs []*Package) []string {
	var v []string
	for _, p := range pkgs {
		v = append(v, p.Name+"="+p.Version)
	}
	sort.Strings(v)
	return v
}
