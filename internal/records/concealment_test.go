//go:build !race

// These tests walk pages, routes and browser flows, checking what each
// caller is shown and allowed, not what runs at once: under the race
// detector they cost minutes of CI and find no race the other tests miss.
// So they build only without -race: CI runs them in its vet step (.ci/run
// picks every test of a "//go:build !race" file), and a plain `go test`
// runs them as always.

package records

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// concealedItem is an item of the concealment test: a document or a case
// file, with its labels and a word found only in it.
type concealedItem struct {
	id     int64
	kind   authz.Kind
	res    authz.Resource
	marker string
	// shown is what only the item itself shows: its subject or title.
	shown string
}

// TestConcealmentOnEveryRoute tries every route the records register
// (whatever part of the records added it: the routes are read from
// Handler.Register's router) as every demo role at every clearance
// against documents of every level of every unit and against every
// unit's case file. Wherever authz conceals the item from the caller, the
// answer must be byte for byte the answer for an item that does not exist
// (but for the id): a 404 wherever the missing item's is; no list or page
// may show it; and each refusal is in the ledger at the item's level.
// Where authz denies without concealing (an item of the caller's unit and
// clearance that its roles give no right to), the answer is a 403 or the
// missing item's, and shows nothing of the item.
func TestConcealmentOnEveryRoute(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		// The two databases' runs share nothing; each waits on its
		// ledger's commits much of the time.
		t.Parallel()
		a := newAPIFixture(t, db)
		const office, consular, cipher = "000.00.01.G12", "000.00.03.G12", "000.00.09.G12"
		// The callers: the demo's records staff, and every other role
		// the demo gives (archivist, security officer, auditor,
		// administrator), of each unit at each clearance the demo has.
		people := demoPeople(t, a.fixture)
		subjects := map[string]authz.Subject{
			"archivist": a.archivist, "security officer": a.security, "auditor": a.auditor, "low officer": a.lowOfficer,
			"administrator": a.addStaff(t, "admin", office, authz.Unclassified, authz.Administrator),
			"cipher admin":  a.addStaff(t, "cipher.admin", cipher, authz.Secret, authz.Administrator, authz.Officer),
		}
		for name, m := range map[string]DemoStaff{
			"office clerk": people.OfficeClerk, "office approver": people.OfficeApprover, "office secret clerk": people.OfficeSecretClerk,
			"consular clerk": people.ConsularClerk, "consular officer": people.ConsularOfficer, "consular approver": people.ConsularApprover,
			"consular secret clerk": people.ConsularSecretClerk, "cipher officer": people.CipherOfficer, "cipher clerk": people.CipherClerk,
			"cipher approver": people.CipherApprover,
		} {
			subjects[name] = m.Subject
		}
		// The items: a document of each level in each unit, each with a
		// file, registered by a clerk cleared top secret; a case file of
		// each unit.
		registrars := map[string]authz.Subject{office: a.office, consular: a.clerk, cipher: a.addStaff(t, "cipher.registrar", cipher, authz.TopSecret, authz.Clerk)}
		var items []concealedItem
		for _, unit := range []string{office, consular, cipher} {
			reg := registrars[unit]
			for l := authz.Unclassified; l <= authz.TopSecret; l++ {
				marker := fmt.Sprintf("dauvet%dx%d", len(items), l) // no marker within another
				in := NewIncoming{Type: "cong_van", Number: "7/BCA-A08", Sender: "Bộ Công an", Subject: "V/v kiểm tra " + marker,
					Date: a.clock.now(), Classify: Classify{Level: l},
					Content: &Content{Filename: marker + ".pdf", MediaType: "application/pdf", Data: TextPDF(marker), Text: marker}}
				if l > authz.Unclassified {
					in.Reason = "Danh mục bí mật nhà nước, mục 3"
				}
				d, err := a.svc.RegisterIncoming(a.as(reg), reg, in)
				if err != nil {
					t.Fatal(err)
				}
				items = append(items, concealedItem{id: d.ID, kind: authz.KindDocument, res: d.resource(), marker: marker, shown: in.Subject})
			}
			marker := fmt.Sprintf("hosovet%dx", len(items))
			cf, err := a.svc.CreateCaseFile(a.as(reg), reg, NewCaseFile{Year: 2026, Code: marker, Title: "Hồ sơ " + marker, RetentionYears: 10})
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, concealedItem{id: cf.ID, kind: authz.KindCaseFile, res: authz.Resource{Kind: authz.KindCaseFile, Unit: cf.UnitID}, marker: marker, shown: cf.Title})
		}
		// What the actions' bodies name besides the item: an officer, a
		// unit, a case file.
		refs := actionRefs{staff: a.officer.ID, unit: a.units[consular], caseFile: items[len(items)-1].id,
			future: a.clock.now().AddDate(0, 1, 0).Format(time.DateOnly)}
		// Every route the records register.
		h, err := NewHandler(webtest.Shell(t, Texts()), HandlerOptions{Service: a.svc})
		if err != nil {
			t.Fatal(err)
		}
		rt := web.NewRouter()
		h.Register(rt)
		routes := rt.Routes()
		if len(routes) < 10 {
			t.Fatalf("only %d routes registered", len(routes))
		}
		reached := map[string]bool{} // routes whose missing item answered 404
		// A missing item's answer depends on the caller, the route and
		// the body, not on the item compared with it: it is asked once
		// and compared with every item's (half the requests otherwise).
		type answer struct {
			code       int
			normalized string
		}
		missing := map[string]answer{}
		hidden := map[int64]authz.Level{}
		for _, it := range items {
			// A recorder of refusals per item, so that the ledger's bound
			// on one actor's refusals a minute keeps none of this item's
			// out.
			serve := web.Chain(rt, web.RecordDenials(audit.NewDenials(a.ledger).Record))
			if it.kind == authz.KindDocument {
				// The lists below can show it: its registrar finds it.
				reg := registrars[unitCode(a.fixture, it.res.Unit)]
				if rec := callAs(t, serve, a, reg, http.MethodGet, "/api/v1/documents?q="+it.marker); !strings.Contains(rec.Body.String(), it.shown) {
					t.Fatalf("the registrar does not find %s: %s", it.marker, rec.Body)
				}
			}
			for name, sub := range subjects {
				dec, _ := authz.Decide(sub, authz.Read, it.res)
				if dec == authz.Allowed {
					continue
				}
				if dec == authz.Concealed && it.kind == authz.KindDocument {
					hidden[it.id] = it.res.Level
				}
				// A security officer (or whoever reads classification
				// records and the secret registers of the item's unit)
				// knows a classified item there by its record, not its
				// content: those routes may show it.
				byRecord := dec == authz.Denied && it.kind == authz.KindDocument &&
					(allowed(sub, authz.KindClassification, it.res) || allowed(sub, authz.KindSecretRegister, it.res))
				for _, r := range routes {
					method, path := routeOf(r.Pattern)
					if byRecord && (strings.Contains(path, "/classification") || strings.Contains(path, "/archive") || strings.Contains(path, "/registers/secret/")) {
						continue
					}
					if !strings.Contains(path, "{") || strings.Contains(path, "{direction}") {
						// Lists and registers: the item must not show.
						if method != http.MethodGet {
							continue // a creation names no existing item
						}
						for _, p := range listPaths(path, it) {
							// The item's own words (its subject or title),
							// not the marker a search box echoes back.
							if rec := callAs(t, serve, a, sub, method, p); strings.Contains(rec.Body.String(), it.shown) {
								b := rec.Body.String()
								i := strings.Index(b, it.shown)
								t.Errorf("%s (%s) sees %s on %s: …%s…", name, dec, it.marker, p, b[max(0, i-300):min(len(b), i+100)])
							}
						}
						continue
					}
					if routeItemKind(path) != it.kind {
						continue
					}
					for i, body := range bodiesFor(method, path, refs) {
						if byRecord && byRecordAction(body) {
							continue // the classification's own actions, allowed above
						}
						got := a.callThrough(t, serve, sub, method, fill(path, it.id), body)
						key := fmt.Sprintf("%s\x00%s\x00%d", name, r.Pattern, i)
						want, ok := missing[key]
						if !ok {
							rec := a.callThrough(t, serve, sub, method, fill(path, missingID), body)
							want = answer{code: rec.Code, normalized: normalize(rec, missingID)}
							missing[key] = want
						}
						g, w := normalize(got, it.id), want.normalized
						what := fmt.Sprintf("%s %s %v", method, path, body)
						switch {
						case strings.Contains(got.Body.String(), it.marker):
							t.Errorf("%s (%s) %s shows %s: %.300s", name, dec, what, it.marker, got.Body)
						case (dec == authz.Concealed || method == http.MethodPost && !byRecord) && g != w:
							// A POST by whoever may not read the item (an
							// action on it, whatever the action) must not
							// tell it from a missing one either.
							t.Errorf("%s (%s) %s of %s: answered\n%s\nnot as a missing item's\n%s", name, dec, what, it.marker, g, w)
						case dec == authz.Denied && g != w && got.Code != http.StatusForbidden:
							// Denied (not concealed) is authz's answer for an
							// item the caller may know exists, in its unit and
							// clearance, that its roles give no right to: a 403
							// may say so, and nothing more.
							t.Errorf("%s (%s) %s of %s: answered %d, want 403 or a missing item's answer", name, dec, what, it.marker, got.Code)
						}
						if want.code == http.StatusNotFound {
							reached[r.Pattern+" "+actionOf(body)] = true
						}
					}
				}
			}
		}
		// Each route naming an item reached the item for someone (so the
		// comparison above was between two 404s, not two refusals at the
		// door): every GET, and every JSON API route.
		for _, r := range routes {
			method, path := routeOf(r.Pattern)
			if !strings.Contains(path, "{") || strings.Contains(path, "{direction}") || !(method == http.MethodGet || strings.HasPrefix(path, "/api/") || strings.HasSuffix(path, "actions")) {
				continue
			}
			for _, body := range bodiesFor(method, path, refs) {
				if !reached[r.Pattern+" "+actionOf(body)] {
					t.Errorf("%s %v never answered 404 for a missing item: the test did not reach the item", r.Pattern, body)
				}
			}
		}
		// Every concealed document's refusals are in the ledger at its
		// level.
		ctx := context.Background()
		if _, err := a.ledger.Integrate(ctx); err != nil {
			t.Fatal(err)
		}
		if len(hidden) < 12 {
			t.Fatalf("only %d documents concealed from some caller", len(hidden))
		}
		for id, level := range hidden {
			es, err := a.ledger.Search(ctx, audit.Query{Action: audit.DeniedAction, ResourceType: authz.KindDocument.String(), ResourceID: itoa(id), Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			if len(es) == 0 {
				t.Errorf("no refusal of document %d (%s) in the ledger", id, level)
			}
			for _, e := range es {
				if e.Level != level {
					t.Errorf("a refusal of document %d recorded at %s, want %s", id, e.Level, level)
				}
			}
		}
	})
}

