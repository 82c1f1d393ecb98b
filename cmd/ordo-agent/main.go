// Command ordo-agent is ordo's node agent. It exits on SIGTERM or SIGINT
// without stopping its pods: the next agent adopts them.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ordoproject/ordo/agent"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ordo-agent:", err)
		os.Exit(2)
	}
	cfg.Volumes = newVolumeManager(cfg)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := agent.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "ordo-agent:", err)
		os.Exit(1)
	}
}
