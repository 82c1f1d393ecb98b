package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ordoproject/ordo/agent"
	ordov1 "github.com/ordoproject/ordo/proto/ordo/v1"
)

func TestVolumeManagerUsesStateDir(t *testing.T) {
	t.Setenv("ORDO_ADDR", "")
	state := t.TempDir()
	cfg, err := parseFlags([]string{"--scheduler", "x", "--node-name", "n1", "--state-dir", state}, t.Output())
	if err != nil {
		t.Fatal(err)
	}
	var m agent.VolumeManager = newVolumeManager(cfg)
	src, err := m.Prepare(context.Background(), "web-0", []*ordov1.ResolvedVolume{
		{Name: "scratch", EmptyDir: &ordov1.EmptyDirVolumeSource{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(state, "volumes", "web-0", "scratch"); src["scratch"].Path != want {
		t.Fatalf("emptyDir at %q, want %q", src["scratch"].Path, want)
	}
	if err := m.Release("web-0"); err != nil {
		t.Fatal(err)
	}
}
