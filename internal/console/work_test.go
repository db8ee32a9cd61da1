package console

import (
	"regexp"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/i18n"
	"chancery/internal/identity"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// workNav is the console navigation of a node that serves every
// capability, with each page's own access rule (as the capabilities
// register them).
var workNav = []web.NavItem{
	{Key: "nav.home", Href: "/console/dossiers", Access: web.Staff(authz.KindDossier, authz.Read)},
	{Key: "nav.home", Href: indicesPath, Access: web.Staff(authz.KindIndices, authz.Read)},
	{Key: "nav.home", Href: "/console/users", Access: web.Staff(authz.KindStaff, authz.Read)},
	{Key: "nav.home", Href: "/console/user-proposals", Access: web.Staff(authz.KindStaff, authz.Read)},
	{Key: "nav.home", Href: "/console/exchange/services", Access: web.Staff(authz.KindService, authz.Read)},
	{Key: "nav.home", Href: "/console/records", Access: web.Staff(authz.KindDocument, authz.Read)},
	{Key: "nav.home", Href: "/console/audit", Access: web.Staff(authz.KindAuditEvent, authz.Read)},
}

var firstWorkTile = regexp.MustCompile(`<a class="tile" href="([^"]+)" data-work=`)

func TestHomeSendsEachRoleToTheirWorkFirst(t *testing.T) {
	const consular, office = 3, 1
	dir := unitsByID{
		consular: {ID: consular, Code: "000.00.03.G12", NameVI: "Cục Lãnh sự", NameEN: "Consular Department"},
		office:   {ID: office, Code: "000.00.01.G12", NameVI: "Văn phòng Bộ", NameEN: "Office of the Ministry"},
	}
	for _, tt := range []struct {
		name  string
		unit  int64
		roles []authz.Role
		want  string // the first tile's href; "" for none
	}{
		{"a consular clerk to the queue", consular, []authz.Role{authz.Clerk}, "/console/dossiers"},
		{"a consular officer to their dossiers", consular, []authz.Role{authz.Officer}, "/console/dossiers?mine=1"},
		{"a consular approver to their dossiers", consular, []authz.Role{authz.Approver}, "/console/dossiers?mine=1"},
		{"the Office's clerk (no dossiers) to the records", office, []authz.Role{authz.Clerk}, "/console/records"},
		{"the Office's approver to the records", office, []authz.Role{authz.Approver}, "/console/records"},
		{"an auditor to the audit search", office, []authz.Role{authz.Auditor}, "/console/audit"},
		{"a security officer to the audit search", office, []authz.Role{authz.SecurityOfficer}, "/console/audit"},
		{"an administrator to the directory", office, []authz.Role{authz.Administrator}, "/console/users"},
		{"an archivist to the records", office, []authz.Role{authz.Archivist}, "/console/records"},
		{"no roles, no work", consular, nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			shell := webtest.Shell(t, Texts(), identity.Texts())
			for _, item := range workNav {
				shell.AddNav(web.Console, item)
			}
			h, err := NewHandler(shell, dir)
			if err != nil {
				t.Fatal(err)
			}
			h.ServesDossiers(func(u identity.Unit) bool { return u.ID == consular })
			rt := web.NewRouter()
			h.Register(rt)
			rec := webtest.GetIn(shell, web.Chain(rt, web.CSRF("session")), staff("Lê Văn Bình", tt.unit, authz.Unclassified, tt.roles...), i18n.EN, "/console/")
			got := ""
			if m := firstWorkTile.FindStringSubmatch(rec.Body.String()); m != nil {
				got = m[1]
			}
			if got != tt.want {
				t.Errorf("the first work tile leads to %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHomeOffersNoWorkWhosePageTheNodeDoesNotServe(t *testing.T) {
	// The architecture repository is an administrator's work, but until a
	// capability puts it in the navigation it is no link.
	rec := serve(t, staff("Lê Văn Bình", 3, authz.Unclassified, authz.Administrator), i18n.EN, "/console/")
	if body := rec.Body.String(); firstWorkTile.MatchString(body) {
		t.Errorf("the home links work the node does not serve: %s", firstWorkTile.FindString(body))
	}
}

func TestEveryWorkTileHasCatalogueTexts(t *testing.T) {
	for _, w := range work {
		for _, k := range []string{"console.work." + w.tile.ID + ".title", "console.work." + w.tile.ID + ".text"} {
			if !texts.Has(k) {
				t.Errorf("no catalogue text %q", k)
			}
		}
	}
}
