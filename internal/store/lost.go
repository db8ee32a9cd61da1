package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/stdlib"

	"chancery/internal/errs"
)

// pgConnector opens PostgreSQL connections (pgx's) whose errors say when
// the connection itself was lost: a server that restarts or crashes cuts
// its sessions, and the statement running on one fails with whatever the
// socket gave ("unexpected EOF", a reset) in words that name no database.
// Only the connection knows that it is now closed; it adds
// errs.ErrUnavailable to such an error, so the client is told to retry
// (503) rather than shown an internal error. A statement that fails on a
// connection that stays open (a constraint, a syntax error) is unchanged.
type pgConnector struct{ driver.Connector }

// newPGConnector returns the connector of dsn.
func newPGConnector(dsn string) (driver.Connector, error) {
	c, err := stdlib.GetDefaultDriver().(driver.DriverContext).OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	return pgConnector{c}, nil
}

// Connect opens a connection. An error here (refused, the server starting
// up) already says what it is: errs.IsUnavailable reads it.
func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if sc, ok := dc.(*stdlib.Conn); ok {
		return &pgConn{Conn: sc}, nil
	}
	return dc, nil
}

// pgConn is pgx's connection, every method of which it keeps (database/sql
// finds them by type assertion), with lost errors marked.
type pgConn struct{ *stdlib.Conn }

// lost returns err marked errs.ErrUnavailable when it left the connection
// closed, and err unchanged otherwise: the caller's own deadline or
// cancellation also closes the connection, and is not the server's fault.
func (c *pgConn) lost(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || !c.Conn.Conn().IsClosed() || errs.IsUnavailable(err) {
		return err
	}
	return fmt.Errorf("store: the connection to PostgreSQL was lost (%w): %w", errs.ErrUnavailable, err)
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	r, err := c.Conn.ExecContext(ctx, query, args)
	return r, c.lost(ctx, err)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.rows(ctx)(c.Conn.QueryContext(ctx, query, args))
}

// rows returns what marks a query's answer: its error, or its rows.
func (c *pgConn) rows(ctx context.Context) func(driver.Rows, error) (driver.Rows, error) {
	return func(rows driver.Rows, err error) (driver.Rows, error) {
		if err != nil {
			return nil, c.lost(ctx, err)
		}
		if r, ok := rows.(*stdlib.Rows); ok {
			return &pgRows{Rows: r, c: c, ctx: ctx}, nil
		}
		return rows, nil
	}
}

// PrepareContext prepares a statement whose runs are marked too: pgx's
// statement runs on pgx's connection, past pgConn's methods.
func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.Conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, c.lost(ctx, err)
	}
	if s, ok := st.(*stdlib.Stmt); ok {
		return &pgStmt{Stmt: s, c: c}, nil
	}
	return st, nil
}

// pgStmt is pgx's prepared statement, with lost errors marked.
type pgStmt struct {
	*stdlib.Stmt
	c *pgConn
}

func (s *pgStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	r, err := s.Stmt.ExecContext(ctx, args)
	return r, s.c.lost(ctx, err)
}

func (s *pgStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.c.rows(ctx)(s.Stmt.QueryContext(ctx, args))
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.BeginTx(ctx, opts)
	if err != nil {
		return nil, c.lost(ctx, err)
	}
	return pgTx{tx: tx, c: c, ctx: ctx}, nil
}

// pgRows marks a lost connection met while reading rows past the first.
type pgRows struct {
	*stdlib.Rows
	c   *pgConn
	ctx context.Context
}

func (r *pgRows) Next(dest []driver.Value) error {
	err := r.Rows.Next(dest)
	if err == io.EOF {
		return err // the end of the rows, compared as is by database/sql
	}
	return r.c.lost(r.ctx, err)
}

// pgTx marks a commit that failed because the connection was lost: its
// outcome is unknown to this node, and the client is told to retry.
type pgTx struct {
	tx  driver.Tx
	c   *pgConn
	ctx context.Context
}

func (t pgTx) Commit() error   { return t.c.lost(t.ctx, t.tx.Commit()) }
func (t pgTx) Rollback() error { return t.c.lost(t.ctx, t.tx.Rollback()) }
