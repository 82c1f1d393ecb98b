package scheduler

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/ordoproject/ordo/scheduler/clusternet"
)

// Defaults of the daemon's flags.
const (
	DefaultDataDir           = "/var/lib/ordo"
	DefaultHeartbeatInterval = time.Second
	DefaultLeaseDuration     = 10 * time.Second
	DefaultClusterCIDR       = clusternet.DefaultClusterCIDR
)

// DefaultListen are the addresses served when none is given.
var DefaultListen = []string{"unix:///run/ordo/ordo.sock", "127.0.0.1:7070"}

// Config configures the scheduler daemon.
type Config struct {
	// Listen addresses; both services are served on each: unix:///path or host:port.
	Listen            []string
	DataDir           string // holds ordo.db
	HeartbeatInterval time.Duration
	LeaseDuration     time.Duration
	ClusterCIDR       string       // pod CIDRs of nodes are /24 blocks of it (default 10.244.0.0/16)
	LogLevel          string       // debug, info, warn, error
	Logger            *slog.Logger // optional; built from LogLevel when nil
}

func (cfg *Config) setDefaults() error {
	if len(cfg.Listen) == 0 {
		cfg.Listen = DefaultListen
	}
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if cfg.LeaseDuration <= 0 {
		cfg.LeaseDuration = DefaultLeaseDuration
	}
	if cfg.LeaseDuration <= cfg.HeartbeatInterval {
		return fmt.Errorf("--lease-duration (%s) must be longer than --heartbeat-interval (%s)", cfg.LeaseDuration, cfg.HeartbeatInterval)
	}
	if cfg.Logger == nil {
		var lvl slog.Level
		if err := lvl.UnmarshalText([]byte(cfg.LogLevel)); err != nil && cfg.LogLevel != "" {
			return fmt.Errorf("--log-level %q: %w", cfg.LogLevel, err)
		}
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	}
	return nil
}
