package errs

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"
	"syscall"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// IsUnavailable reports whether err is ErrUnavailable, or a failure that
// a layer below reports in its own words when a dependency is down,
// restarting or unreachable, so that the same request may succeed in a
// moment: the one place where those words are read (web.Status answers
// them 503 with Retry-After). They are:
//
//   - the database: a connection database/sql or the driver found broken
//     (driver.ErrBadConn), a PostgreSQL SQLSTATE of class 08 (connection
//     exception) or 57P01–57P03 (the server shutting down, crashed, or
//     not yet accepting connections while it starts), and pgx's wire
//     errors that say nothing reached the server or no answer came back
//     (their SafeToRetry method: a lost connection, not a bad statement);
//   - the network under any of them (the object store's S3 endpoint, the
//     database): connection refused, reset or aborted, a broken pipe, no
//     route to the host;
//   - NATS and JetStream: no connection or no server, a request nobody
//     answered (no responders, a timeout: a stream's leader being elected
//     after a server died), JetStream not enabled or answering 503.
//
// Everything else stays what it was: a constraint violation, a syntax
// error, a missing blob or a nil map is a bug or a kind of its own, and
// must not be hidden as "try again".
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, driver.ErrBadConn) {
		return true
	}
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		s := pg.SQLState()
		// A server error other than these is about the statement.
		return strings.HasPrefix(s, "08") || s == "57P01" || s == "57P02" || s == "57P03"
	}
	// pgconn's errors carry SafeToRetry; true means that the connection
	// failed before the statement was sent or while its answer was read.
	// A request's own deadline or cancellation carries it too, and is not
	// the database's fault: a slow query must stay visible.
	var wire interface{ SafeToRetry() bool }
	if errors.As(err, &wire) && wire.SafeToRetry() && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return true
	}
	for _, e := range []error{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
		syscall.EHOSTUNREACH, syscall.ENETUNREACH} {
		if errors.Is(err, e) {
			return true
		}
	}
	for _, e := range []error{nats.ErrNoServers, nats.ErrConnectionClosed, nats.ErrConnectionDraining,
		nats.ErrConnectionReconnecting, nats.ErrDisconnected, nats.ErrNoResponders, nats.ErrTimeout,
		nats.ErrJetStreamNotEnabled, nats.ErrJetStreamNotEnabledForAccount,
		jetstream.ErrJetStreamNotEnabled, jetstream.ErrJetStreamNotEnabledForAccount, jetstream.ErrNoStreamResponse,
		jetstream.ErrNoHeartbeat, jetstream.ErrServerShutdown, jetstream.ErrConsumerLeadershipChanged} {
		if errors.Is(err, e) {
			return true
		}
	}
	var api *jetstream.APIError
	if errors.As(err, &api) && api.Code == 503 {
		return true
	}
	var legacy *nats.APIError
	return errors.As(err, &legacy) && legacy.Code == 503
}
