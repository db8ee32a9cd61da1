package app

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"chancery/internal/records"
)

// signalContext returns a context cancelled on SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// Run is the whole program: Main with the process's signals and standard
// streams, creating files private to its user.
func Run(args []string) int {
	restrictFileModes()
	records.EnableStamping() // before serving: it sets pdfcpu's package variable
	ctx, stop := signalContext()
	defer stop()
	return Main(ctx, args, os.Stdout, os.Stderr)
}
