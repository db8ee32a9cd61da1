package architecture

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"chancery/internal/architecture/archimate"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

func TestAnInvestmentIsReviewedAgainstTheModelAsItWouldBe(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := mustService(t, db)
		ctx := as(architect)
		f.mustDemo(t)
		// A third consular application, talking to the population
		// database directly: the consular system already provides the
		// capability, and two rules object.
		e := Element{ID: "prop-visa", Type: "ApplicationComponent", Name: archimate.Text{{Lang: "vi", Text: "Hệ thống thị thực điện tử mới"}},
			Lifecycle: Lifecycle{Plan: "2026-01-01", Run: "2026-01-02"}, OwnerUnit: 3, Framework: Classification{ARM: "Ứng dụng nghiệp vụ lãnh sự"}}
		p := Proposal{ID: "inv-2026-01", Title: "Thị thực điện tử", Kind: "new", Elements: []Element{e},
			Relationships: []Relationship{{ID: "prop-r1", Type: "Realization", Source: "prop-visa", Target: "mofa-cap-consular"}, {ID: "prop-r2", Type: "Flow", Source: "prop-visa", Target: "ref-db-population"}},
			Provides:      []string{"mofa-cap-consular"}}
		if _, err := f.svc.Propose(as(clerk), clerk, p); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("a clerk proposed: %v", err)
		}
		bad := p
		bad.Relationships = []Relationship{{ID: "prop-rx", Type: "Composition", Source: "prop-visa", Target: "mofa-do-dossiers"}}
		if _, err := f.svc.Propose(ctx, architect, bad); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("a forbidden relationship proposed: %v", err)
		}
		ref := p
		ref.Elements = []Element{{ID: "ref-ndxp", Type: "ApplicationComponent", Name: archimate.Text{{Text: "mine"}}}}
		if _, err := f.svc.Propose(ctx, architect, ref); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("a proposal changing reference content: %v", err)
		}
		if _, err := f.svc.Propose(ctx, architect, p); err != nil {
			t.Fatal(err)
		}
		rv, err := f.svc.Review(ctx, clerk, "inv-2026-01")
		if err != nil {
			t.Fatal(err)
		}
		reuse := map[string]bool{}
		for _, r := range rv.Reuse {
			reuse[r.Element] = true
		}
		if !reuse["mofa-consular"] || !reuse["mofa-consular-online"] || len(rv.Reuse) != 2 {
			t.Errorf("reuse %+v", rv.Reuse)
		}
		news := map[string]bool{}
		for _, x := range rv.Findings {
			if x.New {
				news[x.Rule+" "+x.Element] = true
			}
		}
		if !news["duplication prop-visa"] || !news["exchange_flows prop-visa"] {
			t.Errorf("new findings %v", news)
		}
		if _, err := f.svc.DecideProposal(as(architect), architect, "inv-2026-01", true, "ok"); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("an architect decided: %v", err)
		}
		if _, err := f.svc.DecideProposal(as(approver), approver, "inv-2026-01", false, " "); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("a decision without reasons: %v", err)
		}
		d, err := f.svc.DecideProposal(as(approver), approver, "inv-2026-01", false, "Reuse the consular system; go through the LGSP.")
		if err != nil || d.Status != "rejected" {
			t.Fatalf("decision %v %+v", err, d)
		}
		if _, err := f.svc.DecideProposal(as(approver), approver, "inv-2026-01", true, "again"); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("decided twice: %v", err)
		}
		// The model itself is untouched by a proposal.
		if _, _, err := f.svc.Element(ctx, clerk, "prop-visa"); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("the proposal's element reached the model: %v", err)
		}
	})
}

func TestTheProposalsAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := mustServer(t, db)
		ctx := as(architect)
		if err := s.f.svc.SyncReference(ctx); err != nil {
			t.Fatal(err)
		}
		body := `{"id":"inv-1","title":"Cổng mới","kind":"new","elements":[{"id":"p-portal","type":"ApplicationComponent","name":[{"text":"Cổng mới"}]}],
			"relationships":[{"id":"p-r","type":"Serving","source":"ref-vneid-svc","target":"p-portal"}],"provides":["ref-vneid-svc"]}`
		webtest.Problem(t, s.do(clerk, "POST", "/api/v1/architecture/proposals", "application/json", body), http.StatusForbidden)
		webtest.PageHas(t, s.do(architect, "POST", "/api/v1/architecture/proposals", "application/json", body), http.StatusCreated, `"status":"proposed"`)
		webtest.PageHas(t, s.do(clerk, "GET", "/api/v1/architecture/proposals/inv-1", "", ""), http.StatusOK, `"element":"ref-vneid"`, `"rule":"reference_category"`)
		webtest.Problem(t, s.do(architect, "POST", "/api/v1/architecture/proposals/inv-1/decision", "application/json", `{"approve":true,"reasons":"ok"}`), http.StatusForbidden)
		webtest.PageHas(t, s.do(approver, "POST", "/api/v1/architecture/proposals/inv-1/decision", "application/json", `{"approve":true,"reasons":"Uses VNeID."}`), http.StatusOK, `"status":"approved"`)
		webtest.Problem(t, s.do(clerk, "GET", "/api/v1/architecture/proposals/inv-9", "", ""), http.StatusNotFound)
	})
}

// postForm posts a console form as sub, in a browser session.
func (s *server) postForm(sub authz.Subject, target string, form url.Values) *httptest.ResponseRecorder {
	r := webtest.Request("POST", target, "application/x-www-form-urlencoded", form.Encode())
	r.Header.Set("Accept", "text/html")
	return webtest.Serve(s.shell, s.h, web.Principal{Subject: sub, Username: "u", Stage: "full"}, r)
}

