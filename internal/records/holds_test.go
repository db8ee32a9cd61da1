package records

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestLegalHoldsOnSingleDocuments pins a legal hold on one document: only
// who keeps the unit's disposition places or lifts one, with a reason
// (another unit's document answers as missing); it shows on the document,
// in its history and in the ledger at its level; it suspends that
// document's disposition only: a destruction of its case file destroys
// the others' keys and keeps its own, its own destruction and the
// transfer of a case file holding it are refused, until it is lifted.
func TestLegalHoldsOnSingleDocuments(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		arch := f.as(f.archivist)
		txt := func(s string) *Content { return &Content{Filename: "a.txt", MediaType: "text/plain", Data: []byte(s)} }
		plain := f.incoming(t, "Thông báo họp", authz.Unclassified, txt("a"))
		held := f.secretText(t)
		kept := f.incoming(t, "Quyết định lưu vĩnh viễn", authz.Unclassified, txt("c"))
		tam := f.caseFileWith(t, "LS.TAM.09", 2, plain, held)
		vv := f.caseFileWith(t, "LS.VV.09", Permanent, kept)
		f.closeCaseFiles(t, tam, vv)

		if _, err := f.svc.PlaceDocumentHold(f.as(f.officer), f.officer, held.ID, "Thanh tra"); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("an officer placing a hold: %v, want forbidden", err)
		}
		if _, err := f.svc.PlaceDocumentHold(f.as(f.office), f.office, held.ID, "Thanh tra"); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("another unit's member placing a hold: %v, want not found", err)
		}
		if _, err := f.svc.PlaceDocumentHold(arch, f.archivist, held.ID, " "); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("a hold without a reason: %v, want invalid", err)
		}
		h, err := f.svc.PlaceDocumentHold(arch, f.archivist, held.ID, "Vụ án đang điều tra")
		if err != nil {
			t.Fatal(err)
		}
		hk, err := f.svc.PlaceDocumentHold(arch, f.archivist, kept.ID, "Khiếu nại đang giải quyết")
		if err != nil {
			t.Fatal(err)
		}
		v, err := f.svc.Get(f.as(f.clerk), f.clerk, held.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Holds) != 1 || v.Holds[0].Reason != "Vụ án đang điều tra" || !v.Holds[0].LiftedAt.IsZero() || v.Holds[0].DocumentID != held.ID {
			t.Errorf("the document's holds = %+v", v.Holds)
		}
		if n := len(v.Steps); n == 0 || v.Steps[n-1].Action != "hold" {
			t.Errorf("the history lacks the hold: %+v", v.Steps)
		}
		if es := f.events(t, "document.hold", held.ID); len(es) != 1 || es[0].Level != authz.Secret {
			t.Errorf("hold events = %+v, want one at secret", es)
		}

		// 2029: the case file's two years have run.
		f.clock.set(time.Date(2029, 1, 2, 3, 0, 0, 0, time.UTC))
		items, err := f.svc.Appraisal(arch, f.archivist, f.units["000.00.03.G12"])
		if err != nil {
			t.Fatal(err)
		}
		if it := dueByCode(items)["LS.TAM.09"]; !it.Due || len(it.HeldDocuments) != 1 || it.HeldDocuments[0] != held.ID {
			t.Errorf("the appraisal shows %+v, want the held document", it)
		}
		d, err := f.svc.Appraise(arch, f.archivist, []int64{tam.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.DecideDisposal(f.as(f.leader), f.leader, d.ID, "07/QĐ-LS", time.Date(2029, 1, 2, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ExecuteDisposal(arch, f.archivist, d.ID); err != nil {
			t.Fatal(err)
		}
		if c := f.stored(t, plain.ID); c.wrapped != nil {
			t.Error("the document under no hold kept its key")
		}
		if c := f.stored(t, held.ID); c.wrapped == nil || !c.Shredded.IsZero() {
			t.Error("the held document's key was destroyed with its case file")
		}
		if _, err := f.svc.Destroy(arch, f.archivist, held.ID, "08/QĐ-LS"); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("destroying the held document: %v, want conflict", err)
		}
		if _, err := f.svc.TransferCaseFiles(arch, f.archivist, []int64{vv.ID}); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("transferring a case file holding a held document: %v, want conflict", err)
		}

		if err := f.svc.LiftDocumentHold(arch, f.archivist, held.ID, hk.ID, "nhầm"); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("lifting another document's hold: %v, want not found", err)
		}
		if err := f.svc.LiftDocumentHold(arch, f.archivist, held.ID, h.ID, "Vụ án đã xét xử xong"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.LiftDocumentHold(arch, f.archivist, kept.ID, hk.ID, "Đã giải quyết"); err != nil {
			t.Fatal(err)
		}
		if es := f.events(t, "document.hold_lift", held.ID); len(es) != 1 || es[0].Level != authz.Secret {
			t.Errorf("lift events = %+v, want one at secret", es)
		}
		if done, err := f.svc.Destroy(arch, f.archivist, held.ID, "08/QĐ-LS"); err != nil || !done {
			t.Errorf("destroying once the hold is lifted: %v, %v", done, err)
		}
		if _, err := f.svc.TransferCaseFiles(arch, f.archivist, []int64{vv.ID}); err != nil {
			t.Errorf("transferring once the hold is lifted: %v", err)
		}
	})
}

