package registry_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/exchange"
	"chancery/internal/exchange/registry"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// server is a registry behind its handlers, at headquarters or, with no
// registry, at a mission holding the same configuration.
type server struct {
	*fixture
	rt    *web.Router
	shell *web.Shell
}

// principals the tests act as.
var (
	admin = web.Principal{Subject: authz.Subject{Kind: authz.Staff, ID: 1, Unit: 1, Roles: authz.RolesOf(authz.Administrator)},
		Username: "admin", Name: "Nguyễn Văn Quản", Stage: "full"}
	clerk = web.Principal{Subject: authz.Subject{Kind: authz.Staff, ID: 2, Unit: 2, Roles: authz.RolesOf(authz.Clerk)},
		Username: "clerk", Name: "Đặng Thị Nhung", Stage: "full"}
	nobody = web.Principal{}
)

// newServer returns headquarters' handlers on f's registry, or a
// mission's (no registry) on the same configuration.
func newServer(t testing.TB, f *fixture, atHQ bool) *server {
	t.Helper()
	opts := registry.HandlerOptions{Conf: func() *exchange.GlobalConf { return f.conf(t) }, Now: f.clock.Now, JoinURL: "https://hq.example"}
	if atHQ {
		opts.Registry = f.reg
	}
	shell := webtest.Shell(t, registry.Texts(), exchange.Texts(), identity.Texts())
	h, err := registry.NewHandler(shell, opts)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{fixture: f, rt: web.NewRouter(), shell: shell}
	h.Register(s.rt)
	return s
}

// do serves one request as p, with the audit origin the server's
// middleware gives it.
func (s *server) do(p web.Principal, method, path, contentType, body string) *httptest.ResponseRecorder {
	return webtest.Serve(s.shell, audit.RequestOrigin(s.rt), p, webtest.Request(method, path, contentType, body))
}

func (s *server) json(p web.Principal, method, path, body string) *httptest.ResponseRecorder {
	return s.do(p, method, path, "application/json", body)
}

func (s *server) form(p web.Principal, path string, v url.Values) *httptest.ResponseRecorder {
	return s.do(p, http.MethodPost, path, "application/x-www-form-urlencoded", v.Encode())
}

// decodeOK decodes a JSON answer of status into v.
func decodeOK(t testing.TB, w *httptest.ResponseRecorder, status int, v any) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		t.Fatalf("decode %s: %v", w.Body, err)
	}
}

// catalogueEntry is a service as the API answers it.
type catalogueEntry struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Title    string `json:"title"`
	OpenAPI  string `json:"openapi"`
	MaxLevel string `json:"max_level"`
	Provider struct {
		Member string `json:"member"`
		NameVI string `json:"name_vi"`
		Node   string `json:"node"`
	} `json:"provider"`
	Clients []string `json:"clients"`
}

func TestAPICatalogueListsAndFindsServicesForAnyStaff(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.mustBasics(t)
		s := newServer(t, f, true)
		var page struct {
			Items []catalogueEntry `json:"items"`
			Next  string           `json:"next"`
		}
		decodeOK(t, s.json(clerk, "GET", "/api/v1/exchange/services", ""), http.StatusOK, &page)
		if len(page.Items) != 2 || page.Items[0].ID != lookup.String() || page.Items[1].ID != report.String() {
			t.Fatalf("catalogue = %+v, want the two services by id", page.Items)
		}
		if e := page.Items[0]; e.OpenAPI != "" || e.Provider.NameVI != "Bộ Công an" || e.Provider.Node != "hq" || e.Kind != "rest" {
			t.Errorf("list entry = %+v, want the provider named and no OpenAPI document", e)
		}
		decodeOK(t, s.json(clerk, "GET", "/api/v1/exchange/services?q=bao+cao&kind=async", ""), http.StatusOK, &page)
		if len(page.Items) != 1 || page.Items[0].ID != report.String() {
			t.Fatalf("search = %+v", page.Items)
		}
		if _, err := f.reg.Grant(testCtx, lookup, clientID(ministry, "procedures")); err != nil {
			t.Fatal(err)
		}
		var one catalogueEntry
		decodeOK(t, s.json(clerk, "GET", "/api/v1/exchange/services/"+lookup.String(), ""), http.StatusOK, &one)
		if one.OpenAPI != openAPIDoc || len(one.Clients) != 1 || one.Clients[0] != "VN/GOV/"+ministry+"/procedures" {
			t.Fatalf("service = %+v, want its OpenAPI document and its one client", one)
		}
		webtest.Problem(t, s.json(nobody, "GET", "/api/v1/exchange/services", ""), http.StatusUnauthorized)
	})
}

