package architecture

import (
	"errors"
	"net/http"
	"testing"

	"chancery/internal/architecture/archimate"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
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
