package audit_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

// cliRun runs `chancery audit args...` on storage s, whatever --data and
// --db say, and returns what it printed.
func cliRun(s audit.Storage, args ...string) (stdout, stderr string, err error) {
	var out, errOut strings.Builder
	env := audit.CommandEnv{
		Storage: func(fs *flag.FlagSet) func(context.Context) (audit.Storage, func() error, error) {
			fs.String("data", "", "data directory")
			fs.String("db", "", "database URL")
			return func(context.Context) (audit.Storage, func() error, error) { return s, func() error { return nil }, nil }
		},
		Stdout: &out,
		Stderr: &errOut,
	}
	err = audit.Command(context.Background(), env, args)
	return out.String(), errOut.String(), err
}

func TestVerifyCommandNamesTheFirstEditedEvent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ring := fixtureRing(t)
		l := fixtureLedger(t, db, ring, audit.Options{})
		fixtureAppend(t, l, 0, 12)
		if _, err := l.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		fixtureAppend(t, l, 12, 20)
		cp, err := l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s := audit.Storage{DB: db, Keys: ring}
		out, progress, err := cliRun(s, "verify", "--data", "ignored")
		want := fmt.Sprintf("ledger verified: 20 events, 2 checkpoints, root %s\n", base64.StdEncoding.EncodeToString(cp.Root))
		if err != nil || out != want || !strings.Contains(progress, "20 of 20 events checked") {
			t.Fatalf("verify on a clean ledger = %v, %q, %q; want %q", err, out, progress, want)
		}

		if _, err := db.ExecContext(ctx, db.Rebind("UPDATE audit_events SET attrs = ? WHERE seq = ?"), `{"ip":"10.9.9.9"}`, 7); err != nil {
			t.Fatal(err)
		}
		out, _, err = cliRun(s, "verify")
		var tamper *audit.TamperError
		if !errors.As(err, &tamper) || tamper.Seq != 7 || !strings.Contains(err.Error(), "at event 7") || out != "" {
			t.Fatalf("verify after editing event 7 = %v (%q); want a TamperError at 7", err, out)
		}
	})
}

func TestCheckpointProofAndArchiveCommands(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t, store.SQLite)
	ring := fixtureRing(t)
	bucket, err := store.OpenBucket(ctx, "mem://", "")
	if err != nil {
		t.Fatal(err)
	}
	defer bucket.Close()
	l := fixtureLedger(t, db, ring, audit.Options{Archive: bucket})
	fixtureAppend(t, l, 0, 9)
	s := audit.Storage{DB: db, Keys: ring, Archive: bucket}

	note, keyLine, err := cliRun(s, "checkpoint")
	vkey, _ := l.VerifierKey()
	if err != nil || keyLine != "verifier key: "+vkey+"\n" {
		t.Fatalf("checkpoint = %v, stderr %q", err, keyLine)
	}
	if size, _ := parseNote(t, []byte(note), vkey); size != 9 {
		t.Errorf("checkpoint printed size %d, want 9", size)
	}

	out, _, err := cliRun(s, "proof", "4", "--data", "ignored")
	if err != nil || !strings.Contains(out, "event 4: record.update by staff 101") || !strings.Contains(out, "in the tree of size 9") ||
		!strings.Contains(out, note) || !strings.Contains(out, "verified: the proof leads") {
		t.Fatalf("proof 4 = %v\n%s", err, out)
	}
	if _, _, err := cliRun(s, "proof", "9"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("proof of a missing event = %v, want not found", err)
	}

	out, _, err = cliRun(s, "archive", "--up-to", "5")
	if err != nil || !strings.Contains(out, "archived 5 events") {
		t.Fatalf("archive --up-to 5 = %v %q", err, out)
	}
	out, _, err = cliRun(s, "verify")
	if err != nil || !strings.Contains(out, "ledger verified: 9 events") || !strings.Contains(out, "5 of the events were read back from the archive") {
		t.Fatalf("verify after archiving = %v %q", err, out)
	}
}

