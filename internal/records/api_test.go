package records

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

// apiFixture is the API over a fixture's service, behind the middleware
// that records refusals in the ledger, as the app wires it.
type apiFixture struct {
	*fixture
	h http.Handler
}

func newAPIFixture(t testing.TB, db *store.DB) *apiFixture {
	t.Helper()
	return apiOn(t, newFixture(t, db))
}

// call sends body (JSON unless a string) as sub, signed in with a bearer
// token as the app's middleware would put it.
func (a *apiFixture) call(t testing.TB, sub authz.Subject, method, path string, body any) *httptest.ResponseRecorder {
	t.Helper()
	return a.callThrough(t, a.h, sub, method, path, body)
}

// callThrough is call through the handler h.
func (a *apiFixture) callThrough(t testing.TB, h http.Handler, sub authz.Subject, method, path string, body any) *httptest.ResponseRecorder {
	t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	case url.Values:
		rd = bytes.NewReader([]byte(b.Encode()))
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if _, form := body.(url.Values); form {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	ctx := web.WithPrincipal(a.as(sub), web.Principal{Subject: sub, Stage: "full", Bearer: true})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req.WithContext(ctx))
	return rec
}

func decode[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return v
}

// TestAPIDocumentLifecycle registers, drafts, acts on, searches and
// downloads documents through the API.
func TestAPIDocumentLifecycle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		rec := a.call(t, a.officer, "POST", "/api/v1/documents", map[string]any{
			"direction": "outgoing", "type": "quyet_dinh", "subject": "Quyết định cử cán bộ đi công tác", "classification": "confidential",
			"classification_reason": "mục 4", "urgency": "urgent",
			"content": map[string]any{"filename": "qd.pdf", "media_type": "application/pdf", "data": []byte("%PDF-1.4 x\n%%EOF\n")},
		})
		if rec.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
		doc := decode[map[string]any](t, rec)
		for k, want := range map[string]any{"direction": "outgoing", "type": "quyet_dinh", "classification": "confidential", "urgency": "urgent", "status": "draft"} {
			if doc[k] != want {
				t.Errorf("%s = %v, want %v", k, doc[k], want)
			}
		}
		path := "/api/v1/documents/" + itoa(int64(doc["id"].(float64)))
		for _, step := range []struct {
			sub  authz.Subject
			body map[string]any
		}{
			{a.leader, map[string]any{"action": "approve"}},
			{a.leader, map[string]any{"action": "sign"}},
			{a.clerk, map[string]any{"action": "issue", "org_symbol": "BNG"}},
		} {
			if rec := a.call(t, step.sub, "POST", path+"/actions", step.body); rec.Code != http.StatusOK {
				t.Fatalf("%v: %d %s", step.body, rec.Code, rec.Body)
			}
		}
		v := decode[map[string]any](t, a.call(t, a.officer, "GET", path, nil))
		if v["number"] != "01/QĐ-BNG" || v["status"] != "issued" {
			t.Errorf("after issuance: number %v, status %v", v["number"], v["status"])
		}
		sigs, _ := v["signatures"].([]any)
		if len(sigs) != 2 {
			t.Fatalf("signatures: %v", v["signatures"])
		}
		issuer := sigs[1].(map[string]any)
		body := map[string]any{"statement": issuer["statement"], "key_id": issuer["key_id"], "signature": issuer["signature"]}
		if rec := a.call(t, a.officer, "POST", "/api/v1/documents/signatures/verify", body); rec.Code != http.StatusOK {
			t.Errorf("verify: %d %s", rec.Code, rec.Body)
		}
		body["statement"] = strings.Replace(issuer["statement"].(string), "01/", "02/", 1)
		if rec := a.call(t, a.officer, "POST", "/api/v1/documents/signatures/verify", body); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("verify a forged statement: %d %s, want 422", rec.Code, rec.Body)
		}
		page := decode[apiSearchPage](t, a.call(t, a.officer, "GET", "/api/v1/documents?q=quyet+dinh&direction=outgoing", nil))
		if page.Total != 1 || len(page.Items) != 1 || page.Items[0].Number != "01/QĐ-BNG" {
			t.Errorf("search: %+v", page)
		}
		rec = a.call(t, a.officer, "GET", path+"/content", nil)
		if rec.Code != http.StatusOK || rec.Body.String() != "%PDF-1.4 x\n%%EOF\n" || rec.Header().Get("X-Content-Type-Options") != "nosniff" ||
			!strings.HasPrefix(rec.Header().Get("Content-Disposition"), "attachment") {
			t.Errorf("content: %d %q %v", rec.Code, rec.Body, rec.Header())
		}
	})
}

