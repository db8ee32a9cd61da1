package app

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// signalContext returns a context cancelled on SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// Run is the whole program: Main with the process's signals and standard
// streams.
func Run(args []string) int {
	ctx, stop := signalContext()
	defer stop()
	return Main(ctx, args, os.Stdout, os.Stderr)
}
