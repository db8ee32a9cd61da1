package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"chancery/internal/audit"
	"chancery/internal/auth"
	"chancery/internal/authz"
	"chancery/internal/demo"
	"chancery/internal/procedures"
	"chancery/internal/store/storetest"
)

// hostileText is what a client may put in any text field or path: each
// either passes or is refused with a 4xx, never a 5xx, and the same on
// SQLite and PostgreSQL (which cannot store NUL in text).
var hostileText = []struct {
	name    string
	s       string
	refused bool // refused at the boundary on every route
}{
	{"NUL", "ab\x00cd", true},
	{"escape", "ab\x1b[2Jcd", true},
	{"CR LF", "ab\r\ncd", false},
	{"bidi override", "ab\u202ecd", true},
	{"zero-width space", "ab\u200bcd", true},
	{"5,000 characters", strings.Repeat("x", 5000), false},
	{"invalid UTF-8", "ab\xffcd", true},
}

// jsonText quotes s for a JSON body, keeping invalid UTF-8 as raw bytes
// (json.Marshal would replace them); the strings above hold no quote or
// backslash.
func jsonText(s string) string {
	if !utf8.ValidString(s) {
		return `"` + s + `"`
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// boundaryStatuses sends every hostile string to a set of representative
// routes of a node on db ("" for SQLite) and returns the statuses by
// route and string.
func boundaryStatuses(t *testing.T, db string) map[string]int {
	cfg := testConfig(t, true)
	cfg.DB = db
	a, srv := MustStart(t, cfg)
	ctx := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("test")})
	h := a.Handler()
	do := func(method, path, token, body string) int {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Errorf("%s %.60q on %s = %d %s", method, path, a.DB.Dialect, rec.Code, rec.Body)
		}
		return rec.Code
	}

	var admin, clerk string
	for _, c := range demoCallers(t, a, srv.URL) {
		switch {
		case strings.HasPrefix(c.name, "consular.clerk "):
			clerk = c.token
		case c.subject.Roles == authz.RolesOf(authz.Administrator):
			admin = c.token // signed in with the second factor administrators need
		}
	}
	if admin == "" || clerk == "" {
		t.Fatal("the demo has no administrator or no consular clerk to try the routes as")
	}
	citizen, err := a.Identity.CitizenByEmail(ctx, "citizen@example.com")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := a.Auth.Login(ctx, auth.LoginRequest{Kind: authz.Citizen, Username: citizen.Email, Password: cfg.DemoPassword})
	if err != nil {
		t.Fatal(err)
	}
	client, err := a.Node.IssueToken(ctx, demo.Clients()[1], "test")
	if err != nil {
		t.Fatal(err)
	}
	root, err := a.Identity.UnitByCode(ctx, "000.00.00.G12")
	if err != nil {
		t.Fatal(err)
	}
	// newDossier submits a fresh, paid dossier for the clerk to receive.
	cctx := audit.WithOrigin(ctx, audit.Origin{Actor: audit.Citizen(citizen.ID, "")})
	newDossier := func(i int) string {
		form := map[string]any{
			"applicant":     map[string]any{"full_name": "Nguyễn Thị Lan", "id_type": "cccd", "id_number": "001188004215", "email": citizen.Email},
			"document_name": "Giấy khai sinh", "issuing_authority": "UBND phường Kim Liên", "issue_date": "1988-03-20",
			"issuing_country": "VN", "copies": 1, "delivery": "counter", "declaration": true,
		}
		d, err := a.Procedures.CreateDraft(cctx, citizen.Subject(), procedures.NewDraft{Procedure: "1.900001", UnitCode: "000.00.03.G12", Form: form})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Procedures.RecordPayment(ctx, procedures.PaymentReport{TransactionID: fmt.Sprintf("T%d", i), OrderID: d.ID, Amount: d.FeeAmount, Currency: d.FeeCurrency, PaidAt: d.CreatedAt}); err != nil {
			t.Fatal(err)
		}
		dossier, err := a.Procedures.SubmitDraft(cctx, citizen.Subject(), d.ID)
		if err != nil {
			t.Fatal(err)
		}
		return dossier.Code
	}

	got := map[string]int{}
	for i, h := range hostileText {
		s := jsonText(h.s)
		got["login username/"+h.name] = do("POST", "/api/v1/auth/login", "", `{"username": `+s+`, "password": "not the password"}`)
		got["dossier action note/"+h.name] = do("POST", "/api/v1/dossiers/"+newDossier(i)+"/actions", clerk, `{"action": "receive", "note": `+s+`}`)
		got["draft id path/"+h.name] = do("GET", "/api/v1/drafts/"+url.PathEscape(h.s), sess.Token, "")
		got["exchange content type/"+h.name] = do("POST", "/api/v1/exchange/messages", client,
			`{"service": "VN/GOV/000.00.00.G12/procedures/dossier-status/v1", "content_type": `+s+`, "payload": "eyJ4IjoxfQ=="}`)
		got["exchange service/"+h.name] = do("POST", "/api/v1/exchange/messages", client, `{"service": `+s+`, "payload": "eyJ4IjoxfQ=="}`)
		got["unit name/"+h.name] = do("POST", "/api/v1/units", admin,
			fmt.Sprintf(`{"code": "000.00.9%d.G12", "name_vi": %s, "name_en": "Test unit", "kind": "department", "parent_id": %d, "country": "VN", "time_zone": "Asia/Ho_Chi_Minh"}`, i, s, root.ID))
	}
	return got
}

// TestHostileTextIsAnsweredTheSameOnBothDatabases sends the same hostile
// strings (NUL, an escape, CR LF, a bidi override, a zero-width space,
// 5,000 characters, invalid UTF-8) to the login, a dossier action's note,
// a draft's id in the path, an exchange message and a unit's name, on
// SQLite and on PostgreSQL: never a 5xx, the same status on both, and the
// characters no text may hold are refused with 400 everywhere.
func TestHostileTextIsAnsweredTheSameOnBothDatabases(t *testing.T) {
	sqlite := boundaryStatuses(t, "")
	for _, h := range hostileText {
		for key, code := range sqlite {
			if strings.HasSuffix(key, "/"+h.name) && h.refused && code != http.StatusBadRequest {
				t.Errorf("%s on SQLite = %d, want 400", key, code)
			}
		}
	}
	postgres := boundaryStatuses(t, storetest.MustPostgresURL(t))
	for key, code := range sqlite {
		if postgres[key] != code {
			t.Errorf("%s = %d on SQLite, %d on PostgreSQL", key, code, postgres[key])
		}
	}
}
