package records

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

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

// missingID names no item; its answers are what a hidden item's must be.
const missingID = 987654321

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
					got := callAs(t, serve, a, sub, method, fill(path, it.id))
					want := callAs(t, serve, a, sub, method, fill(path, missingID))
					g, w := normalize(got, it.id), normalize(want, missingID)
					switch {
					case strings.Contains(got.Body.String(), it.marker):
						t.Errorf("%s (%s) %s %s shows %s: %.300s", name, dec, method, path, it.marker, got.Body)
					case dec == authz.Concealed && g != w:
						t.Errorf("%s (%s) %s %s of %s: answered\n%s\nnot as a missing item's\n%s", name, dec, method, path, it.marker, g, w)
					case dec == authz.Denied && g != w && got.Code != http.StatusForbidden:
						// Denied (not concealed) is authz's answer for an
						// item the caller may know exists, in its unit and
						// clearance, that its roles give no right to: a 403
						// may say so, and nothing more.
						t.Errorf("%s (%s) %s %s of %s: answered %d, want 403 or a missing item's answer", name, dec, method, path, it.marker, got.Code)
					}
					if want.Code == http.StatusNotFound {
						reached[r.Pattern] = true
					}
				}
			}
		}
		// Each route naming an item reached the item for someone (so the
		// comparison above was between two 404s, not two refusals at the
		// door): every GET, and every JSON API route.
		for _, r := range routes {
			method, path := routeOf(r.Pattern)
			if strings.Contains(path, "{") && !strings.Contains(path, "{direction}") && (method == http.MethodGet || strings.HasPrefix(path, "/api/")) &&
				!reached[r.Pattern] {
				t.Errorf("%s never answered 404 for a missing item: the test did not reach the item", r.Pattern)
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

// callAs sends a request as sub through h, with the JSON body an action
// takes for POST (a comment: the least any reader of an item may try).
func callAs(t testing.TB, h http.Handler, a *apiFixture, sub authz.Subject, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	var body any
	switch {
	case method != http.MethodPost:
	case strings.HasSuffix(path, "/holds"), strings.HasSuffix(path, "/lift"), strings.HasSuffix(path, "/return"):
		body = map[string]string{"reason": "x"} // past the body's check, to the item
	case strings.HasSuffix(path, "/decide"):
		body = map[string]string{"decision_number": "1/QĐ-BNG", "decision_date": "2026-03-02T00:00:00Z"}
	default:
		body = map[string]string{"action": "comment", "note": "x"}
	}
	return a.callThrough(t, h, sub, method, path, body)
}

// normalize returns an answer's status, type and body with the item's
// id, wherever it stands alone after a slash, space or quote (not the
// "1" of "/api/v1"), replaced by ID.
func normalize(rec *httptest.ResponseRecorder, id int64) string {
	re := regexp.MustCompile(`([/ "])` + strconv.FormatInt(id, 10) + `([^0-9]|$)`)
	body := re.ReplaceAllString(rec.Body.String(), "${1}ID${2}")
	return fmt.Sprintf("%d %s\n%s", rec.Code, rec.Header().Get("Content-Type"), body)
}

// allowed reports whether sub may read the item res names as kind k.
func allowed(sub authz.Subject, k authz.Kind, res authz.Resource) bool {
	res.Kind = k
	dec, _ := authz.Decide(sub, authz.Read, res)
	return dec == authz.Allowed
}
