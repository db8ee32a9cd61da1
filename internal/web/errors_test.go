package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

// answer runs err through web.Error as an API route would, and returns
// the response.
func answer(err error) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	web.Error(rec, httptest.NewRequest(http.MethodPost, "/api/v1/dossiers", nil), err)
	return rec
}

// wantUnavailable fails t unless rec is a 503 problem with Retry-After:
// what a client that may retry must see while a dependency is down.
func wantUnavailable(t *testing.T, what string, err error, rec *httptest.ResponseRecorder) {
	t.Helper()
	var p web.ProblemDetails
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
		rec.Header().Get("Content-Type") != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Code != "unavailable" {
		t.Errorf("%s (%v): answered %d, Retry-After %q, %s %s; want a 503 problem with Retry-After and code unavailable",
			what, err, rec.Code, rec.Header().Get("Retry-After"), rec.Header().Get("Content-Type"), rec.Body)
	}
}

// TestALostPostgreSQLAnswers503WithRetryAfter stops a PostgreSQL server
// under a live store, as a crash or restart does, and checks that bugs
// still answer 500 before it goes, that what then fails — a transaction it cut, a pooled connection it closed, a new
// connection it refuses — reaches the client as 503 with Retry-After, not
// as a 500; and that the store works again once the server is back.
func TestALostPostgreSQLAnswers503WithRetryAfter(t *testing.T) {
	pg := storetest.OwnPostgres(t)
	ctx := context.Background()
	db, err := store.Open(ctx, pg.URL(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	insert := func(ctx context.Context, q store.Queryer, n int) error {
		_, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO items (n) VALUES (?)`), n)
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE items (n integer PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	db.SetMaxIdleConns(4)
	for n := 1; n <= 4; n++ { // connections in the pool, idle when the server goes
		if err := insert(ctx, db, n); err != nil {
			t.Fatal(err)
		}
	}
	wantBugsStay500(t, db) // on a live server, before it goes
	cut, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx := &store.Tx{Tx: cut, Dialect: db.Dialect}
	if err := insert(ctx, tx, 100); err != nil {
		t.Fatal(err)
	}
	prepared, err := cut.PrepareContext(ctx, db.Rebind(`INSERT INTO items (n) VALUES (?)`))
	if err != nil {
		t.Fatal(err)
	}

	pg.Stop(t)
	_, err = prepared.ExecContext(ctx, 102)
	wantUnavailable(t, "a prepared statement of a transaction the stop cut", err, answer(err))
	err = insert(ctx, tx, 101)
	wantUnavailable(t, "a statement of a transaction the stop cut", err, answer(err))
	err = cut.Commit()
	wantUnavailable(t, "the commit of a transaction the stop cut", err, answer(err))
	err = db.InTx(ctx, func(tx *store.Tx) error { return insert(ctx, tx, 200) })
	wantUnavailable(t, "a transaction begun while the server is down", err, answer(err))
	var n int
	err = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM items`).Scan(&n)
	wantUnavailable(t, "a read while the server is down", err, answer(err))
	err = db.CheckWritable(ctx)
	if err == nil {
		t.Error("CheckWritable (readyz's database check) passed with the server down")
	}

	pg.Start(t)
	// (The throwaway cluster runs without synchronous commit: what was
	// committed just before the crash may be gone, the table too.)
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS items (n integer PRIMARY KEY)`)
		if err == nil {
			err = insert(ctx, tx, 300)
		}
		return err
	}); err != nil {
		t.Errorf("after the restart the store still fails: %v", err)
	}
}

// wantBugsStay500 pins the other side on db: a statement the database
// refuses for what it says — a duplicate key the service did not turn
// into a conflict, a syntax error, an unknown table — and an index out
// of range are bugs, and must not be answered "try again". db must hold
// the table items (n integer PRIMARY KEY) with a row n = 1.
func wantBugsStay500(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	_, dup := db.ExecContext(ctx, `INSERT INTO items (n) VALUES (1)`)
	_, syntax := db.ExecContext(ctx, `INSERT INTO items (n) VALUS (2)`)
	_, table := db.ExecContext(ctx, `SELECT n FROM no_such_table`)
	var outOfRange error
	func() {
		defer func() { outOfRange, _ = recover().(error) }()
		s := []int{1}
		i := len(s)
		_ = s[i]
	}()
	for what, err := range map[string]error{"a duplicate key": dup, "a syntax error": syntax, "an unknown table": table, "an index out of range": outOfRange} {
		if err == nil {
			t.Fatalf("%s gave no error", what)
		}
		if rec := answer(fmt.Errorf("procedures: store: %w", err)); rec.Code != http.StatusInternalServerError || rec.Header().Get("Retry-After") != "" {
			t.Errorf("%s on %s (%v) answered %d with Retry-After %q, want 500 without", what, db.Dialect, err, rec.Code, rec.Header().Get("Retry-After"))
		}
	}
}

// TestSQLiteBugsStay500 is wantBugsStay500 on SQLite, which has no server
// to lose (PostgreSQL's is in TestALostPostgreSQLAnswers503WithRetryAfter).
func TestSQLiteBugsStay500(t *testing.T) {
	db := storetest.MustOpen(t, store.SQLite)
	if _, err := db.Exec(`CREATE TABLE items (n integer PRIMARY KEY); INSERT INTO items (n) VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	wantBugsStay500(t, db)
}

// TestAStoppedObjectStoreAnswers503WithRetryAfter stops the S3 server
// (the Versity gateway the whole-system test runs) under an open bucket:
// a write and a read then fail with the connection refused, and the
// client must get 503 with Retry-After. A key that is not there stays a
// plain error of its own kind, not unavailability.
func TestAStoppedObjectStoreAnswers503WithRetryAfter(t *testing.T) {
	gw, err := exec.LookPath("versitygw")
	if err != nil {
		out, _ := exec.Command("go", "env", "GOPATH").Output()
		gw = filepath.Join(strings.TrimSpace(string(out)), "bin", "versitygw")
		if _, serr := os.Stat(gw); serr != nil {
			t.Skip("versitygw is not installed (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
		}
	}
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "bucket"), 0o700); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", storetest.FreePort(t))
	srv := exec.Command(gw, "--port", addr, "--access", "unavail", "--secret", "unavail-secret-0123456789", "posix", root)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Wait(); close(done) }() //nolint:errcheck // killed below
	stop := func() {
		srv.Process.Signal(syscall.SIGKILL)
		<-done
	}
	defer stop()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not listen on %s within 30 s", addr)
		}
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "unavail")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "unavail-secret-0123456789")
	t.Setenv("AWS_REGION", "us-east-1")
	ctx := context.Background()
	b, err := store.OpenBucket(ctx, "s3://bucket?region=us-east-1&endpoint=http://"+addr+"&use_path_style=true", "")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := store.WriteBlob(ctx, b, "a", []byte("sealed"), nil); err != nil {
		t.Fatal(err)
	}
	_, missing := b.ReadAll(ctx, "no-such-key")
	if rec := answer(missing); rec.Code == http.StatusServiceUnavailable {
		t.Errorf("a missing key (%v) answered 503, as if the store were down", missing)
	}

	stop()
	err = store.WriteBlob(ctx, b, "b", []byte("sealed"), nil)
	wantUnavailable(t, "a write to a stopped object store", err, answer(err))
	_, err = b.ReadAll(ctx, "a")
	wantUnavailable(t, "a read from a stopped object store", err, answer(err))
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the read waited out a deadline (%v) instead of failing at once", err)
	}
}
