package registry_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web/webtest"
)

// pageLacks fails the test if the page holds any of unwanted.
func pageLacks(tb testing.TB, w *httptest.ResponseRecorder, unwanted ...string) {
	tb.Helper()
	for _, s := range unwanted {
		if strings.Contains(w.Body.String(), s) {
			tb.Errorf("page holds %q", s)
		}
	}
}

func TestCataloguePageFindsServicesForEveryStaffMember(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.mustBasics(t)
		s := newServer(t, f, true)
		w := s.do(clerk, "GET", "/console/exchange/services", "", "")
		webtest.PageHas(t, w, http.StatusOK,
			"<h1>Danh mục dịch vụ</h1>",
			`<a href="/console/exchange/services/VN/GOV/000.00.00.G02/population/citizen-lookup/v1">Tra cứu công dân</a><br><code>VN/GOV/000.00.00.G02/population/citizen-lookup/v1</code>`,
			"<td>Bộ Công an</td>",
			`<span class="badge kind-async">Thông điệp (không đồng bộ)</span>`,
			`<label for="filter-q">Tìm kiếm</label>`,
			`aria-describedby="filter-q-hint"`,
		)
		pageLacks(t, w, "/console/exchange/services/new", `href="/console/exchange/nodes"`)

		found := s.do(clerk, "GET", "/console/exchange/services?q=tra+cuu&lang=en", "", "")
		webtest.PageHas(t, found, http.StatusOK, "<h1>Service catalogue</h1>", "citizen-lookup", "Ministry of Public Security")
		pageLacks(t, found, "consular-report")

		bad := s.do(clerk, "GET", "/console/exchange/services?kind=soap", "", "")
		webtest.PageHas(t, bad, http.StatusUnprocessableEntity, `aria-invalid="true"`, `id="filter-kind-error"`)

		webtest.PageHas(t, s.do(admin, "GET", "/console/exchange/services", "", ""), http.StatusOK,
			`href="/console/exchange/services/new"`, `href="/console/exchange/nodes"`)
	})
}

func TestServicePageShowsTheInterfaceAndWhoMayCallIt(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.mustBasics(t)
		if _, err := f.reg.Grant(testCtx, lookup, clientID(ministry, "procedures")); err != nil {
			t.Fatal(err)
		}
		s := newServer(t, f, true)
		path := "/console/exchange/services/" + lookup.String()
		w := s.do(clerk, "GET", path, "", "")
		webtest.PageHas(t, w, http.StatusOK,
			"<h1>Tra cứu công dân</h1>",
			"<pre><code>{\n  &#34;openapi&#34;: &#34;3.1.0&#34;",
			"<code>VN/GOV/000.00.00.G12/procedures</code>",
		)
		pageLacks(t, w, `action="/console/exchange/rights"`, `action="/console/exchange/services/update"`, "<code>http://127.0.0.1:9999/api</code>")

		a := s.do(admin, "GET", path, "", "")
		webtest.PageHas(t, a, http.StatusOK, "<code>http://127.0.0.1:9999/api</code>",
			`action="/console/exchange/rights"`, `<label for="grant-client">Hệ thống sử dụng`,
			`action="/console/exchange/rights/revoke"`, `action="/console/exchange/services/update"`,
			`action="/console/exchange/services/delete"`, "Lịch sử cấp quyền", "system:test")

		webtest.PageHas(t, s.do(clerk, "GET", "/console/exchange/services/VN/GOV/000.00.00.G02/population/none", "", ""), http.StatusNotFound)
		webtest.PageHas(t, s.do(clerk, "GET", "/console/exchange/services/not-an-id", "", ""), http.StatusNotFound)
	})
}