// TestAPIConcealment pins that every route answers a document the caller
// may not know of exactly as a missing one (status and body, but for the
// id), and that the refusal is in the ledger with the document's level.
func TestAPIConcealment(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		secret := a.incoming(t, "Công điện tối mật", authz.Secret, &Content{Filename: "a.pdf", MediaType: "application/pdf", Data: []byte("x")})
		hidden, missing := itoa(secret.ID), "999999"
		for _, route := range []struct{ method, suffix string }{{"GET", ""}, {"GET", "/content"}, {"POST", "/actions"}} {
			for name, sub := range map[string]authz.Subject{"low clearance": a.lowOfficer, "other unit": a.office} {
				var body any
				if route.method == "POST" {
					body = map[string]any{"action": "comment", "note": "x"}
				}
				got := a.call(t, sub, route.method, "/api/v1/documents/"+hidden+route.suffix, body)
				want := a.call(t, sub, route.method, "/api/v1/documents/"+missing+route.suffix, body)
				if got.Code != http.StatusNotFound || want.Code != http.StatusNotFound {
					t.Fatalf("%s %s%s: %d and %d, want 404 for both", name, route.method, route.suffix, got.Code, want.Code)
				}
				g, w := decode[web.ProblemDetails](t, got), decode[web.ProblemDetails](t, want)
				g.Instance, w.Instance = "", ""
				g.Detail = strings.ReplaceAll(g.Detail, "document "+hidden, "document N")
				w.Detail = strings.ReplaceAll(w.Detail, "document "+missing, "document N")
				g.RequestID, w.RequestID = "", ""
				if !reflect.DeepEqual(g, w) {
					t.Errorf("%s %s%s: bodies differ:\n%+v\n%+v", name, route.method, route.suffix, g, w)
				}
			}
		}
		if _, err := a.ledger.Integrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		es, err := a.ledger.Search(context.Background(), audit.Query{Action: audit.DeniedAction, ResourceID: hidden})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			t.Fatal("no refusal of the secret document in the ledger")
		}
		for _, e := range es {
			if e.Level != authz.Secret {
				t.Errorf("refusal recorded at %s, want secret: %+v", e.Level, e)
			}
		}
	})
}

