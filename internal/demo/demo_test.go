package demo_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/demo"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// creds records what seeding asked of internal/auth.
type creds struct {
	mu         sync.Mutex
	passwords  map[string]string // "kind/id" → password
	mustChange int
	totp       map[string]bool
}

func key(kind authz.PrincipalKind, id int64) string { return fmt.Sprintf("%d/%d", kind, id) }

// HashPassword stands in for argon2id with a reversible marking, so the
// test can check every account got the demo password.
func (c *creds) HashPassword(ctx context.Context, password string) (string, error) {
	return "hashed:" + password, nil
}

func (c *creds) SetPasswordHash(ctx context.Context, kind authz.PrincipalKind, id int64, hash string, mustChange bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.passwords[key(kind, id)] = strings.TrimPrefix(hash, "hashed:")
	if mustChange {
		c.mustChange++
	}
	return nil
}

func (c *creds) ProvisionTOTP(ctx context.Context, kind authz.PrincipalKind, id int64) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.totp[key(kind, id)] = true
	return "SECRET" + key(kind, id), nil
}

// newDirectory returns the directory on db recording in an audit ledger,
// which it also returns with the keyring (holding purposes) the ledger
// signs with; the ledger closes when t ends.
func newDirectory(t testing.TB, db *store.DB, purposes ...string) (*identity.Service, *audit.Ledger, *keys.Ring) {
	t.Helper()
	ctx := context.Background()
	ring, err := keys.Load(ctx, keys.Options{MasterKey: keys.GenerateMasterKey(), Store: &keys.MemStore{}, Purposes: purposes})
	if err != nil {
		t.Fatal(err)
	}
	ledger, err := audit.New(ctx, db, ring, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ledger.Close() })
	dir := identity.NewService(db, ledger, nil)
	return dir, ledger, ring
}