func TestServiceFormsChangeTheRegistry(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.mustBasics(t)
		s := newServer(t, f, true)
		webtest.PageHas(t, s.do(admin, "GET", "/console/exchange/services/new", "", ""), http.StatusOK,
			`<label for="service-provider">`, `<textarea id="service-openapi" name="openapi"`, `<option value="rest" selected>`)

		bad := s.form(admin, "/console/exchange/services", url.Values{"provider": {"VN/GOV/" + population + "/population"},
			"service": {"address"}, "version": {"v1"}, "kind": {"rest"}, "title": {"Địa chỉ"}, "backend": {"ftp://x"}, "openapi": {openAPIDoc}, "max_level": {"none"}})
		webtest.PageHas(t, bad, http.StatusUnprocessableEntity,
			`id="service-backend" name="backend" value="ftp://x" aria-describedby="service-backend-hint service-backend-error" aria-invalid="true"`,
			`<p class="field-error" id="service-backend-error">`, `value="Địa chỉ"`)

		good := s.form(admin, "/console/exchange/services", url.Values{"provider": {"VN/GOV/" + consular + "/consular"},
			"service": {"passport-report"}, "version": {""}, "kind": {"async"}, "title": {"Báo cáo hộ chiếu"}, "max_level": {"confidential"}})
		if good.Code != http.StatusSeeOther || good.Header().Get("Location") != "/console/exchange/services/VN/GOV/000.00.03.G12/consular/passport-report?flash=registry.flash.created" {
			t.Fatalf("create: %d %q %s", good.Code, good.Header().Get("Location"), good.Body)
		}
		id := serviceID(consular, "consular", "passport-report", "")
		if _, ok := f.conf(t).Service(id); !ok {
			t.Fatal("the registered service is not published")
		}

		grant := s.form(admin, "/console/exchange/rights", url.Values{"service": {id.String()}, "client": {"VN/GOV/" + paris + "/consular"}})
		if grant.Code != http.StatusSeeOther || !f.conf(t).Allowed(clientID(paris, "consular"), id) {
			t.Fatalf("grant: %d %s", grant.Code, grant.Body)
		}
		// A refused grant comes back beside its field, the edit form still
		// showing the stored service.
		webtest.PageHas(t, s.form(admin, "/console/exchange/rights", url.Values{"service": {id.String()}, "client": {""}}),
			http.StatusUnprocessableEntity, `id="grant-client-error"`, `id="edit-title" name="title" value="Báo cáo hộ chiếu"`)
		if w := s.form(admin, "/console/exchange/rights/revoke", url.Values{"service": {id.String()}, "client": {"VN/GOV/" + paris + "/consular"}}); w.Code != http.StatusSeeOther || f.conf(t).Allowed(clientID(paris, "consular"), id) {
			t.Fatalf("revoke: %d %s", w.Code, w.Body)
		}

		edit := s.form(admin, "/console/exchange/services/update", url.Values{"service": {id.String()}, "title": {""}, "description": {""}, "max_level": {"confidential"}})
		webtest.PageHas(t, edit, http.StatusUnprocessableEntity, `id="edit-title-error"`)
		if w := s.form(admin, "/console/exchange/services/update", url.Values{"service": {id.String()}, "title": {"Báo cáo hộ chiếu quý"}, "description": {"Hằng quý"}, "max_level": {"none"}}); w.Code != http.StatusSeeOther {
			t.Fatalf("update: %d %s", w.Code, w.Body)
		}
		if got, _ := f.conf(t).Service(id); got.Title != "Báo cáo hộ chiếu quý" || got.MaxLevel != 0 {
			t.Fatalf("updated service = %+v", got)
		}
		if w := s.form(admin, "/console/exchange/services/delete", url.Values{"service": {id.String()}}); w.Code != http.StatusSeeOther {
			t.Fatalf("delete: %d %s", w.Code, w.Body)
		}
		if _, ok := f.conf(t).Service(id); ok {
			t.Fatal("the deleted service is still published")
		}
		if w := s.form(clerk, "/console/exchange/services/delete", url.Values{"service": {lookup.String()}}); w.Code != http.StatusForbidden {
			t.Fatalf("a clerk deleted a service: %d", w.Code)
		}
	})
}

