package errs_test

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"chancery/internal/errs"
)

// TestIsUnavailableReadsEachDependencysWordsForDown pins which causes are
// "down, retry" and which are not, in the words each layer uses (the
// tests in internal/web cause the real failures: a stopped PostgreSQL, a
// stopped S3 server).
func TestIsUnavailableReadsEachDependencysWordsForDown(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"the kind itself", fmt.Errorf("%w: no exchange", errs.ErrUnavailable), true},
		{"a broken connection of database/sql", fmt.Errorf("store: %w", driver.ErrBadConn), true},
		{"PostgreSQL shutting down (57P01)", &pgconn.PgError{Code: "57P01"}, true},
		{"PostgreSQL crashed (57P02)", &pgconn.PgError{Code: "57P02"}, true},
		{"PostgreSQL starting up (57P03)", &pgconn.PgError{Code: "57P03", Message: "the database system is starting up"}, true},
		{"a connection failure (08006)", &pgconn.PgError{Code: "08006"}, true},
		{"connection refused", fmt.Errorf("blob: %w", refused), true},
		{"connection reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"NATS without a server", nats.ErrNoServers, true},
		{"NATS reconnecting", fmt.Errorf("publish: %w", nats.ErrConnectionReconnecting), true},
		{"a JetStream request nobody answered", fmt.Errorf("publish: %w", nats.ErrNoResponders), true},
		{"JetStream temporarily unavailable (503)", &jetstream.APIError{Code: 503, ErrorCode: 10008}, true},
		{"a unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"a syntax error", fmt.Errorf("query: %w", &pgconn.PgError{Code: "42601"}), false},
		{"a full disk (kind of its own)", &pgconn.PgError{Code: "53100"}, false},
		{"a stream not found", jetstream.ErrStreamNotFound, false},
		{"JetStream refusing a request (400)", &jetstream.APIError{Code: 400, ErrorCode: 10003}, false},
		{"a bare unexpected EOF (a truncated file, say)", io.ErrUnexpectedEOF, false},
		{"the request's own deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), false},
		{"not found", errs.ErrNotFound, false},
		{"nothing", nil, false},
	} {
		if got := errs.IsUnavailable(tt.err); got != tt.want {
			t.Errorf("%s (%v): IsUnavailable = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}