func TestAPIRefusesBadInputWithProblems(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.mustBasics(t)
		if _, err := f.reg.Grant(testCtx, lookup, clientID(ministry, "procedures")); err != nil {
			t.Fatal(err)
		}
		s := newServer(t, f, true)
		newService := `{"id": "VN/GOV/000.00.00.G02/population/address-lookup/v1", "kind": "async", "title": "Địa chỉ"}`
		tests := []struct {
			name         string
			who          web.Principal
			method, path string
			body         string
			status       int
			field        string
		}{
			{"unknown field", admin, "POST", "/api/v1/exchange/services", `{"id": "VN/GOV/a/b/c", "kind": "async", "title": "x", "owner": "me"}`, 400, "owner"},
			{"malformed JSON", admin, "POST", "/api/v1/exchange/services", `{"id": `, 400, ""},
			{"bad service id in body", admin, "POST", "/api/v1/exchange/services", `{"id": "VN/GOV/only-three", "kind": "async", "title": "x"}`, 400, "id"},
			{"bad level", admin, "POST", "/api/v1/exchange/services", `{"id": "VN/GOV/000.00.00.G02/population/x", "kind": "async", "title": "x", "max_level": "cosmic"}`, 400, "max_level"},
			{"duplicate service", admin, "POST", "/api/v1/exchange/services", `{"id": "` + report.String() + `", "kind": "async", "title": "x"}`, 409, ""},
			{"bad id in path", clerk, "GET", "/api/v1/exchange/services/VN/GOV/x", "", 400, "service"},
			{"unknown service", clerk, "GET", "/api/v1/exchange/services/VN/GOV/000.00.00.G02/population/none/v1", "", 404, ""},
			{"patch unknown service", admin, "PATCH", "/api/v1/exchange/services/VN/GOV/000.00.00.G02/population/none/v1", `{"title": "x"}`, 404, ""},
			{"patch unknown field", admin, "PATCH", "/api/v1/exchange/services/" + lookup.String(), `{"kind": "async"}`, 400, "kind"},
			{"delete unknown service", admin, "DELETE", "/api/v1/exchange/services/VN/GOV/000.00.00.G02/population/none/v1", "", 404, ""},
			{"duplicate subsystem", admin, "POST", "/api/v1/exchange/subsystems", `{"member": "` + paris + `", "code": "consular", "title": "x"}`, 409, ""},
			{"subsystem of unknown member", admin, "POST", "/api/v1/exchange/subsystems", `{"member": "999.99.99.Z99", "code": "x", "title": "x"}`, 400, "member"},
			{"duplicate right", admin, "POST", "/api/v1/exchange/rights", `{"service": "` + lookup.String() + `", "client": "VN/GOV/` + ministry + `/procedures"}`, 409, ""},
			{"right with bad client", admin, "POST", "/api/v1/exchange/rights", `{"service": "` + lookup.String() + `", "client": "procedures"}`, 400, "client"},
			{"revoke a right not in force", admin, "DELETE", "/api/v1/exchange/rights", `{"service": "` + lookup.String() + `", "client": "VN/GOV/` + paris + `/consular"}`, 404, ""},
			{"revoke unknown node", admin, "POST", "/api/v1/exchange/nodes/mission-x/revoke", `{"reason": "lost"}`, 404, ""},
			{"revoke headquarters", admin, "POST", "/api/v1/exchange/nodes/hq/revoke", `{"reason": "lost"}`, 400, "id"},
			{"enrol an agency", admin, "POST", "/api/v1/exchange/enrolments", `{"member": "` + population + `"}`, 400, "member"},
			{"clerk registers", clerk, "POST", "/api/v1/exchange/services", newService, 403, ""},
			{"clerk grants", clerk, "POST", "/api/v1/exchange/rights", `{}`, 403, ""},
			{"clerk lists nodes", clerk, "GET", "/api/v1/exchange/nodes", "", 403, ""},
			{"clerk issues a token", clerk, "POST", "/api/v1/exchange/enrolments", `{"member": "` + paris + `"}`, 403, ""},
		}
		before := f.conf(t).Serial
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := webtest.Problem(t, s.json(tt.who, tt.method, tt.path, tt.body), tt.status)
				if tt.field != "" && p.Errors[tt.field] == "" {
					t.Errorf("problem %+v does not name field %q", p, tt.field)
				}
			})
		}
		if after := f.conf(t).Serial; after != before {
			t.Errorf("refused requests published configuration %d (was %d)", after, before)
		}
	})
}

