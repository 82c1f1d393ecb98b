package volumes

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ordoproject/ordo/internal/errdefs"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func TestWithMountsOnEmptySpec(t *testing.T) {
	s := &oci.Spec{}
	err := WithMounts([]Mount{
		{Source: "/data/pv1", Destination: "/usr/share/nginx/html"},
		{Source: "/data/cfg", Destination: "/etc/cfg", ReadOnly: true},
	})(context.Background(), nil, nil, s)
	if err != nil {
		t.Fatal(err)
	}
	want := []specs.Mount{
		{Destination: "/usr/share/nginx/html", Type: "bind", Source: "/data/pv1", Options: []string{"rbind", "rprivate", "rw"}},
		{Destination: "/etc/cfg", Type: "bind", Source: "/data/cfg", Options: []string{"rbind", "rprivate", "ro"}},
	}
	if !reflect.DeepEqual(s.Mounts, want) {
		t.Fatalf("mounts = %+v", s.Mounts)
	}
	// Same destination replaces.
	if err := WithMounts([]Mount{{Source: "/other", Destination: "/etc/cfg"}})(context.Background(), nil, nil, s); err != nil {
		t.Fatal(err)
	}
	if len(s.Mounts) != 2 || s.Mounts[1].Source != "/other" {
		t.Fatalf("mounts = %+v", s.Mounts)
	}
}

func TestNFSOptions(t *testing.T) {
	for _, tc := range []struct {
		in       []string
		readOnly bool
		want     string
	}{
		{nil, false, ""},
		{nil, true, "ro"},
		{[]string{"hard", "nfsvers=4.1"}, false, "hard,nfsvers=4.1"},
		{[]string{"hard", "hard", "timeo=600"}, false, "hard,timeo=600"},
		{[]string{"rw", "soft"}, true, "soft,ro"},
		{[]string{"ro", "vers=3", "nfsvers=3"}, true, "ro,vers=3,nfsvers=3"},
	} {
		got, err := NFSOptions(tc.in, tc.readOnly)
		if err != nil || got != tc.want {
			t.Errorf("NFSOptions(%q, %v) = %q, %v; want %q", tc.in, tc.readOnly, got, err, tc.want)
		}
	}
	for _, in := range [][]string{{""}, {"hard,soft"}, {"a b"}, {"bind"}, {"remount"}, {"vers=3", "nfsvers=4.1"}} {
		if got, err := NFSOptions(in, false); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("NFSOptions(%q) = %q, %v; want invalid", in, got, err)
		}
	}
	flags, data := SplitFlags("ro,hard,noexec,nfsvers=4.1")
	if strings.Join(flags, ",") != "ro,noexec" || data != "hard,nfsvers=4.1" {
		t.Errorf("SplitFlags = %v %q", flags, data)
	}
	if got := NFSSource("fd00::1", "/export"); got != "[fd00::1]:/export" {
		t.Errorf("NFSSource ipv6 = %q", got)
	}
	if got := NFSSource("nfs.example", "/export"); got != "nfs.example:/export" {
		t.Errorf("NFSSource = %q", got)
	}
}

func TestPathChecks(t *testing.T) {
	for _, p := range []string{"relative", "/a/../etc", "/", "/run/ordo-agent", "/run/ordo-agent/netns", "/run"} {
		if err := CheckHostPath(p, "/run/ordo-agent"); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("CheckHostPath(%q) = %v; want invalid", p, err)
		}
	}
	if err := CheckHostPath("/var/lib/data/pv1", "/run/ordo-agent"); err != nil {
		t.Errorf("CheckHostPath: %v", err)
	}
	for sub, want := range map[string]string{"": "/v", "a/b": "/v/a/b", "./a": "/v/a"} {
		if got, err := SubPath("/v", sub); err != nil || got != want {
			t.Errorf("SubPath(%q) = %q, %v", sub, got, err)
		}
	}
	for _, sub := range []string{"../x", "a/../../x", "/abs"} {
		if _, err := SubPath("/v", sub); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("SubPath(%q) = %v; want invalid", sub, err)
		}
	}
	c := &ordov1.Container{Name: "c", VolumeMounts: []*ordov1.VolumeMount{
		{Name: "www", MountPath: "/usr/share/nginx/html/", SubPath: "site"},
		{Name: "cfg", MountPath: "/etc/cfg", ReadOnly: true},
		{Name: "data", MountPath: "/data"},
	}}
	got, err := ContainerMounts(c, map[string]Source{"www": {Path: "/pv"}, "cfg": {Path: "/cfg"}, "data": {Path: "/nfs", ReadOnly: true}})
	want := []Mount{{"/pv/site", "/usr/share/nginx/html", false}, {"/cfg", "/etc/cfg", true}, {"/nfs", "/data", true}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ContainerMounts = %+v, %v", got, err)
	}
	if _, err := ContainerMounts(c, map[string]Source{}); err == nil {
		t.Fatal("a mount without its volume passed")
	}
}