func TestAuditCommandLineErrorsSayHowToWriteIt(t *testing.T) {
	s := audit.Storage{DB: storetest.MustOpen(t, store.SQLite), Keys: fixtureRing(t)}
	tests := []struct {
		args []string
		want string
	}{
		{nil, "missing subcommand"},
		{[]string{"rewrite"}, `unknown subcommand "rewrite"`},
		{[]string{"proof"}, "takes 1 argument(s), not 0"},
		{[]string{"proof", "seven"}, "SEQ: must be a whole number"},
		{[]string{"verify", "--frobnicate"}, "flag provided but not defined: -frobnicate"},
		{[]string{"archive"}, "--up-to: is required"},
		{[]string{"witness", "--source", "http://hq"}, "give --token-file, or --user with --password-file"},
		{[]string{"witness", "--source", "ftp://hq", "--user", "a", "--password-file", secretFile(t, "pw")}, "must be the http:// or https:// address"},
		{[]string{"witness", "--source", "http://hq", "--token-file", "/nonexistent/token"}, "read secret"},
		{[]string{"witness", "--source", "http://hq", "--interval", "1ms"}, "--interval must be at least 1s"},
	}
	for _, tt := range tests {
		_, _, err := cliRun(s, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("chancery audit %v = %v, want an error saying %q", tt.args, err, tt.want)
		}
	}
}

// fakeAuth stands in for the node's sign-in: it issues numbered tokens to
// the auditor's password and honours them until revoked.
type fakeAuth struct {
	mu     sync.Mutex
	valid  map[string]bool
	issued int
}

const fakePassword = "a-long-enough-passphrase"

func (a *fakeAuth) login(w http.ResponseWriter, r *http.Request) {
	var body struct{ Username, Password string }
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Username != "auditor" || body.Password != fakePassword {
		web.Error(w, r, fmt.Errorf("%w: wrong username or password", errs.ErrUnauthenticated))
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.issued++
	token := fmt.Sprintf("token-%d", a.issued)
	a.valid[token] = true
	web.JSON(w, r, http.StatusOK, map[string]string{"token": token, "stage": "full"})
}

// grant adds a token that an operator issued by hand.
func (a *fakeAuth) grant(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.valid[token] = true
}

// count returns how many times the auditor signed in.
func (a *fakeAuth) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.issued
}

// revokeAll ends every session, as expiry does.
func (a *fakeAuth) revokeAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.valid)
}

func (a *fakeAuth) principal(r *http.Request) web.Principal {
	a.mu.Lock()
	defer a.mu.Unlock()
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && a.valid[token] {
		return asAuditor
	}
	return asNobody
}

// servedNode serves a node over HTTP as the app does, with fakeAuth for
// sign-in; swap replaces the node behind the same address.
type servedNode struct {
	URL  string
	auth *fakeAuth
	cur  atomic.Pointer[node]
}

func serveNode(t *testing.T, n *node) *servedNode {
	t.Helper()
	s := &servedNode{auth: &fakeAuth{valid: map[string]bool{}}}
	s.cur.Store(n)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v1/auth/login" {
			s.auth.login(w, r)
			return
		}
		r = r.WithContext(web.WithPrincipal(r.Context(), s.auth.principal(r)))
		audit.RequestOrigin(s.cur.Load().rt).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func (s *servedNode) swap(n *node) { s.cur.Store(n) }

