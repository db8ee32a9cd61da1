package bus

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats-server/v2/server"
)

// levelTrace is below slog.LevelDebug: the server's protocol traces, one
// line per message, wanted only when chasing a wire problem.
const levelTrace = slog.LevelDebug - 4

// serverLogger routes the embedded NATS server's logs to slog. Notices are
// Info, except while the server starts: its startup banner (two dozen
// lines, ASCII art included) goes to Debug, and Open logs one Info line
// with what matters in it instead. Debug and trace lines are kept only when the slog logger is
// enabled at those levels, and otherwise not even formatted, because the
// server skips the calls when told so through SetLoggerV2.
//
// Fatalf does not exit: an embedded server's fatal error (a port in use,
// an unusable store) must become Open's error, not end the process. The
// first one is remembered for that.
type serverLogger struct {
	log          *slog.Logger
	debug, trace bool
	starting     atomic.Bool // demotes notices to Debug
	// onWriteFailure, if set before the server starts, hears each
	// line that reports a failed JetStream store write.
	onWriteFailure func(msg string)

	mu       sync.Mutex
	fatalMsg string // guarded by mu
}

var _ server.Logger = (*serverLogger)(nil)

func newServerLogger(log *slog.Logger) *serverLogger {
	ctx := context.Background()
	return &serverLogger{
		log:   log,
		debug: log.Enabled(ctx, slog.LevelDebug),
		trace: log.Enabled(ctx, levelTrace),
	}
}

// fatal returns the first fatal error the server reported, or "".
func (l *serverLogger) fatal() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatalMsg
}

func (l *serverLogger) Noticef(format string, v ...any) {
	if l.starting.Load() {
		l.Debugf(format, v...)
		return
	}
	l.log.Info(fmt.Sprintf(format, v...))
}

func (l *serverLogger) Warnf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.noteWriteFailure(msg)
	l.log.Warn(msg)
}

func (l *serverLogger) Errorf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.noteWriteFailure(msg)
	l.log.Error(msg)
}

// noteWriteFailure passes msg to onWriteFailure if it reports a failed
// store write: the server's log is the only place where it says so.
func (l *serverLogger) noteWriteFailure(msg string) {
	if l.onWriteFailure != nil && isWriteFailure(msg) {
		l.onWriteFailure(msg)
	}
}

func (l *serverLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.mu.Lock()
	if l.fatalMsg == "" {
		l.fatalMsg = msg
	}
	l.mu.Unlock()
	l.log.Error(msg, "fatal", true)
}

func (l *serverLogger) Debugf(format string, v ...any) {
	if l.debug {
		l.log.Debug(fmt.Sprintf(format, v...))
	}
}

func (l *serverLogger) Tracef(format string, v ...any) {
	if l.trace {
		l.log.Log(context.Background(), levelTrace, fmt.Sprintf(format, v...))
	}
}
