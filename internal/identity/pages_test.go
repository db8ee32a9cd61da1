package identity_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

const formType = "application/x-www-form-urlencoded"

// unknownKey finds catalogue keys that reached the page untranslated.
var unknownKey = regexp.MustCompile(`\b(identity|nav|form)\.[a-z_.]+[a-z]\b`)

// page fetches a console page as p, checks its status and that every
// string came from the catalogue, and returns the HTML.
func page(t *testing.T, e *env, p web.Principal, path string, want int) string {
	t.Helper()
	w := e.do(p, "GET", path, "", "")
	if w.Code != want {
		t.Fatalf("GET %s: %d, want %d: %s", path, w.Code, want, body(w))
	}
	html := body(w)
	if k := unknownKey.FindString(html); k != "" {
		t.Fatalf("GET %s shows the raw key %q", path, k)
	}
	return html
}

func TestPagesRenderInBothLanguages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		member, _ := e.svc.StaffByUsername(testCtx, "clerk")
		paths := []string{
			"/console/units", "/console/units?q=lanh+su", "/console/units?kind=embassy",
			"/console/units/new", fmt.Sprintf("/console/units/%d", e.tree.consular.ID), fmt.Sprintf("/console/units/%d", e.tree.root.ID),
			"/console/users", "/console/users?role=clerk&include_disabled=on", "/console/users/new",
			fmt.Sprintf("/console/users/%d", member.ID),
		}
		for _, lang := range []string{"", "?lang=en"} {
			for _, path := range paths {
				if lang != "" && strings.Contains(path, "?") {
					path += "&lang=en"
				} else {
					path += lang
				}
				t.Run(path, func(t *testing.T) {
					html := page(t, e, e.admin, path, http.StatusOK)
					if !strings.Contains(html, `<html lang="`) {
						t.Fatalf("not a full page: %.200s", html)
					}
				})
			}
		}
		tree := page(t, e, e.admin, "/console/units", http.StatusOK)
		for _, want := range []string{`class="tree"`, "Bộ Ngoại giao", "Phòng Thị thực", "Đại sứ quán", e.tree.paris.Code} {
			if !strings.Contains(tree, want) {
				t.Errorf("the tree lacks %q", want)
			}
		}
		// The section is nested inside its department's list item.
		if i, j := strings.Index(tree, "Cục Lãnh sự"), strings.Index(tree, "Phòng Thị thực"); i < 0 || j < i || !strings.Contains(tree[i:j], "<ul>") {
			t.Error("the Visa Section is not nested under the Consular Department")
		}
		found := page(t, e, e.admin, "/console/units?q=dai+su+quan", http.StatusOK)
		if !strings.Contains(found, e.tree.paris.Code) || strings.Contains(found, e.tree.press.Code) {
			t.Error("searching without diacritics did not find just the embassy")
		}
	})
}

func TestPagesRedirectAnonymousAndRefuseClerks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		w := e.do(web.Principal{}, "GET", "/console/units", "", "")
		if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/console/login") {
			t.Fatalf("anonymous: %d %q", w.Code, w.Header().Get("Location"))
		}
		if w := e.do(e.clerk, "GET", "/console/users", "", ""); w.Code != http.StatusForbidden {
			t.Fatalf("clerk on the staff list: %d", w.Code)
		}
		html := page(t, e, e.clerk, fmt.Sprintf("/console/units/%d", e.tree.press.ID), http.StatusOK)
		if strings.Contains(html, "/merge") || strings.Contains(html, `name="name_vi"`) {
			t.Fatal("a clerk is shown forms they may not use")
		}
	})
}

