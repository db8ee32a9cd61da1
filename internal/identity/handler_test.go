package identity_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// fakeCreds stands in for internal/auth: it hands out numbered passwords
// and counts revocations.
type fakeCreds struct {
	mu      sync.Mutex
	issued  int
	revoked map[int64]int
}

func (c *fakeCreds) IssueOneTimePassword(ctx context.Context, kind authz.PrincipalKind, id int64) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.issued++
	return fmt.Sprintf("otp-%d-%d", id, c.issued), nil
}

func (c *fakeCreds) IssueEnrolmentCode(ctx context.Context, kind authz.PrincipalKind, id int64) (string, time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.issued++
	return fmt.Sprintf("enrol-%d-%d", id, c.issued), time.Date(2026, 3, 5, 8, 0, 0, 0, time.UTC), nil
}

func (c *fakeCreds) RevokeSessions(ctx context.Context, kind authz.PrincipalKind, id int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.revoked == nil {
		c.revoked = map[int64]int{}
	}
	c.revoked[id]++
	return nil
}

func (c *fakeCreds) revocations(id int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.revoked[id]
}

// env is a directory behind its handlers, with the principals tests act as.
type env struct {
	svc    *identity.Service
	ledger *audit.Ledger
	creds  *fakeCreds
	rt     *web.Router
	shell  *web.Shell
	tree   tree
	admin  web.Principal
	clerk  web.Principal
	// secOff is a security officer cleared top secret, who approves.
	secOff web.Principal
}

func newEnv(t testing.TB, db *store.DB) *env {
	t.Helper()
	c := newClock()
	e := &env{creds: &fakeCreds{}, rt: web.NewRouter(), shell: webtest.Shell(t, identity.Texts())}
	e.svc, e.ledger = c.audited(t, db)
	h, err := identity.NewHandler(e.svc, e.creds, e.shell)
	if err != nil {
		t.Fatal(err)
	}
	h.Register(e.rt)
	e.tree = newTree(t, e.svc)
	admin := mustStaff(t, e.svc, "admin", e.tree.root.ID, authz.Administrator)
	clerk := mustStaff(t, e.svc, "clerk", e.tree.consular.ID, authz.Clerk)
	e.admin = web.Principal{Subject: admin.Subject(), Username: admin.Username, Name: admin.FullName, Stage: "full"}
	e.clerk = web.Principal{Subject: clerk.Subject(), Username: clerk.Username, Name: clerk.FullName, Stage: "full"}
	e.secOff = principal(seedStaff(t, e.svc, "security.officer", e.tree.root.ID, authz.TopSecret, authz.SecurityOfficer))
	return e
}

// principal is m signed in, at the end of sign-in.
func principal(m identity.StaffMember) web.Principal {
	return web.Principal{Subject: m.Subject(), Username: m.Username, Name: m.FullName, Stage: "full"}
}

// do serves one request as p (the zero Principal: nobody signed in),
// with the audit origin the server's middleware gives it.
func (e *env) do(p web.Principal, method, path, contentType, body string) *httptest.ResponseRecorder {
	return webtest.Serve(e.shell, audit.RequestOrigin(e.rt), p, webtest.Request(method, path, contentType, body))
}

func (e *env) json(p web.Principal, method, path, body string) *httptest.ResponseRecorder {
	return e.do(p, method, path, "application/json", body)
}

// counts reports how many units, staff and history events exist, to show
// that a refused request changed nothing.
func (e *env) counts(t testing.TB) string {
	t.Helper()
	ctx := testCtx
	units, err := e.svc.AllUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	events := 0
	versions := 0
	for _, u := range units {
		h, err := e.svc.UnitHistory(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		events += len(h)
		versions += u.Version
	}
	staff, _, err := e.svc.ListStaff(ctx, identity.StaffFilter{IncludeDisabled: true, Limit: identity.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range staff {
		versions += m.Version
	}
	return fmt.Sprintf("%d units, %d events, %d staff, version sum %d", len(units), events, len(staff), versions)
}

func body(w *httptest.ResponseRecorder) string { return w.Body.String() }
