package architecture

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// recorder keeps the audit events a test's changes append.
type recorder struct {
	mu     sync.Mutex
	events []audit.Event
}

func (r *recorder) AppendTx(_ context.Context, _ *store.Tx, e audit.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) actions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Action)
	}
	return out
}

// units is a directory of the demo's units the model names.
type units map[int64]identity.Unit

func testUnits() units {
	return units{
		1: {ID: 1, Code: "000.00.01.G12", NameEN: "Office of the Ministry"},
		3: {ID: 3, Code: "000.00.03.G12", NameEN: "Consular Department"},
		5: {ID: 5, Code: "000.00.05.G12", NameEN: "Department of Press and Information"},
		4: {ID: 4, Code: "000.00.04.G12", NameVI: "Cục Cơ yếu - Công nghệ thông tin", NameEN: "Cipher-Information Technology Department"},
	}
}

func (u units) Unit(_ context.Context, id int64) (identity.Unit, error) {
	if x, ok := u[id]; ok {
		return x, nil
	}
	return identity.Unit{}, fmt.Errorf("%w: no unit %d", errs.ErrNotFound, id)
}

func (u units) UnitByCode(_ context.Context, code string) (identity.Unit, error) {
	for _, x := range u {
		if x.Code == code {
			return x, nil
		}
	}
	return identity.Unit{}, fmt.Errorf("%w: no unit %s", errs.ErrNotFound, code)
}

type fixture struct {
	svc   *Service
	db    *store.DB
	rec   *recorder
	clock *storetest.Clock
}

func mustService(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	f := &fixture{db: db, rec: &recorder{}, clock: storetest.NewClock(time.Date(2026, 1, 13, 9, 0, 0, 0, time.UTC))}
	svc, err := NewService(Options{DB: db, Recorder: f.rec, Directory: testUnits(), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

var (
	architect = authz.Subject{Kind: authz.Staff, ID: 7, Unit: 4, Roles: authz.RolesOf(authz.Architect)}
	clerk     = authz.Subject{Kind: authz.Staff, ID: 8, Unit: 3, Roles: authz.RolesOf(authz.Clerk)}
	secOff    = authz.Subject{Kind: authz.Staff, ID: 9, Unit: 4, Roles: authz.RolesOf(authz.SecurityOfficer)}
	approver  = authz.Subject{Kind: authz.Staff, ID: 10, Unit: 4, Roles: authz.RolesOf(authz.Approver)}
	citizen   = authz.Subject{Kind: authz.Citizen, ID: 5}
)

// as returns a context whose changes are recorded as made by staff id.
func as(sub authz.Subject) context.Context {
	return audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.Staff(sub.ID, fmt.Sprint("staff", sub.ID)), UnitID: sub.Unit})
}

// timeZero asks for the repository as it is now.
var timeZero time.Time

// mustDemo loads the reference content and the demo ministry's model.
func (f *fixture) mustDemo(t testing.TB) {
	t.Helper()
	ctx := as(architect)
	if err := f.svc.SyncReference(ctx); err != nil {
		t.Fatal(err)
	}
	if err := SeedDemo(ctx, f.svc, architect); err != nil {
		t.Fatal(err)
	}
}