func TestAPIServiceLifecycle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.mustBasics(t)
		s := newServer(t, f, true)
		id := "VN/GOV/000.00.00.G02/population/address-lookup/v1"
		body := fmt.Sprintf(`{"id": %q, "kind": "rest", "title": "Tra cứu địa chỉ", "backend": "https://population.example/api", "openapi": %q, "max_level": "none"}`, id, openAPIDoc)
		w := s.json(admin, "POST", "/api/v1/exchange/services", body)
		var created exchange.Service
		decodeOK(t, w, http.StatusCreated, &created)
		if w.Header().Get("Location") != "/api/v1/exchange/services/"+id || created.ID.String() != id {
			t.Fatalf("created %+v at %q", created, w.Header().Get("Location"))
		}
		var got catalogueEntry
		decodeOK(t, s.json(clerk, "GET", "/api/v1/exchange/services/"+id, ""), http.StatusOK, &got)
		if got.Title != "Tra cứu địa chỉ" || got.Provider.Member != population {
			t.Fatalf("catalogue shows %+v", got)
		}
		var updated exchange.Service
		decodeOK(t, s.json(admin, "PATCH", "/api/v1/exchange/services/"+id, `{"title": "Tra cứu địa chỉ thường trú"}`), http.StatusOK, &updated)
		if updated.Title != "Tra cứu địa chỉ thường trú" || updated.Backend != "https://population.example/api" {
			t.Fatalf("updated %+v", updated)
		}
		client := `{"service": "` + id + `", "client": "VN/GOV/` + ministry + `/procedures"}`
		var g registry.Grant
		decodeOK(t, s.json(admin, "POST", "/api/v1/exchange/rights", client), http.StatusCreated, &g)
		if g.GrantedBy != "admin" {
			t.Errorf("granted by %q, want the administrator's username", g.GrantedBy)
		}
		var rights struct{ Items []registry.Grant }
		decodeOK(t, s.json(clerk, "GET", "/api/v1/exchange/rights?service="+url.QueryEscape(id), ""), http.StatusOK, &rights)
		if len(rights.Items) != 1 || !rights.Items[0].Active() {
			t.Fatalf("rights = %+v", rights.Items)
		}
		if w := s.json(admin, "DELETE", "/api/v1/exchange/rights", client); w.Code != http.StatusNoContent {
			t.Fatalf("revoke: %d %s", w.Code, w.Body)
		}
		if w := s.json(admin, "DELETE", "/api/v1/exchange/services/"+id, ""); w.Code != http.StatusNoContent {
			t.Fatalf("delete: %d %s", w.Code, w.Body)
		}
		webtest.Problem(t, s.json(clerk, "GET", "/api/v1/exchange/services/"+id, ""), http.StatusNotFound)

		var subs struct{ Items []exchange.Subsystem }
		decodeOK(t, s.json(admin, "POST", "/api/v1/exchange/subsystems", `{"member": "`+tokyo+`", "code": "consular", "title": "Lãnh sự Tokyo", "clearance": "confidential"}`), http.StatusCreated, new(exchange.Subsystem))
		decodeOK(t, s.json(clerk, "GET", "/api/v1/exchange/subsystems?member="+tokyo, ""), http.StatusOK, &subs)
		if len(subs.Items) != 1 || subs.Items[0].Clearance != authz.Confidential {
			t.Fatalf("Tokyo's subsystems = %+v", subs.Items)
		}
	})
}