func TestUnitFormsShowErrorsBesideTheField(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		before := e.counts(t)
		unitPath := fmt.Sprintf("/console/units/%d", e.tree.press.ID)
		tests := []struct {
			name, path string
			form       url.Values
			status     int
			field      string // id of the control whose error is shown; empty for a form-wide one
		}{
			{"bad code", "/console/units", url.Values{"code": {"12"}, "name_vi": {"Vụ"}, "name_en": {"D"}, "kind": {"department"},
				"parent_id": {fmt.Sprint(e.tree.root.ID)}, "country": {"VN"}, "time_zone": {"Asia/Ho_Chi_Minh"}}, 422, "code"},
			{"bad zone", "/console/units", url.Values{"code": {"000.00.50.G12"}, "name_vi": {"Vụ"}, "name_en": {"D"}, "kind": {"department"},
				"parent_id": {fmt.Sprint(e.tree.root.ID)}, "country": {"VN"}, "time_zone": {"Hanoi"}}, 422, "time_zone"},
			{"parent not a number", "/console/units", url.Values{"code": {"000.00.50.G12"}, "parent_id": {"x"}}, 422, "parent_id"},
			{"stale edit", unitPath, url.Values{"name_vi": {"Vụ mới"}, "name_en": {"New"}, "kind": {"department"}, "country": {"VN"},
				"time_zone": {"Asia/Ho_Chi_Minh"}, "version": {"99"}}, 409, ""},
			{"future merge", unitPath + "/merge", url.Values{"into": {fmt.Sprint(e.tree.consular.ID)}, "effective": {"2999-12-31"}}, 422, "merge-effective"},
			{"cycle", fmt.Sprintf("/console/units/%d/move", e.tree.consular.ID), url.Values{"parent": {fmt.Sprint(e.tree.visas.ID)}}, 422, "move-parent"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w := e.do(e.admin, "POST", tt.path, formType, tt.form.Encode())
				html := body(w)
				if w.Code != tt.status {
					t.Fatalf("status %d, want %d: %s", w.Code, tt.status, html)
				}
				if !strings.Contains(html, `role="alert"`) {
					t.Error("no alert above the form")
				}
				if tt.field != "" {
					if !strings.Contains(html, `id="`+tt.field+`-error"`) || !regexp.MustCompile(`id="`+tt.field+`"[^>]*aria-describedby="[^"]*`+tt.field+`-error"`).MatchString(html) {
						t.Errorf("the error is not tied to #%s", tt.field)
					}
				}
				if k := unknownKey.FindString(html); k != "" {
					t.Errorf("raw key %q on the page", k)
				}
			})
		}
		if after := e.counts(t); after != before {
			t.Fatalf("refused forms changed the directory: %s → %s", before, after)
		}
		w := e.do(e.admin, "POST", "/console/units", formType, url.Values{"code": {"000.00.50.G12"}, "name_vi": {"Vụ Châu Âu"},
			"name_en": {"Department of Europe"}, "kind": {"department"}, "parent_id": {fmt.Sprint(e.tree.root.ID)},
			"country": {"VN"}, "time_zone": {"Asia/Ho_Chi_Minh"}}.Encode())
		loc := w.Header().Get("Location")
		if w.Code != http.StatusSeeOther || !strings.Contains(loc, "?flash=") {
			t.Fatalf("create: %d %q %s", w.Code, loc, body(w))
		}
		w = e.do(e.admin, "POST", unitPath, formType, url.Values{"name_vi": {"Vụ Báo chí"}, "name_en": {"Press"}, "kind": {"department"},
			"country": {"VN"}, "time_zone": {"Asia/Ho_Chi_Minh"}, "version": {fmt.Sprint(e.tree.press.Version)}}.Encode())
		if w.Code != http.StatusSeeOther {
			t.Fatalf("edit: %d %s", w.Code, body(w))
		}
		if u, _ := e.svc.Unit(testCtx, e.tree.press.ID); u.NameVI != "Vụ Báo chí" {
			t.Fatalf("the edit was not saved: %+v", u)
		}
	})
}