// unitCode returns the code of the fixture's unit id.
func unitCode(f *fixture, id int64) string {
	for code, u := range f.units {
		if u == id {
			return code
		}
	}
	return ""
}

// routeOf splits a route's pattern into its method (GET when it names
// none) and path.
func routeOf(pattern string) (method, path string) {
	if m, p, ok := strings.Cut(pattern, " "); ok {
		return m, p
	}
	return http.MethodGet, pattern
}

// routeItemKind says what a route's wildcard names: a case file under
// /case-files/, else a document.
func routeItemKind(path string) authz.Kind {
	if strings.Contains(path, "/case-files/") {
		return authz.KindCaseFile
	}
	return authz.KindDocument
}

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// fill puts id in a route's wildcards ({$} matches the path's end).
func fill(path string, id int64) string {
	return wildcard.ReplaceAllStringFunc(path, func(w string) string {
		if w == "{$}" {
			return ""
		}
		return strconv.FormatInt(id, 10)
	})
}

// listPaths returns the requests of a list route that could show it: a
// search for its word, its unit's registers (and their secret series),
// both directions.
func listPaths(path string, it concealedItem) []string {
	q := fmt.Sprintf("?q=%s&unit=%d", it.marker, it.res.Unit)
	var out []string
	for _, dir := range []string{"incoming", "outgoing"} {
		p := strings.ReplaceAll(path, "{direction}", dir)
		p = wildcard.ReplaceAllString(p, "")
		out = append(out, p+q, p+q+"&secret=true")
		if !strings.Contains(path, "{direction}") {
			break
		}
	}
	return out
}