func TestSeedCreatesTheDemoMinistry(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dir, ledger, _ := newDirectory(t, db)
		c := &creds{passwords: map[string]string{}, totp: map[string]bool{}}
		acc, err := demo.Seed(ctx, dir, c, "password")
		if err != nil {
			t.Fatal(err)
		}

		units, err := dir.AllUnits(ctx)
		if err != nil {
			t.Fatal(err)
		}
		codes := map[string]bool{}
		missions, continents := 0, map[string]bool{}
		kinds := map[identity.UnitKind]int{}
		for _, u := range units {
			if codes[u.Code] {
				t.Errorf("code %s used twice", u.Code)
			}
			codes[u.Code] = true
			kinds[u.Kind]++
			if u.Kind.Mission() {
				missions++
				continents[strings.Split(u.TimeZone, "/")[0]] = true
				if u.Country == "VN" {
					t.Errorf("mission %s is in Viet Nam", u.Code)
				}
			}
		}
		if missions < 8 || len(continents) < 4 {
			t.Errorf("%d missions in zones of %v, want ≥ 8 on ≥ 4 continents", missions, continents)
		}
		if kinds[identity.KindConsulateGeneral] == 0 || kinds[identity.KindPermanentMission] == 0 || kinds[identity.KindAgency] < 3 {
			t.Errorf("unit kinds %v lack consulates, permanent missions or outside agencies", kinds)
		}
		root, err := dir.UnitByCode(ctx, demo.RootCode)
		if err != nil || root.NameVI != "Bộ Ngoại giao" || root.TimeZone != "Asia/Ho_Chi_Minh" || root.Kind != identity.KindMinistry {
			t.Fatalf("root = %+v, %v", root, err)
		}
		for _, name := range []string{"Cục Lãnh sự", "Cục Cơ yếu - Công nghệ thông tin", "Vụ Thông tin Báo chí", "Văn phòng Bộ", "Vụ Tổ chức Cán bộ"} {
			found, _, err := dir.ListUnits(ctx, identity.UnitFilter{Query: name})
			if err != nil || len(found) == 0 {
				t.Errorf("no unit named %q", name)
			}
		}

		staff, _, err := dir.ListStaff(ctx, identity.StaffFilter{Limit: identity.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if len(staff) < 40 || len(acc.Staff) != len(staff) {
			t.Fatalf("%d staff, %d accounts; want ≥ 40 and one account each", len(staff), len(acc.Staff))
		}
		named := []struct {
			username  string
			roles     authz.Roles
			clearance authz.Level
			unit      string // name of the unit, in English
		}{
			{"admin", authz.RolesOf(authz.Administrator), authz.Unclassified, "Office of the Ministry"},
			{"consular.clerk", authz.RolesOf(authz.Clerk), authz.Unclassified, "Consular Department"},
			{"auditor", authz.RolesOf(authz.Auditor), authz.Unclassified, ""},
			{"consular.officer", authz.RolesOf(authz.Officer), authz.Confidential, "Consular Department"},
			{"consular.approver", authz.RolesOf(authz.Approver), authz.Confidential, "Consular Department"},
			{"archivist", authz.RolesOf(authz.Archivist), authz.Secret, ""},
			{"security.officer", authz.RolesOf(authz.SecurityOfficer), authz.TopSecret, ""},
			{"cipher.officer", authz.RolesOf(authz.Officer), authz.TopSecret, "Cipher-Information Technology Department"},
			{"paris.clerk", authz.RolesOf(authz.Clerk), authz.Unclassified, ""},
		}
		for _, n := range named {
			m, err := dir.StaffByUsername(ctx, n.username)
			if err != nil {
				t.Errorf("%s: %v", n.username, err)
				continue
			}
			if m.Roles != n.roles || m.Clearance != n.clearance {
				t.Errorf("%s has roles %s and clearance %s, want %s and %s", n.username, m.Roles, m.Clearance, n.roles, n.clearance)
			}
			if n.unit != "" {
				if u, _ := dir.Unit(ctx, m.UnitID); u.NameEN != n.unit {
					t.Errorf("%s is in %q, want %q", n.username, u.NameEN, n.unit)
				}
			}
		}
		// One grant waits for the security officer.
		pending, _, err := dir.ListProposals(ctx, identity.ProposalFilter{Status: identity.ProposalPending})
		if err != nil || len(pending) != 1 || pending[0].Username != "consular.officer2" || pending[0].Clearance != authz.Confidential ||
			pending[0].Proposer != "admin" {
			t.Fatalf("pending proposals = %+v, %v; want consular.officer2 proposed for confidential by admin", pending, err)
		}
		paris, _ := dir.StaffByUsername(ctx, "paris.clerk")
		if u, _ := dir.Unit(ctx, paris.UnitID); u.Country != "FR" || u.Kind != identity.KindEmbassy {
			t.Errorf("paris.clerk works at %+v", u)
		}

		for _, a := range acc.Staff {
			m, _ := dir.StaffByUsername(ctx, a.Username)
			if c.passwords[key(authz.Staff, m.ID)] != "password" {
				t.Errorf("%s has no demo password", a.Username)
			}
			cleared := m.Subject().NeedsSecondFactor()
			if cleared != c.totp[key(authz.Staff, m.ID)] || cleared != (a.TOTPSecret != "") {
				t.Errorf("%s (clearance %s): TOTP enrolled %v, secret %q", a.Username, m.Clearance, c.totp[key(authz.Staff, m.ID)], a.TOTPSecret)
			}
			if a.Roles != m.Roles.String() || a.Clearance != m.Clearance.String() || a.Name != m.FullName {
				t.Errorf("account %+v does not match %+v", a, m)
			}
		}
		if c.mustChange != 0 {
			t.Errorf("%d demo passwords must be changed at sign-in", c.mustChange)
		}
		lan, err := dir.CitizenByEmail(ctx, "citizen@example.com")
		if err != nil || lan.FullName != "Nguyễn Thị Lan" || c.passwords[key(authz.Citizen, lan.ID)] != "password" {
			t.Fatalf("citizen = %+v, %v", lan, err)
		}
		if len(acc.Citizens) == 0 || acc.Citizens[0].Username != "citizen@example.com" {
			t.Errorf("citizen accounts = %+v", acc.Citizens)
		}

		// The ledger holds every unit, member and citizen seeded, as the
		// seeder's doing.
		if _, err := ledger.Integrate(ctx); err != nil {
			t.Fatal(err)
		}
		created := map[string]int{}
		for _, action := range []string{"unit.create", "staff.create", "citizen.register"} {
			events, err := ledger.Search(ctx, audit.Query{Action: action, Limit: audit.MaxSearchLimit})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range events {
				if e.Actor != audit.System("demo") {
					t.Errorf("%s of %s %s recorded as %+v, want the system actor demo", action, e.ResourceType, e.ResourceID, e.Actor)
				}
			}
			created[action] = len(events)
		}
		if want := map[string]int{"unit.create": len(units), "staff.create": len(staff), "citizen.register": len(acc.Citizens)}; !maps.Equal(created, want) {
			t.Errorf("the ledger records %v, want %v", created, want)
		}

		// A second seed is refused before it writes anything.
		before := len(units)
		if _, err := demo.Seed(ctx, dir, c, "password"); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("second Seed = %v, want ErrConflict", err)
		}
		if after, _ := dir.AllUnits(ctx); len(after) != before {
			t.Fatalf("the refused seed changed the units: %d → %d", before, len(after))
		}
	})
}
