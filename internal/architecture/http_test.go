package architecture

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"chancery/internal/architecture/archimate"
	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

type server struct {
	f     *fixture
	shell *web.Shell
	h     http.Handler
}

func mustServer(t *testing.T, db *store.DB) *server {
	t.Helper()
	f := mustService(t, db)
	shell := webtest.Shell(t, Texts())
	h, err := NewHandler(shell, f.svc)
	if err != nil {
		t.Fatal(err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	return &server{f: f, shell: shell, h: audit.RequestOrigin(rt)}
}

func principal(sub authz.Subject) web.Principal {
	return web.Principal{Subject: sub, Username: "staff", Stage: "full", Bearer: true}
}

func (s *server) do(sub authz.Subject, method, target, ct, body string) *httptest.ResponseRecorder {
	return webtest.Serve(s.shell, s.h, principal(sub), webtest.Request(method, target, ct, body))
}

// page asks for a console page as sub, in a browser session.
func (s *server) page(sub authz.Subject, target string) *httptest.ResponseRecorder {
	return webtest.Get(s.shell, s.h, web.Principal{Subject: sub, Username: "u", Stage: "full"}, target)
}

func TestTheAPIImportsExportsAndRefuses(t *testing.T) {
	sample, err := os.ReadFile("archimate/testdata/sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := mustServer(t, db)
		webtest.Problem(t, s.do(clerk, "POST", "/api/v1/architecture/import", "application/xml", string(sample)), http.StatusForbidden)
		webtest.Problem(t, s.do(architect, "POST", "/api/v1/architecture/import", "application/json", string(sample)), http.StatusBadRequest)
		dtd := strings.Replace(string(sample), "<model", "<!DOCTYPE model [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><model", 1)
		if p := webtest.Problem(t, s.do(architect, "POST", "/api/v1/architecture/import", "application/xml", dtd), http.StatusBadRequest); !strings.Contains(p.Detail, "DTD") {
			t.Errorf("the DTD's refusal says %q", p.Detail)
		}
		w := s.do(architect, "POST", "/api/v1/architecture/import", "application/xml", string(sample))
		webtest.PageHas(t, w, http.StatusOK, `"created":10`)

		w = s.do(clerk, "GET", "/api/v1/architecture/export", "", "")
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/xml") {
			t.Fatalf("export: %d %s", w.Code, w.Body)
		}
		if _, err := archimate.Decode(bytes.NewReader(w.Body.Bytes()), archimate.Limits{}); err != nil {
			t.Fatalf("the export does not decode: %v", err)
		}
		webtest.PageHas(t, s.do(clerk, "GET", "/api/v1/architecture/elements?q=portal", "", ""), http.StatusOK, `"id":"id-portal"`)
		webtest.PageHas(t, s.do(clerk, "GET", "/api/v1/architecture/elements/id-portal", "", ""), http.StatusOK, `"relationships":[{`)
		webtest.Problem(t, s.do(clerk, "GET", "/api/v1/architecture/elements/id-none", "", ""), http.StatusNotFound)
		webtest.Problem(t, s.do(clerk, "GET", "/api/v1/architecture/snapshot?as_of=yesterday", "", ""), http.StatusBadRequest)
		webtest.PageHas(t, s.do(clerk, "GET", "/api/v1/architecture/snapshot?as_of=2026-01-13", "", ""), http.StatusOK, `"id-portal"`)
		webtest.PageHas(t, s.do(clerk, "GET", "/api/v1/architecture/snapshot?as_of=2000-01-01", "", ""), http.StatusOK, `"elements":[]`)
		webtest.PageHas(t, s.do(clerk, "GET", "/api/v1/architecture/history", "", ""), http.StatusOK, `"op":"create"`)

		svg := s.do(clerk, "GET", "/api/v1/architecture/views/id-view/svg", "", "")
		webtest.PageHas(t, svg, http.StatusOK, "<svg", "A note &lt;script&gt;")
		if svg.Header().Get("Content-Type") != "image/svg+xml" {
			t.Errorf("SVG served as %q", svg.Header().Get("Content-Type"))
		}

		body := `{"id":"id-x","type":"Node","name":[{"lang":"vi","text":"Máy chủ"}]}`
		webtest.Problem(t, s.do(clerk, "POST", "/api/v1/architecture/elements", "application/json", body), http.StatusForbidden)
		webtest.PageHas(t, s.do(architect, "POST", "/api/v1/architecture/elements", "application/json", body), http.StatusCreated, `"version":1`)
		webtest.Problem(t, s.do(architect, "POST", "/api/v1/architecture/elements", "application/json", body), http.StatusConflict)
		webtest.Problem(t, s.do(architect, "PUT", "/api/v1/architecture/elements/id-y", "application/json", body), http.StatusBadRequest)
		webtest.Problem(t, s.do(architect, "POST", "/api/v1/architecture/elements", "application/json", `{"id":"id-z","type":"Node","name":[{"text":"a\u0000b"}]}`), http.StatusBadRequest)
		webtest.Problem(t, s.do(architect, "POST", "/api/v1/architecture/elements", "application/json", `{"id":"id-z","bogus":1}`), http.StatusBadRequest)
		rel := `{"id":"id-rx","type":"Composition","source":"id-x","target":"id-portal"}`
		if p := webtest.Problem(t, s.do(architect, "POST", "/api/v1/architecture/relationships", "application/json", rel), http.StatusBadRequest); !strings.Contains(p.Detail, "Appendix B") {
			t.Errorf("a forbidden relationship's refusal says %q", p.Detail)
		}
		webtest.Problem(t, s.do(architect, "DELETE", "/api/v1/architecture/elements/id-x?version=9", "", ""), http.StatusConflict)
		if w := s.do(architect, "DELETE", "/api/v1/architecture/elements/id-x?version=1", "", ""); w.Code != http.StatusNoContent {
			t.Fatalf("delete: %d %s", w.Code, w.Body)
		}
	})
}