// callAs sends a request as sub through h (a GET: the lists).
func callAs(t testing.TB, h http.Handler, a *apiFixture, sub authz.Subject, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	return a.callThrough(t, h, sub, method, path, nil)
}

// actionRefs are what the actions' bodies name besides the item.
type actionRefs struct {
	staff, unit, caseFile int64
	future                string // a day a month from the clock's now
}

// bodiesFor returns the bodies to send to a route: none for a GET; for
// the routes that take actions, every action each takes, each with what
// gets it past the body's checks to the item (so that it is the item's
// answer, not the body's, that is compared); else the JSON body of a
// comment, the least any reader of an item may try.
func bodiesFor(method, path string, ref actionRefs) []any {
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	future := ref.future
	form := func(action string, kv ...string) url.Values {
		v := url.Values{"action": {action}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	switch {
	case method != http.MethodPost:
		return []any{nil}
	case strings.HasPrefix(path, "/api/") && strings.HasSuffix(path, "/actions"):
		var out []any
		for _, action := range apiActions {
			out = append(out, map[string]any{"action": action, "note": "x", "reason": "x", "org_symbol": "BNG", "unit_symbol": "LS",
				"lead": map[string]any{"unit_id": ref.unit}, "deadline": future + "T00:00:00Z", "staff_id": ref.staff,
				"expires_at": future + "T00:00:00Z", "until": future + "T00:00:00Z", "level": "secret", "case_file_id": ref.caseFile,
				"copies": 1, "hold_id": 1, "reviewers": []int64{ref.staff}, "decision": "approve", "recipients": []any{map[string]any{"kind": "unit", "unit_id": ref.unit}}})
		}
		return out
	case strings.HasSuffix(path, "/documents/{id}/actions"):
		return []any{form("assign", "instruction", "x", "lead_unit", id(ref.unit)), form("comment", "note", "x"), form("complete", "note", "x"),
			form("hold", "reason", "x"), form("lift_hold", "hold_id", "1", "reason", "x")}
	case strings.HasSuffix(path, "/drafting/actions"):
		return []any{form("comment", "body", "x"), form("send_review", "reviewers", id(ref.staff)), form("review", "decision", "approve"),
			form("approve"), form("sign"), form("issue", "org_symbol", "BNG", "unit_symbol", "LS", "to_units", id(ref.unit)),
			form("recall", "note", "x"), form("replace")}
	case strings.HasSuffix(path, "/classification"):
		return []any{form("extend", "until", future, "reason", "x"), form("change_level", "level", "secret", "reason", "x"),
			form("declassify", "reason", "x"), form("confirm", "reason", "x"),
			form("grant", "staff_id", id(ref.staff), "expires_at", future, "reason", "x"), form("revoke", "grant", "1")}
	case strings.HasSuffix(path, "/copies"):
		return []any{form("permit_copy", "staff_id", id(ref.staff), "copies", "1", "expires", future, "reason", "x"),
			form("permit_print", "staff_id", id(ref.staff), "copies", "1", "expires", future, "reason", "x"), form("copy"), form("print")}
	case strings.HasSuffix(path, "/holds"), strings.HasSuffix(path, "/lift"), strings.HasSuffix(path, "/return"):
		return []any{map[string]string{"reason": "x"}} // past the body's check, to the item
	case strings.HasSuffix(path, "/decide"):
		return []any{map[string]string{"decision_number": "1/QĐ-BNG", "decision_date": "2026-03-02T00:00:00Z"}}
	}
	return []any{map[string]string{"action": "comment", "note": "x"}}
}

// actionOf returns the action a body takes ("" for none).
func actionOf(body any) string {
	switch b := body.(type) {
	case url.Values:
		return b.Get("action")
	case map[string]any:
		s, _ := b["action"].(string)
		return s
	}
	return ""
}

// byRecordAction reports whether a body takes one of the actions on an
// item's classification record or its copies, which a security officer
// takes knowing the item by its record.
func byRecordAction(body any) bool {
	switch actionOf(body) {
	case "extend", "change_level", "declassify", "confirm", "destroy", "grant", "revoke", "permit_copy", "permit_print":
		return true
	}
	return false
}

// allowed reports whether sub may read the item res names as kind k.
func allowed(sub authz.Subject, k authz.Kind, res authz.Resource) bool {
	res.Kind = k
	dec, _ := authz.Decide(sub, authz.Read, res)
	return dec == authz.Allowed
}
