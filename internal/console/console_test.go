package console

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/identity"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// serve sends a GET for target through the console's routes, as who, in
// lang, with the middleware a page relies on (language, CSRF).
func serve(t *testing.T, who web.Principal, lang i18n.Lang, target string) *httptest.ResponseRecorder {
	t.Helper()
	shell := webtest.Shell(t, Texts(), identity.Texts())
	h, err := NewHandler(shell, directory)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	return webtest.GetIn(shell, web.Chain(rt, web.CSRF("session")), who, lang, target)
}

// unitsByID is the directory the console's tests read unit names from.
type unitsByID map[int64]identity.Unit

func (u unitsByID) Unit(_ context.Context, id int64) (identity.Unit, error) {
	if unit, ok := u[id]; ok {
		return unit, nil
	}
	return identity.Unit{}, fmt.Errorf("unit %d: %w", id, errs.ErrNotFound)
}

var directory = unitsByID{3: {ID: 3, Code: "000.00.03.G12", NameVI: "Cục Lãnh sự", NameEN: "Consular Department"}}

func TestHomeNamesTheUnitInThePagesLanguage(t *testing.T) {
	for _, tt := range []struct {
		lang i18n.Lang
		unit int64
		want string
	}{
		{i18n.VI, 3, "Cục Lãnh sự (000.00.03.G12)"},
		{i18n.EN, 3, "Consular Department (000.00.03.G12)"},
		{i18n.VI, 99, "99"}, // unreadable: the id still says which
	} {
		rec := serve(t, staff("Nguyễn Văn An", tt.unit, authz.Unclassified), tt.lang, "/console/")
		if !strings.Contains(rec.Body.String(), "<dd>"+tt.want+"</dd>") {
			t.Errorf("%s home for unit %d lacks %q", tt.lang, tt.unit, tt.want)
		}
	}
}

func staff(name string, unit int64, clearance authz.Level, roles ...authz.Role) web.Principal {
	return web.Principal{
		Subject:  authz.Subject{Kind: authz.Staff, ID: 40, Unit: unit, Roles: authz.RolesOf(roles...), Clearance: clearance},
		Username: "staff.user", Name: name, Stage: "full",
	}
}

func TestHomeSendsAnonymousVisitorsToSignIn(t *testing.T) {
	rec := serve(t, web.Principal{}, i18n.VI, "/console/")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/console/login?next=%2Fconsole%2F" {
		t.Fatalf("GET /console/ anonymously = %d to %q, want 303 to the sign-in page", rec.Code, rec.Header().Get("Location"))
	}
}

func TestHomeRefusesCitizens(t *testing.T) {
	citizen := web.Principal{Subject: authz.Subject{Kind: authz.Citizen, ID: 7}, Name: "Phạm Thị Dung"}
	if rec := serve(t, citizen, i18n.VI, "/console/"); rec.Code != http.StatusForbidden {
		t.Fatalf("GET /console/ as a citizen = %d, want 403", rec.Code)
	}
}

func TestHomeShowsTheSessionAndTheFunctionsItOpens(t *testing.T) {
	tests := []struct {
		name   string
		who    web.Principal
		lang   i18n.Lang
		shown  []string
		hidden []string
	}{
		{
			name: "administrator in Vietnamese",
			who:  staff("Trần Thị Bình", 12, authz.Secret, authz.Administrator, authz.Officer),
			lang: i18n.VI,
			shown: []string{
				"<h1>Xin chào, Trần Thị Bình</h1>",
				"<dd>12</dd>", // a unit the directory cannot read shows its id
				"<code>staff.user</code>",
				`<span class="badge role">Chuyên viên</span>`,
				`<span class="badge role">Quản trị hệ thống</span>`,
				`<span class="badge level-secret">Tối mật</span>`,
				`<a class="tile" href="/console/units">`,
				`<a class="tile" href="/console/users">`,
			},
		},
		{
			name: "clerk in English",
			who:  staff("Nguyễn Văn An", 3, authz.Unclassified, authz.Clerk),
			lang: i18n.EN,
			shown: []string{
				"<h1>Hello, Nguyễn Văn An</h1>",
				"Consular Department (000.00.03.G12)",
				`<span class="badge role">Clerk</span>`,
				`<span class="badge level-none">Unclassified</span>`,
				`<a class="tile" href="/console/units">`,
			},
			// Reading staff needs a role the clerk lacks: no dead end.
			hidden: []string{`href="/console/users"`},
		},
		{
			name:   "no roles, no name",
			who:    staff("", 5, authz.Confidential),
			lang:   i18n.VI,
			shown:  []string{"<h1>Xin chào, staff.user</h1>", "Chưa được giao vai trò", `<span class="badge level-confidential">Mật</span>`},
			hidden: []string{`href="/console/users"`, `class="badge role"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(t, tt.who, tt.lang, "/console/")
			if rec.Code != http.StatusOK {
				t.Fatalf("GET /console/ = %d: %s", rec.Code, rec.Body)
			}
			body := rec.Body.String()
			for _, want := range tt.shown {
				if !strings.Contains(body, want) {
					t.Errorf("the page lacks %s", want)
				}
			}
			for _, unwanted := range tt.hidden {
				if strings.Contains(body, unwanted) {
					t.Errorf("the page shows %s", unwanted)
				}
			}
		})
	}
}

// The home page names roles and levels by catalogue keys built from their
// API names, which TestEveryTemplateKeyIsInTheCatalogue cannot see.
func TestEveryRoleAndLevelHasACatalogueText(t *testing.T) {
	for _, r := range authz.AllRoles() {
		if b := roleBadge(r); !texts.Has(b.Key) {
			t.Errorf("role %s: no catalogue text %q", r, b.Key)
		}
	}
	for l := authz.Unclassified; l.Valid(); l++ {
		if b := levelBadge(l); !texts.Has(b.Key) {
			t.Errorf("level %s: no catalogue text %q", l, b.Key)
		}
	}
}

func TestRegisterDeclaresTheHomeForSignedInStaff(t *testing.T) {
	h, err := NewHandler(webtest.Shell(t, Texts(), identity.Texts()), directory)
	if err != nil {
		t.Fatal(err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	routes := rt.Routes()
	if len(routes) != 1 || routes[0].Pattern != "GET /console/{$}" || routes[0].Access != web.SignedIn {
		t.Fatalf("routes %v, want only GET /console/{$}, signed-in staff", routes)
	}
}
