package agent

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
	"github.com/ordoproject/ordo/volumes"
)

func TestFSGroupVolumes(t *testing.T) {
	rvs := []*ordov1.ResolvedVolume{
		{Name: "scratch", EmptyDir: &ordov1.EmptyDirVolumeSource{}},
		{Name: "data", Local: &ordov1.LocalVolumeSource{Path: "/pv/1"}, PersistentVolume: "pv1", Claim: "data-web-0"},
		{Name: "hp-claim", HostPath: &ordov1.HostPathVolumeSource{Path: "/pv/2"}, PersistentVolume: "pv2", Claim: "x"},
		{Name: "hp", HostPath: &ordov1.HostPathVolumeSource{Path: "/var/log"}},
		{Name: "nfs", Nfs: &ordov1.NFSVolumeSource{Server: "s", Path: "/e"}, PersistentVolume: "pv3", Claim: "y"},
		{Name: "ro", Local: &ordov1.LocalVolumeSource{Path: "/pv/4"}, PersistentVolume: "pv4", Claim: "z", ReadOnly: true},
	}
	srcs := map[string]volumes.Source{}
	for _, rv := range rvs {
		srcs[rv.GetName()] = volumes.Source{Path: "/x/" + rv.GetName(), ReadOnly: rv.GetReadOnly()}
	}
	var got []string
	for _, s := range fsGroupVolumes(rvs, srcs) {
		got = append(got, s.Path)
	}
	if want := []string{"/x/scratch", "/x/data", "/x/hp-claim"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("fsGroup volumes = %v, want %v", got, want)
	}
}

func TestSetVolumeOwnership(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to change group ownership")
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o700)
	os.WriteFile(filepath.Join(dir, "sub", "f"), []byte("x"), 0o600)
	os.Symlink("/etc/passwd", filepath.Join(dir, "link"))
	if err := setVolumeOwnership(dir, 4321); err != nil {
		t.Fatal(err)
	}
	check := func(p string, want fs.FileMode) {
		t.Helper()
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if gid := fi.Sys().(*syscall.Stat_t).Gid; gid != 4321 {
			t.Errorf("%s: group %d", p, gid)
		}
		if fi.Mode()&want != want {
			t.Errorf("%s: mode %v, want at least %v", p, fi.Mode(), want)
		}
	}
	check(dir, fs.ModeSetgid|0o070)
	check(filepath.Join(dir, "sub"), fs.ModeSetgid|0o770)
	check(filepath.Join(dir, "sub", "f"), 0o660)
	check(filepath.Join(dir, "link"), 0)
	if fi, _ := os.Stat("/etc/passwd"); fi.Sys().(*syscall.Stat_t).Gid == 4321 {
		t.Error("the symlink was followed")
	}
}
