package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/ordoproject/ordo/internal/cliflag"
	"github.com/ordoproject/ordo/scheduler"
)

// parseFlags reads the daemon's command line into a scheduler.Config. Usage
// and errors go to stderr.
func parseFlags(args []string, stderr io.Writer) (scheduler.Config, error) {
	fs := flag.NewFlagSet("ordo-scheduler", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg scheduler.Config
	var listen cliflag.List
	fs.Var(&listen, "listen", "address to serve on, repeatable: unix:///path/ordo.sock or host:port (default unix:///run/ordo/ordo.sock and 127.0.0.1:7070)")
	fs.StringVar(&cfg.DataDir, "data-dir", scheduler.DefaultDataDir, "directory of the store (ordo.db)")
	fs.DurationVar(&cfg.HeartbeatInterval, "heartbeat-interval", scheduler.DefaultHeartbeatInterval, "how often agents send heartbeats")
	fs.DurationVar(&cfg.LeaseDuration, "lease-duration", scheduler.DefaultLeaseDuration, "how long a node stays Ready without a heartbeat")
	fs.StringVar(&cfg.ClusterCIDR, "cluster-cidr", scheduler.DefaultClusterCIDR, "block that node pod CIDRs (/24 each) come from")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return scheduler.Config{}, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected arguments: %q", fs.Args())
		fmt.Fprintln(stderr, err)
		return scheduler.Config{}, err
	}
	cfg.Listen = listen
	return cfg, nil
}