// enrolBody is an enrolment request with fresh keys.
func enrolBody(t testing.TB, token string) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"token": token, "signing_key": pub, "encryption_key": kemKey(t)})
	return string(b)
}

func TestAPIEnrolsAMissionNodeWithAOneTimeToken(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		// HTML characters and a line separator, which JSON encoders may
		// escape, must reach the mission as they were signed.
		f.mustSubsystem(t, consular, "consular", 0)
		if _, err := f.reg.CreateService(testCtx, registry.NewService{ID: report, Kind: exchange.KindAsync,
			Title: "Báo cáo <b>quý</b> & năm", Description: "dòng 1\u2028dòng 2 'x' \"y\""}); err != nil {
			t.Fatal(err)
		}
		s := newServer(t, f, true)
		var issued struct {
			Token, Command string
		}
		decodeOK(t, s.json(admin, "POST", "/api/v1/exchange/enrolments", `{"member": "`+paris+`"}`), http.StatusCreated, &issued)
		if issued.Command != "chancery serve --role mission --join https://hq.example --token "+issued.Token {
			t.Fatalf("command = %q", issued.Command)
		}
		var res exchange.EnrolResponse
		decodeOK(t, s.json(nobody, "POST", "/exchange/v1/enrol", enrolBody(t, issued.Token)), http.StatusOK, &res)
		if latest, _ := f.reg.Latest(testCtx); !bytes.Equal(res.Conf, latest) {
			t.Fatalf("the configuration sent is not the bytes headquarters signed:\n%s\n%s", res.Conf, latest)
		}
		c, err := exchange.ParseConf(res.Conf, f.ring.PublicKey())
		if err != nil {
			t.Fatalf("the configuration sent does not verify: %v", err)
		}
		if _, ok := c.Node(res.NodeID); !ok || res.LeafURLs[0] != "nats-leaf://hq.example:7422" {
			t.Fatalf("enrolled %q with leaf URLs %v; configuration nodes %+v", res.NodeID, res.LeafURLs, c.Nodes)
		}
		if p := webtest.Problem(t, s.json(nobody, "POST", "/exchange/v1/enrol", enrolBody(t, issued.Token)), http.StatusConflict); p.Code != "enrolment_used" {
			t.Errorf("used token: code %q", p.Code)
		}
		if p := webtest.Problem(t, s.json(nobody, "POST", "/exchange/v1/enrol", enrolBody(t, "AAAA."+f.ring.Signer().KeyID())), http.StatusUnauthorized); p.Code != "enrolment_unknown" {
			t.Errorf("wrong token: code %q", p.Code)
		}
		decodeOK(t, s.json(admin, "POST", "/api/v1/exchange/enrolments", `{"member": "`+tokyo+`"}`), http.StatusCreated, &issued)
		f.clock.Advance(registry.DefaultEnrolmentValidity)
		if p := webtest.Problem(t, s.json(nobody, "POST", "/exchange/v1/enrol", enrolBody(t, issued.Token)), http.StatusGone); p.Code != "enrolment_expired" {
			t.Errorf("expired token: code %q", p.Code)
		}
		webtest.Problem(t, s.json(nobody, "POST", "/exchange/v1/enrol", `{"token": "x", "signing_key": "not base64!"}`), http.StatusBadRequest)

		var nodes struct {
			Items []struct {
				ID            string `json:"id"`
				Role          string `json:"role"`
				Revoked       string `json:"revoked"`
				RevokedReason string `json:"revoked_reason"`
			}
		}
		if w := s.json(admin, "POST", "/api/v1/exchange/nodes/"+res.NodeID+"/revoke", `{"reason": "mất máy chủ"}`); w.Code != http.StatusNoContent {
			t.Fatalf("revoke: %d %s", w.Code, w.Body)
		}
		decodeOK(t, s.json(admin, "GET", "/api/v1/exchange/nodes", ""), http.StatusOK, &nodes)
		if len(nodes.Items) != 2 || nodes.Items[0].Role != "hq" || nodes.Items[1].RevokedReason != "mất máy chủ" || nodes.Items[1].Revoked == "" {
			t.Fatalf("nodes = %+v", nodes.Items)
		}
	})
}