// secretFile writes a token or password to a file only its owner reads.
func secretFile(t *testing.T, secret string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestWitnessCommandCatchesARewrittenNode runs a standalone witness
// against a node over HTTP; then the node's operator replaces its ledger
// with another history under the same origin and key, and the witness
// must refuse it.
func TestWitnessCommandCatchesARewrittenNode(t *testing.T) {
	ctx := context.Background()
	ring := fixtureRing(t)
	honest := newNode(t, storetest.MustOpen(t, store.SQLite), ring, audit.Options{})
	fixtureAppend(t, honest.l, 0, 10)
	if _, err := honest.l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	served := serveNode(t, honest)
	served.auth.grant("operator-issued")
	witness := audit.Storage{DB: storetest.MustOpen(t, store.SQLite), Keys: fixtureRing(t)}
	run := func() (string, string, error) {
		return cliRun(witness, "witness", "--source", served.URL+"/", "--once", "--token-file", secretFile(t, "operator-issued"), "--name", "paris.example/witness")
	}

	out, errOut, err := run()
	if err != nil || !strings.Contains(out, "witnessed "+fixtureOrigin+" at size 10") || !strings.Contains(errOut, "first contact") {
		t.Fatalf("first witness run = %v\n%s\n%s", err, out, errOut)
	}
	fixtureAppend(t, honest.l, 10, 16)
	if _, err := honest.l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	out, errOut, err = run()
	if err != nil || !strings.Contains(out, "at size 16") || strings.Contains(errOut, "first contact") {
		t.Fatalf("second witness run (a consistency proof over HTTP) = %v\n%s\n%s", err, out, errOut)
	}

	// The same key signs a different history of 20 events.
	forged := newNode(t, storetest.MustOpen(t, store.SQLite), ring, audit.Options{})
	fixtureAppend(t, forged.l, 0, 3)
	fixtureAppend(t, forged.l, 4, 21)
	if _, err := forged.l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	served.swap(forged)
	out, errOut, err = run()
	var inconsistent *audit.InconsistentError
	if !errors.As(err, &inconsistent) || inconsistent.Known != 16 || inconsistent.Offered != 20 || !strings.Contains(errOut, "AUDIT WITNESS ALERT") || out != "" {
		t.Fatalf("witness run against the rewritten node = %v\n%s\n%s; want an inconsistency from 16 to 20", err, out, errOut)
	}

	// A node signing with another key is refused too, and the witness
	// stays with what it countersigned.
	impostor := newNode(t, storetest.MustOpen(t, store.SQLite), fixtureRing(t), audit.Options{})
	fixtureAppend(t, impostor.l, 0, 30)
	if _, err := impostor.l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	served.swap(impostor)
	if _, _, err := run(); !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), "not signed by") {
		t.Errorf("witness run against another key = %v, want a refusal", err)
	}
	served.swap(honest)
	if out, _, err := run(); err != nil || !strings.Contains(out, "at size 16") {
		t.Errorf("witness run against the honest node again = %v %q", err, out)
	}
}

func TestRemoteSignsInAgainWhenTheSessionEnds(t *testing.T) {
	n := newNode(t, storetest.MustOpen(t, store.SQLite), fixtureRing(t), audit.Options{})
	fixtureAppend(t, n.l, 0, 5)
	served := serveNode(t, n)
	ctx := context.Background()
	remote, err := audit.NewRemote(served.URL, audit.RemoteOptions{Username: "auditor", Password: fakePassword})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Latest(ctx); err != nil {
		t.Fatalf("Latest: %v", err)
	}
	served.auth.revokeAll()
	proof, err := remote.Consistency(ctx, 2, 5)
	if err != nil || len(proof) == 0 {
		t.Fatalf("Consistency after the session ended = %d hashes, %v", len(proof), err)
	}
	if n := served.auth.count(); n != 2 {
		t.Errorf("signed in %d times, want 2 (once more after the session ended)", n)
	}
	if _, err := remote.Consistency(ctx, 4, 2); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("a refused request = %v, want the node's 400 with its detail", err)
	}

	wrong, _ := audit.NewRemote(served.URL, audit.RemoteOptions{Username: "auditor", Password: "not-the-password"})
	if _, err := wrong.Latest(ctx); err == nil || !strings.Contains(err.Error(), "wrong username or password") {
		t.Errorf("Latest with a wrong password = %v", err)
	}
	clerk, _ := audit.NewRemote(served.URL, audit.RemoteOptions{Token: "never-issued"})
	if _, err := clerk.Latest(ctx); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("Latest with an unknown token = %v, want 401", err)
	}
}