func TestThePagesBrowseShowAndEdit(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := mustServer(t, db)
		s.f.mustDemo(t)
		page := s.page
		webtest.PageHas(t, page(clerk, "/console/architecture?q=lanh+su"), http.StatusOK, "Hệ thống quản lý hộ chiếu và công tác lãnh sự")
		w := page(clerk, "/console/architecture/elements/mofa-lgsp")
		webtest.PageHas(t, w, http.StatusOK, "Nền tảng tích hợp, chia sẻ dữ liệu quốc gia (NDXP)", "Cục Cơ yếu")
		if strings.Contains(w.Body.String(), `action="/console/architecture/elements"`) {
			t.Error("a clerk is offered the edit form")
		}
		webtest.PageHas(t, page(architect, "/console/architecture/elements/mofa-lgsp"), http.StatusOK, `action="/console/architecture/elements"`)
		webtest.PageHas(t, page(clerk, "/console/architecture/views/mofa-view-overview"), http.StatusOK, "<svg", "Cổng Dịch vụ công")
		webtest.PageHas(t, page(clerk, "/console/architecture/history"), http.StatusOK, "staff:7")
		if w := page(clerk, "/console/architecture/new"); w.Code != http.StatusForbidden {
			t.Errorf("a clerk reached the new element form: %d", w.Code)
		}

		post := func(target string, form url.Values) *httptest.ResponseRecorder {
			r := webtest.Request("POST", target, "application/x-www-form-urlencoded", form.Encode())
			return webtest.Serve(s.shell, s.h, principal(architect), r)
		}
		form := url.Values{"version": {"0"}, "id": {"mofa-new"}, "type": {"ApplicationComponent"}, "name_vi": {"Hệ thống mới"}, "owner": {"000.00.04.G12"}, "run": {"2026-01-01"}}
		w = post("/console/architecture/elements", form)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("create by form: %d %s", w.Code, w.Body)
		}
		// The page it leads to says what was saved, in the reader's language.
		webtest.PageHas(t, page(architect, w.Header().Get("Location")), http.StatusOK, `<p class="flash" role="status">Đã lưu thành phần «Hệ thống mới».</p>`)
		webtest.PageHas(t, page(architect, w.Header().Get("Location")+"&lang=en"), http.StatusOK, `<p class="flash" role="status">Element «Hệ thống mới» saved.</p>`)
		// A crafted link names no action the page knows: the general flash.
		webtest.PageHas(t, page(architect, "/console/architecture/elements/mofa-new?flash=architecture.flash.saved&done=hacked"), http.StatusOK,
			`<p class="flash" role="status">Đã lưu.</p>`)
		form.Set("owner", "nowhere")
		form.Set("id", "mofa-new2")
		webtest.PageHas(t, post("/console/architecture/elements", form), http.StatusUnprocessableEntity, "nowhere")
		bad := url.Values{"source": {"mofa-new"}, "type": {"Composition"}, "target": {"mofa-do-dossiers"}, "id": {"mofa-rx"}}
		webtest.PageHas(t, post("/console/architecture/relationships", bad), http.StatusUnprocessableEntity, "Appendix B")
	})
}
