package main

import (
	"errors"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ordoproject/ordo/scheduler"
)

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"--listen", "unix:///tmp/x.sock", "--listen", "127.0.0.1:0", "--data-dir", "/d",
		"--heartbeat-interval", "2s", "--lease-duration", "3s", "--cluster-cidr", "10.9.0.0/16", "--log-level", "debug"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Listen, []string{"unix:///tmp/x.sock", "127.0.0.1:0"}) || cfg.DataDir != "/d" ||
		cfg.HeartbeatInterval != 2*time.Second || cfg.LeaseDuration != 3*time.Second ||
		cfg.ClusterCIDR != "10.9.0.0/16" || cfg.LogLevel != "debug" || cfg.Logger != nil {
		t.Fatalf("config: %+v", cfg)
	}
}

func TestParseFlagsDefaults(t *testing.T) {
	cfg, err := parseFlags(nil, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	// No --listen leaves Listen empty: the scheduler serves DefaultListen then.
	if cfg.Listen != nil || cfg.DataDir != scheduler.DefaultDataDir ||
		cfg.HeartbeatInterval != scheduler.DefaultHeartbeatInterval || cfg.LeaseDuration != scheduler.DefaultLeaseDuration ||
		cfg.ClusterCIDR != scheduler.DefaultClusterCIDR || cfg.LogLevel != "info" {
		t.Fatalf("config: %+v", cfg)
	}
}

func TestParseFlagsErrors(t *testing.T) {
	var stderr strings.Builder
	if _, err := parseFlags([]string{"--bogus"}, &stderr); err == nil {
		t.Fatal("unknown flag accepted")
	}
	if !strings.Contains(stderr.String(), "flag provided but not defined: -bogus") {
		t.Fatalf("stderr: %s", stderr.String())
	}

	stderr.Reset()
	if _, err := parseFlags([]string{"extra"}, &stderr); err == nil || stderr.String() != "unexpected arguments: [\"extra\"]\n" {
		t.Fatalf("extra argument: %v, stderr %q", err, stderr.String())
	}

	stderr.Reset()
	if _, err := parseFlags([]string{"-h"}, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	if !strings.HasPrefix(stderr.String(), "Usage of ordo-scheduler:\n") || !strings.Contains(stderr.String(), "-listen value") {
		t.Fatalf("usage:\n%s", stderr.String())
	}
}

// The default listen addresses the help text names are the scheduler's.
func TestListenHelpNamesDefaultListen(t *testing.T) {
	var stderr strings.Builder
	parseFlags([]string{"-h"}, &stderr)
	if want := "(default " + strings.Join(scheduler.DefaultListen, " and ") + ")"; !strings.Contains(stderr.String(), want) {
		t.Fatalf("usage does not name %q:\n%s", want, stderr.String())
	}
}