// TestInvestmentReviewPages walks the review console with the demo's
// proposals: the list and a review in both languages (the model change,
// the consular applications found for reuse, the findings the e-visa
// portal would bring, in the page's language, the archive's decision with
// its reasons); the architect's form enters a proposal, a bad one comes
// back with the problem; the approver's form decides, once; a clerk reads
// but neither proposes nor decides.
func TestInvestmentReviewPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := mustServer(t, db)
		s.f.mustDemo(t)
		if err := SeedDemoProposals(as(architect), s.f.svc, architect, as(approver), approver); err != nil {
			t.Fatal(err)
		}
		if err := SeedDemoProposals(as(architect), s.f.svc, architect, as(approver), approver); err != nil {
			t.Fatalf("seeding the proposals twice: %v", err)
		}
		webtest.PageHas(t, webtest.GetIn(s.shell, s.h, web.Principal{Subject: clerk, Username: "u", Stage: "full"}, "vi", "/console/architecture/proposals"), http.StatusOK,
			"Thẩm định đầu tư", "Cổng thị thực điện tử thế hệ mới", "Chờ quyết định", "Đã phê duyệt")
		webtest.PageHas(t, webtest.GetIn(s.shell, s.h, web.Principal{Subject: clerk, Username: "u", Stage: "full"}, "en", "/console/architecture/proposals/mofa-p-evisa"), http.StatusOK,
			"E-visa portal", "Passport and consular system", "Missions&#39; online consular application", "Brought by the proposal",
			"E-visa portal holds personal data but lacks encryption-at-rest, mfa", "The proposal awaits an approver")
		vi := webtest.GetIn(s.shell, s.h, web.Principal{Subject: approver, Username: "u", Stage: "full"}, "vi", "/console/architecture/proposals/mofa-p-evisa")
		webtest.PageHas(t, vi, http.StatusOK, "Cổng thị thực điện tử lưu dữ liệu cá nhân nhưng thiếu mã hóa khi lưu trữ, xác thực đa yếu tố", "Hệ thống quản lý hộ chiếu và công tác lãnh sự", `name="reasons"`)
		webtest.PageHas(t, webtest.GetIn(s.shell, s.h, web.Principal{Subject: clerk, Username: "u", Stage: "full"}, "vi", "/console/architecture/proposals/mofa-p-archive"), http.StatusOK,
			"Đã phê duyệt", "khắc phục hai phát hiện tuân thủ")

		// The architect's form.
		form := url.Values{"id": {"mofa-p-chat"}, "title": {"Trợ lý trả lời công dân"}, "kind": {"new"}, "element": {"mofa-chat"}, "type": {"ApplicationComponent"},
			"name_vi": {"Trợ lý trả lời công dân"}, "arm": {"Ứng dụng nghiệp vụ lãnh sự"}, "data": {"personal"}, "relationships": {"Flow mofa-lgsp\r\n"}, "provides": {"mofa-cap-consular"}}
		if rec := s.postForm(architect, "/console/architecture/proposals", form); rec.Code != http.StatusSeeOther {
			t.Fatalf("propose: %d %s", rec.Code, rec.Body)
		}
		rv, err := s.f.svc.Review(as(clerk), clerk, "mofa-p-chat")
		if err != nil || len(rv.Proposal.Relationships) != 1 || rv.Proposal.Relationships[0].Target != "mofa-lgsp" || len(rv.Reuse) == 0 {
			t.Fatalf("the form's proposal: %v %+v", err, rv)
		}
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("id", "mofa-p-chat2")
		bad.Set("relationships", "Flow")
		webtest.PageHas(t, s.postForm(architect, "/console/architecture/proposals", bad), http.StatusUnprocessableEntity, "Trợ lý trả lời công dân", "Flow")
		bad.Set("relationships", "Triggering mofa-do-dossiers")
		webtest.PageHas(t, s.postForm(architect, "/console/architecture/proposals", bad), http.StatusUnprocessableEntity, "does not allow")
		if rec := s.postForm(clerk, "/console/architecture/proposals", form); rec.Code != http.StatusForbidden {
			t.Errorf("a clerk proposes: %d", rec.Code)
		}

		// The approver's form.
		webtest.PageHas(t, s.postForm(approver, "/console/architecture/proposals/mofa-p-chat/decision", url.Values{"decision": {"reject"}}), http.StatusUnprocessableEntity, `name="reasons"`)
		if rec := s.postForm(clerk, "/console/architecture/proposals/mofa-p-chat/decision", url.Values{"decision": {"approve"}, "reasons": {"x"}}); rec.Code != http.StatusForbidden {
			t.Errorf("a clerk decides: %d", rec.Code)
		}
		if rec := s.postForm(approver, "/console/architecture/proposals/mofa-p-chat/decision", url.Values{"decision": {"reject"}, "reasons": {"Trùng với hệ thống lãnh sự; dùng lại."}}); rec.Code != http.StatusSeeOther {
			t.Fatalf("decide: %d %s", rec.Code, rec.Body)
		}
		if rv, _ := s.f.svc.Review(as(clerk), clerk, "mofa-p-chat"); rv.Proposal.Status != "rejected" || rv.Proposal.Reasons != "Trùng với hệ thống lãnh sự; dùng lại." {
			t.Fatalf("the decision: %+v", rv.Proposal)
		}
		if rec := s.postForm(approver, "/console/architecture/proposals/mofa-p-chat/decision", url.Values{"decision": {"approve"}, "reasons": {"again"}}); rec.Code != http.StatusConflict {
			t.Errorf("deciding twice: %d", rec.Code)
		}
		if rec := s.page(clerk, "/console/architecture/proposals/nobody"); rec.Code != http.StatusNotFound {
			t.Errorf("an unknown proposal: %d", rec.Code)
		}
	})
}
