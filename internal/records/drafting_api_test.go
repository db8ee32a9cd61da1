package records

import (
	"net/http"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestAPIDraftingReviewIssueAndReplace takes a draft through the review
// chain, issues it with a distribution list and replaces it through the
// API; its drafting record is hidden from another unit as a missing one.
func TestAPIDraftingReviewIssueAndReplace(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		d := a.draft(t, "quyet_dinh", authz.Unclassified)
		path := "/api/v1/documents/" + itoa(d.ID)
		for _, step := range []struct {
			sub  authz.Subject
			body map[string]any
			want int
		}{
			{a.officer, map[string]any{"action": "send_review", "reviewers": []int64{a.officer.ID}}, http.StatusBadRequest},
			{a.officer, map[string]any{"action": "send_review", "reviewers": []int64{a.leader.ID}}, http.StatusOK},
			{a.leader, map[string]any{"action": "review", "decision": "maybe"}, http.StatusBadRequest},
			{a.leader, map[string]any{"action": "review", "decision": "approve"}, http.StatusOK},
			{a.leader, map[string]any{"action": "sign"}, http.StatusOK},
			{a.clerk, map[string]any{"action": "issue", "org_symbol": "BNG", "recipients": []map[string]any{{"kind": "agency", "name": "Bộ Công an", "code": "G01"}}}, http.StatusOK},
			{a.officer, map[string]any{"action": "replace"}, http.StatusOK},
		} {
			if rec := a.call(t, step.sub, "POST", path+"/actions", step.body); rec.Code != step.want {
				t.Fatalf("%v: %d %s, want %d", step.body, rec.Code, rec.Body, step.want)
			}
		}
		dr := decode[map[string]any](t, a.call(t, a.officer, "GET", path+"/drafting", nil))
		rs, _ := dr["recipients"].([]any)
		if len(rs) != 1 || dr["replaced_by"] == nil || len(dr["reviews"].([]any)) != 1 {
			t.Errorf("drafting = %v", dr)
		}
		hidden, missing := a.call(t, a.office, "GET", path+"/drafting", nil), a.call(t, a.office, "GET", "/api/v1/documents/999999/drafting", nil)
		if hidden.Code != http.StatusNotFound || missing.Code != http.StatusNotFound {
			t.Fatalf("hidden %d, missing %d", hidden.Code, missing.Code)
		}
	})
}