func TestUserPagesCreateShowPasswordOnceAndRevokeOnDisable(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		form := url.Values{"username": {"le.van.nam"}, "full_name": {"Lê Văn Nam"}, "email": {"nam@mofa.gov.vn"},
			"unit_id": {fmt.Sprint(e.tree.paris.ID)}, "roles": {"clerk", "officer"}, "clearance": {"confidential"}}
		w := e.do(e.admin, "POST", "/console/users", formType, form.Encode())
		if w.Code != http.StatusCreated || !strings.Contains(body(w), "otp-") {
			t.Fatalf("create: %d %s", w.Code, body(w))
		}
		m, err := e.svc.StaffByUsername(testCtx, "le.van.nam")
		if err != nil {
			t.Fatal(err)
		}
		detail := page(t, e, e.admin, fmt.Sprintf("/console/users/%d", m.ID), http.StatusOK)
		if strings.Contains(detail, "otp-") {
			t.Fatal("the one-time password is shown again")
		}
		w = e.do(e.admin, "POST", "/console/users", formType, form.Encode())
		if w.Code != http.StatusConflict || !strings.Contains(body(w), "Lê Văn Nam") {
			t.Fatalf("duplicate: %d; the form must keep what was typed", w.Code)
		}
		edit := url.Values{"full_name": {m.FullName}, "email": {m.Email}, "unit_id": {fmt.Sprint(e.tree.press.ID)},
			"roles": {"officer"}, "clearance": {"confidential"}, "disabled": {"true"}, "version": {fmt.Sprint(m.Version)}}
		w = e.do(e.admin, "POST", fmt.Sprintf("/console/users/%d", m.ID), formType, edit.Encode())
		if w.Code != http.StatusSeeOther {
			t.Fatalf("edit: %d %s", w.Code, body(w))
		}
		got, _ := e.svc.Staff(testCtx, m.ID)
		if !got.Disabled || got.UnitID != e.tree.press.ID || e.creds.revocations(m.ID) != 1 {
			t.Fatalf("after edit %+v, %d revocations", got, e.creds.revocations(m.ID))
		}
		history := page(t, e, e.admin, fmt.Sprintf("/console/users/%d", m.ID), http.StatusOK)
		if !strings.Contains(history, "moved by admin") {
			t.Error("the membership history is not shown")
		}
		edit.Set("email", "not-an-address")
		edit.Set("version", fmt.Sprint(got.Version))
		w = e.do(e.admin, "POST", fmt.Sprintf("/console/users/%d", m.ID), formType, edit.Encode())
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(body(w), `id="edit-email-error"`) {
			t.Fatalf("bad e-mail: %d", w.Code)
		}
		w = e.do(e.admin, "POST", fmt.Sprintf("/console/users/%d/password", m.ID), formType, "")
		if w.Code != http.StatusOK || !strings.Contains(body(w), "otp-") {
			t.Fatalf("reset: %d", w.Code)
		}
	})
}

// TestStaffListPaginatesAndSearches pins the staff list's pages: a
// bounded page with a link to the next (the filters kept), a link back to
// the first and which rows are shown; and the search finds by name.
func TestStaffListPaginatesAndSearches(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for i := range 3 {
			mustStaff(t, e.svc, fmt.Sprintf("pager.%d", i), e.tree.consular.ID, authz.Officer)
		}
		first := page(t, e, e.admin, "/console/users?q=pager&limit=2", http.StatusOK)
		next := regexp.MustCompile(`<a href="(/console/users\?[^"]+)" rel="next">Trang sau →</a>`).FindStringSubmatch(first)
		if next == nil || !strings.Contains(first, "Mục 1–2") || strings.Contains(first, "Trang đầu") {
			t.Fatalf("the first page has no next link, or no count, or a link to itself: %s", first)
		}
		second := page(t, e, e.admin, strings.ReplaceAll(next[1], "&amp;", "&"), http.StatusOK)
		for _, want := range []string{"pager.2", "Mục 3–3", `<a href="/console/users?limit=2&amp;q=pager">← Trang đầu</a>`} {
			if !strings.Contains(second, want) {
				t.Errorf("the second page lacks %q", want)
			}
		}
		if strings.Contains(second, "pager.0") || strings.Contains(second, `rel="next"`) {
			t.Error("the second page repeats the first's rows or links past the last")
		}
		if found := page(t, e, e.admin, "/console/users?q=pager.1", http.StatusOK); !strings.Contains(found, "pager.1") || strings.Contains(found, "pager.2") {
			t.Error("the search did not find just the one member")
		}
	})
}