func TestSubsystemsPageListsAndRegisters(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.mustBasics(t)
		s := newServer(t, f, true)
		w := s.do(clerk, "GET", "/console/exchange/subsystems", "", "")
		webtest.PageHas(t, w, http.StatusOK, "<h1>Hệ thống thông tin</h1>", "<code>VN/GOV/000.01.02.G12/consular</code>", "<td>Đại sứ quán Việt Nam tại Pháp</td>")
		pageLacks(t, w, `action="/console/exchange/subsystems"`)

		webtest.PageHas(t, s.do(admin, "GET", "/console/exchange/subsystems", "", ""), http.StatusOK,
			`action="/console/exchange/subsystems"`, `<label for="subsystem-member">`, `<option value="000.01.03.G12">000.01.03.G12 — Đại sứ quán Việt Nam tại Nhật Bản</option>`)
		bad := s.form(admin, "/console/exchange/subsystems", url.Values{"member": {tokyo}, "code": {"lãnh sự"}, "title": {"Lãnh sự"}, "clearance": {"none"}})
		webtest.PageHas(t, bad, http.StatusUnprocessableEntity, `id="subsystem-code-error"`, `Mã chỉ gồm chữ, số`, `<option value="000.01.03.G12" selected>`)
		dup := s.form(admin, "/console/exchange/subsystems", url.Values{"member": {paris}, "code": {"consular"}, "title": {"Lãnh sự"}, "clearance": {"none"}})
		webtest.PageHas(t, dup, http.StatusConflict, `role="alert"`, "already has a subsystem")
		good := s.form(admin, "/console/exchange/subsystems", url.Values{"member": {tokyo}, "code": {"consular"}, "title": {"Lãnh sự Tokyo"}, "clearance": {"confidential"}})
		if good.Code != http.StatusSeeOther {
			t.Fatalf("register: %d %s", good.Code, good.Body)
		}
		if _, ok := f.conf(t).Subsystem(clientID(tokyo, "consular")); !ok {
			t.Fatal("the registered subsystem is not published")
		}
	})
}

func TestNodesPageIssuesATokenOnceAndRevokes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		res := f.mustEnrol(t, tokyo)
		s := newServer(t, f, true)
		w := s.do(admin, "GET", "/console/exchange/nodes", "", "")
		webtest.PageHas(t, w, http.StatusOK, "<h1>Nút trao đổi</h1>", "<code>hq</code>", "<code>"+f.ring.Signer().KeyID()+"</code>",
			"<code>"+res.NodeID+"</code>", `action="/console/exchange/nodes/`+res.NodeID+`/revoke"`,
			`<option value="000.01.02.G12">000.01.02.G12 — Đại sứ quán Việt Nam tại Pháp</option>`)
		pageLacks(t, w, `<option value="000.01.03.G12">`, `action="/console/exchange/nodes/hq/revoke"`)
		if w := s.do(clerk, "GET", "/console/exchange/nodes", "", ""); w.Code != http.StatusForbidden {
			t.Fatalf("a clerk sees the nodes: %d", w.Code)
		}

		issued := s.form(admin, "/console/exchange/enrolments", url.Values{"member": {paris}})
		webtest.PageHas(t, issued, http.StatusCreated, "chancery serve --role mission --join https://hq.example --token ", "Mã chỉ hiển thị lần này")
		if cc := issued.Header().Get("Cache-Control"); cc != "no-store" {
			t.Errorf("the page with the token has Cache-Control %q", cc)
		}
		pageLacks(t, s.do(admin, "GET", "/console/exchange/nodes", "", ""), "--token ")
		webtest.PageHas(t, s.form(admin, "/console/exchange/enrolments", url.Values{"member": {population}}), http.StatusUnprocessableEntity, `id="enrol-member-error"`)

		noReason := s.form(admin, "/console/exchange/nodes/"+res.NodeID+"/revoke", url.Values{"reason": {""}})
		webtest.PageHas(t, noReason, http.StatusUnprocessableEntity, `id="revoke-`+res.NodeID+`-reason-error"`)
		if w := s.form(admin, "/console/exchange/nodes/"+res.NodeID+"/revoke", url.Values{"reason": {"Thay máy chủ"}}); w.Code != http.StatusSeeOther {
			t.Fatalf("revoke: %d %s", w.Code, w.Body)
		}
		webtest.PageHas(t, s.do(admin, "GET", "/console/exchange/nodes", "", ""), http.StatusOK, "Đã thu hồi", "Thay máy chủ")
	})
}