func TestMissionNodeServesTheCatalogueReadOnly(t *testing.T) {
	f := newFixture(t, storetest.MustOpen(t, store.SQLite))
	f.mustBasics(t)
	s := newServer(t, f, false)
	var page struct{ Items []catalogueEntry }
	decodeOK(t, s.json(clerk, "GET", "/api/v1/exchange/services", ""), http.StatusOK, &page)
	if len(page.Items) != 2 {
		t.Fatalf("the mission's catalogue lists %d services, want 2", len(page.Items))
	}
	for _, req := range []struct{ method, path, body string }{
		{"POST", "/api/v1/exchange/services", `{}`},
		{"DELETE", "/api/v1/exchange/services/" + lookup.String(), ""},
		{"POST", "/api/v1/exchange/enrolments", `{"member": "` + paris + `"}`},
		{"POST", "/exchange/v1/enrol", `{}`},
	} {
		if p := webtest.Problem(t, s.json(admin, req.method, req.path, req.body), http.StatusConflict); p.Code != "managed_at_headquarters" {
			t.Errorf("%s %s: code %q", req.method, req.path, p.Code)
		}
	}
	w := s.do(admin, "GET", "/console/exchange/services", "", "")
	webtest.PageHas(t, w, http.StatusOK, "sổ đăng ký được quản lý tại trụ sở chính", "Tra cứu công dân")
	if strings.Contains(w.Body.String(), "/console/exchange/services/new") {
		t.Error("the mission's catalogue offers to register a service")
	}
	webtest.PageHas(t, s.do(admin, "GET", "/console/exchange/services/new", "", ""), http.StatusOK, "sổ đăng ký được quản lý tại trụ sở chính")
	if w := s.form(admin, "/console/exchange/subsystems", url.Values{"member": {paris}}); w.Code != http.StatusConflict {
		t.Errorf("a form posted to a mission: %d", w.Code)
	}
}

// TestBackendURLsAreShownToServiceAdministratorsOnly pins issue 10 item
// 17: every staff member saw the backend URL of every service, the
// address of a provider's system inside its network. Now the catalogue,
// the service API and the service's page show it only to those authz
// lets administer services; the others see the service without it.
func TestBackendURLsAreShownToServiceAdministratorsOnly(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.mustBasics(t)
		s := newServer(t, f, true)
		const backend = "http://127.0.0.1:9999/api"
		for _, path := range []string{"/api/v1/exchange/services", "/api/v1/exchange/services/" + lookup.String(), "/console/exchange/services/" + lookup.String()} {
			if w := s.do(clerk, "GET", path, "", ""); w.Code != http.StatusOK || strings.Contains(w.Body.String(), backend) || strings.Contains(w.Body.String(), `"backend"`) {
				t.Errorf("a clerk's %s = %d and shows the backend:\n%s", path, w.Code, w.Body)
			}
			if w := s.do(admin, "GET", path, "", ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), backend) {
				t.Errorf("an administrator's %s = %d without the backend", path, w.Code)
			}
		}
	})
}