// TestDocumentPageShowsAndTakesHolds pins the document page's holds: the
// archivist places one with its reason and lifts it there; the clerk sees
// it in force, without the forms.
func TestDocumentPageShowsAndTakesHolds(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPageSite(t, db, HandlerOptions{})
		d := s.incoming(t, "Công văn về vụ kiện", authz.Unclassified, nil)
		path := consoleDocumentPath(d.ID)
		if html := s.page(s.archivist, path); !strings.Contains(html, `id="hold-form"`) || strings.Contains(html, `id="lift-form"`) {
			t.Fatalf("the archivist's page lacks the hold form (or has a lift form):\n%s", html)
		}
		if w := s.post(s.archivist, path+"/actions", url.Values{"action": {"hold"}, "reason": {""}}); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `id="hold-form"`) {
			t.Errorf("a hold without a reason = %d, want 422 with the form back", w.Code)
		}
		if w := s.post(s.archivist, path+"/actions", url.Values{"action": {"hold"}, "reason": {"Tòa án yêu cầu giữ nguyên"}}); w.Code != http.StatusSeeOther {
			t.Fatalf("placing a hold = %d:\n%s", w.Code, w.Body)
		}
		html := s.page(s.clerk, path)
		if !strings.Contains(html, "Tòa án yêu cầu giữ nguyên") || strings.Contains(html, `id="hold-form"`) {
			t.Errorf("the clerk's page does not show the hold, or offers its form")
		}
		if w := s.post(s.clerk, path+"/actions", url.Values{"action": {"hold"}, "reason": {"x"}}); w.Code != http.StatusForbidden {
			t.Errorf("the clerk placing a hold = %d, want 403", w.Code)
		}
		html = s.page(s.archivist, path)
		m := regexp.MustCompile(`<option value="(\d+)"[^>]*>Tòa án`).FindStringSubmatch(html)
		if m == nil {
			t.Fatalf("the lift form does not offer the hold:\n%s", html)
		}
		if w := s.post(s.archivist, path+"/actions", url.Values{"action": {"lift_hold"}, "hold_id": {m[1]}, "reason": {"Tòa án đã xử xong"}}); w.Code != http.StatusSeeOther {
			t.Fatalf("lifting the hold = %d:\n%s", w.Code, w.Body)
		}
		if html := s.page(s.archivist, path); !strings.Contains(html, "Tòa án đã xử xong") || strings.Contains(html, `id="lift-form"`) {
			t.Errorf("the lifted hold is not shown as lifted")
		}
	})
}
