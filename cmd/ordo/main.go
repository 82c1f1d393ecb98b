// Command ordo is the ordo command-line client.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ordoproject/ordo/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