type fakeMounter struct {
	mounted map[string]string
	calls   int
	err     error
}

func (f *fakeMounter) MountNFS(_ context.Context, source, target, options string) error {
	f.calls++
	if f.err != nil {
		return f.err
	}
	f.mounted[target] = source + " " + options
	return nil
}

func (f *fakeMounter) Unmount(target string) error { delete(f.mounted, target); return nil }
func (f *fakeMounter) IsMounted(target string) (bool, error) {
	_, ok := f.mounted[target]
	return ok, nil
}

func TestManagerPrepareAndRelease(t *testing.T) {
	root := t.TempDir()
	state := filepath.Join(root, "state")
	data := filepath.Join(root, "pv1")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	fm := &fakeMounter{mounted: map[string]string{}}
	m := NewManager(state, fm, nil)
	nfs := &ordov1.ResolvedVolume{Name: "shared", PersistentVolume: "nfs-pv", Nfs: &ordov1.NFSVolumeSource{Server: "10.0.0.9", Path: "/export"}, MountOptions: []string{"hard"}}
	vols := []*ordov1.ResolvedVolume{
		{Name: "www", PersistentVolume: "local-pv1", Claim: "www-web-0", Local: &ordov1.LocalVolumeSource{Path: data}},
		{Name: "scratch", EmptyDir: &ordov1.EmptyDirVolumeSource{}},
		{Name: "logs", HostPath: &ordov1.HostPathVolumeSource{Path: filepath.Join(root, "logs"), Type: "DirectoryOrCreate"}},
		nfs,
	}
	src, err := m.Prepare(context.Background(), "web-0", vols)
	if err != nil {
		t.Fatal(err)
	}
	if src["www"].Path != data || !strings.HasPrefix(src["scratch"].Path, state) || src["shared"].Path != filepath.Join(state, "nfs", "nfs-pv") {
		t.Fatalf("sources = %v", src)
	}
	if st, err := os.Stat(filepath.Join(root, "logs")); err != nil || !st.IsDir() {
		t.Fatalf("DirectoryOrCreate did not create the directory: %v", err)
	}
	if fm.mounted[src["shared"].Path] != "10.0.0.9:/export hard" {
		t.Fatalf("nfs mount = %v", fm.mounted)
	}
	// A second pod shares the mount.
	if _, err := m.Prepare(context.Background(), "web-1", []*ordov1.ResolvedVolume{nfs}); err != nil || fm.calls != 1 {
		t.Fatalf("second pod: %v, %d mounts", err, fm.calls)
	}
	// The agent restarts: a new manager over the same state directory still
	// knows who uses the mount.
	m = NewManager(state, fm, nil)
	if err := m.Release("web-0"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(src["scratch"].Path); !os.IsNotExist(err) {
		t.Fatalf("emptyDir left behind: %v", err)
	}
	if len(fm.mounted) != 1 {
		t.Fatal("nfs unmounted while web-1 still uses it")
	}
	if err := m.Release("web-1"); err != nil || len(fm.mounted) != 0 {
		t.Fatalf("last user gone, mounts = %v, %v", fm.mounted, err)
	}
	if _, err := os.Stat(data); err != nil {
		t.Fatal("local volume removed with its pod")
	}
}

func TestManagerRefusesMissingAndForbiddenPaths(t *testing.T) {
	root := t.TempDir()
	state := filepath.Join(root, "state")
	m := NewManager(state, &fakeMounter{mounted: map[string]string{}}, nil)
	missing := filepath.Join(root, "nope")
	_, err := m.Prepare(context.Background(), "web-0", []*ordov1.ResolvedVolume{
		{Name: "www", PersistentVolume: "local-pv1", Claim: "www-web-0", Local: &ordov1.LocalVolumeSource{Path: missing}}})
	if !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(err.Error(), "volume www (claim www-web-0, PersistentVolume local-pv1): local path "+missing+" does not exist") {
		t.Fatalf("missing local path: %v", err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatal("a missing local path was created")
	}
	for _, v := range []*ordov1.ResolvedVolume{
		{Name: "a", HostPath: &ordov1.HostPathVolumeSource{Path: state}},
		{Name: "b", HostPath: &ordov1.HostPathVolumeSource{Path: filepath.Join(state, "netns")}},
		{Name: "c", Local: &ordov1.LocalVolumeSource{Path: root + "/x/../../etc"}},
	} {
		if _, err := m.Prepare(context.Background(), "p", []*ordov1.ResolvedVolume{v}); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("volume %v: %v", v, err)
		}
	}
	// Cleanup removes a released volume's contents and keeps the directory.
	dir := filepath.Join(root, "pv")
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("web-0"), 0o644)
	if err := m.Cleanup(dir); err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Fatalf("after cleanup: %v %v", entries, err)
	}
	if err := m.Cleanup(state); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("cleanup of the state dir: %v", err)
	}
}