// TestAPIRefusesBadInput pins clear 400s, nothing stored.
func TestAPIRefusesBadInput(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		for name, tc := range map[string]struct {
			method, path string
			body         any
		}{
			"unknown field":       {"POST", "/api/v1/documents", map[string]any{"direction": "outgoing", "type": "bao_cao", "subject": "x", "extra": 1}},
			"NUL in the subject":  {"POST", "/api/v1/documents", map[string]any{"direction": "outgoing", "type": "bao_cao", "subject": "a\x00b"}},
			"bidi in the subject": {"POST", "/api/v1/documents", map[string]any{"direction": "outgoing", "type": "bao_cao", "subject": "a\u202eb"}},
			"unknown type":        {"POST", "/api/v1/documents", map[string]any{"direction": "outgoing", "type": "memo", "subject": "x"}},
			"unknown level":       {"POST", "/api/v1/documents", map[string]any{"direction": "outgoing", "type": "bao_cao", "subject": "x", "classification": "cosmic"}},
			"no direction":        {"POST", "/api/v1/documents", map[string]any{"type": "bao_cao", "subject": "x"}},
			"above clearance":     {"POST", "/api/v1/documents", map[string]any{"direction": "incoming", "type": "bao_cao", "subject": "x", "sender": "BNG", "classification": "top_secret", "classification_reason": "x"}},
			"not JSON":            {"POST", "/api/v1/documents", "direction=outgoing"},
			"bad id":              {"GET", "/api/v1/documents/abc", nil},
			"negative id":         {"GET", "/api/v1/documents/-1", nil},
			"unknown action":      {"POST", "/api/v1/documents/1/actions", map[string]any{"action": "burn"}},
			"bad limit":           {"GET", "/api/v1/documents?limit=100000", nil},
			"CR LF in the query":  {"GET", "/api/v1/documents?q=a%0D%0Ab", nil},
			"bad media type": {"POST", "/api/v1/documents", map[string]any{"direction": "outgoing", "type": "bao_cao", "subject": "x",
				"content": map[string]any{"filename": "a.pdf", "media_type": "pdf; x", "data": []byte("x")}}},
			"CR LF in the filename": {"POST", "/api/v1/documents", map[string]any{"direction": "outgoing", "type": "bao_cao", "subject": "x",
				"content": map[string]any{"filename": "a.pdf\r\nX-Evil: 1", "media_type": "application/pdf", "data": []byte("x")}}},
			"empty file": {"POST", "/api/v1/documents", map[string]any{"direction": "outgoing", "type": "bao_cao", "subject": "x",
				"content": map[string]any{"filename": "a.pdf", "media_type": "application/pdf", "data": []byte{}}}},
			"outgoing with number": {"POST", "/api/v1/documents", map[string]any{"direction": "outgoing", "type": "bao_cao", "subject": "x", "number": "1/BC-BNG"}},
		} {
			sub := a.officer
			if name == "above clearance" {
				sub = a.lowOfficer
			}
			rec := a.call(t, sub, tc.method, tc.path, tc.body)
			if rec.Code != http.StatusBadRequest || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
				t.Errorf("%s: %d %s, want a 400 problem", name, rec.Code, rec.Body)
			}
		}
		var n int
		if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM record_documents`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d documents stored (%v), want none", n, err)
		}
	})
}

// TestAPIRegistersAndCaseFiles pins the registers (in number order, the
// classified series apart and shown only within clearance, another unit's
// hidden) and case files through the API.
func TestAPIRegistersAndCaseFiles(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		first := a.incoming(t, "Công điện một", authz.Unclassified, nil)
		second := a.incoming(t, "Công điện hai", authz.Unclassified, nil)
		secret := a.incoming(t, "Công điện mật", authz.Secret, nil)
		page := decode[web.List[*Document]](t, a.call(t, a.clerk, "GET", "/api/v1/registers/incoming?year=2026&limit=1", nil))
		if len(page.Items) != 1 || page.Items[0].ID != first.ID || page.Next != "1" {
			t.Fatalf("first page: %+v", page)
		}
		page = decode[web.List[*Document]](t, a.call(t, a.clerk, "GET", "/api/v1/registers/incoming?year=2026&after=1", nil))
		if len(page.Items) != 1 || page.Items[0].ID != second.ID || page.Next != "" {
			t.Fatalf("second page: %+v", page)
		}
		page = decode[web.List[*Document]](t, a.call(t, a.clerk, "GET", "/api/v1/registers/incoming?year=2026&secret=true", nil))
		if len(page.Items) != 1 || page.Items[0].ID != secret.ID || page.Items[0].RegisterNumber != 1 {
			t.Fatalf("secret series: %+v", page)
		}
		// The shared flag rule (web.ParseBool): "on" as a checkbox sends it,
		// and a word that is no flag is refused, not read as false.
		page = decode[web.List[*Document]](t, a.call(t, a.clerk, "GET", "/api/v1/registers/incoming?year=2026&secret=on", nil))
		if len(page.Items) != 1 || page.Items[0].ID != secret.ID {
			t.Errorf("secret=on: %+v", page)
		}
		if rec := a.call(t, a.clerk, "GET", "/api/v1/registers/incoming?year=2026&secret=maybe", nil); rec.Code != http.StatusBadRequest {
			t.Errorf("secret=maybe: %d %s, want 400", rec.Code, rec.Body)
		}
		// An empty register is an empty array, as every list is.
		if rec := a.call(t, a.clerk, "GET", "/api/v1/registers/incoming?year=2025", nil); !strings.Contains(rec.Body.String(), `"items":[]`) {
			t.Errorf("an empty register: %s, want items []", rec.Body)
		}
		low := a.lowOfficer // a clerk too, cleared confidential
		if page := decode[web.List[*Document]](t, a.call(t, low, "GET", "/api/v1/registers/incoming?year=2026&secret=true", nil)); len(page.Items) != 0 {
			t.Errorf("the secret series shows a low-cleared clerk %+v", page.Items)
		}
		other := "/api/v1/registers/incoming?year=2026&unit=" + itoa(a.clerk.Unit)
		if rec := a.call(t, a.office, "GET", other, nil); rec.Code != http.StatusNotFound {
			t.Errorf("another unit's register: %d %s, want 404", rec.Code, rec.Body)
		}
		if rec := a.call(t, a.clerk, "GET", "/api/v1/registers/sideways", nil); rec.Code != http.StatusBadRequest {
			t.Errorf("an unknown register: %d, want 400", rec.Code)
		}

		rec := a.call(t, a.officer, "POST", "/api/v1/case-files", map[string]any{"year": 2026, "code": "LS.07", "title": "Hồ sơ đoàn ra", "retention_years": 10})
		if rec.Code != http.StatusCreated {
			t.Fatalf("create case file: %d %s", rec.Code, rec.Body)
		}
		cf := decode[CaseFile](t, rec)
		if rec := a.call(t, a.officer, "POST", "/api/v1/documents/"+itoa(first.ID)+"/actions", map[string]any{"action": "file", "case_file_id": cf.ID}); rec.Code != http.StatusOK {
			t.Fatalf("file: %d %s", rec.Code, rec.Body)
		}
		got := decode[CaseFile](t, a.call(t, a.officer, "GET", "/api/v1/case-files/"+itoa(cf.ID), nil))
		if len(got.Documents) != 1 || got.Documents[0] != first.ID || got.RetentionYears != 10 {
			t.Errorf("case file: %+v", got)
		}
		if rec := a.call(t, a.office, "GET", "/api/v1/case-files/"+itoa(cf.ID), nil); rec.Code != http.StatusNotFound {
			t.Errorf("another unit's case file: %d, want 404", rec.Code)
		}
		closed := decode[CaseFile](t, a.call(t, a.officer, "POST", "/api/v1/case-files/"+itoa(cf.ID)+"/close", nil))
		if closed.ClosedAt.IsZero() {
			t.Errorf("closed case file: %+v", closed)
		}
	})
}
