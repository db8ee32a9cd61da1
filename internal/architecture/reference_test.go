package architecture

import (
	"fmt"
	"strings"
	"testing"
)

// TestReferenceContentFollowsTheFramework pins the classification to the
// national framework's five reference models (model.go says where each was
// verified), each named in both languages, and the reference content to
// the shared platforms and databases the framework's diagram names, each
// with a category of those models.
func TestReferenceContentFollowsTheFramework(t *testing.T) {
	if got := fmt.Sprint(ReferenceModels()); got != "[BRM DRM ARM TRM SRM]" {
		t.Fatalf("reference models %s", got)
	}
	for _, m := range ReferenceModels() {
		tx, ok := texts["architecture.rm."+strings.ToLower(string(m))]
		if !ok || !strings.HasPrefix(tx.VI, "Mô hình tham chiếu") || !strings.Contains(tx.VI, "("+string(m)+")") || !strings.Contains(tx.EN, "("+string(m)+")") {
			t.Errorf("%s is named %q", m, tx)
		}
	}
	if !strings.Contains(texts["architecture.rm.srm"].VI, "an toàn thông tin mạng, an ninh mạng") {
		t.Error("the SRM lacks its 3.0 name")
	}
	els, _, err := Reference()
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Element{}
	for _, e := range els {
		byID[e.ID] = e
		if len(e.Framework) == 0 {
			t.Errorf("reference element %s has no reference-model category", e.ID)
		}
		if e.Name.In("vi") == e.Name.In("en") {
			t.Errorf("reference element %s is not named in both languages", e.ID)
		}
	}
	for _, id := range []string{"ref-ndxp", "ref-dvcqg", "ref-vneid", "ref-eid-platform", "ref-db-population", "ref-document-axis", "ref-reporting", "ref-ndc", "ref-ndc-people", "ref-ndc-aggregate", "ref-network"} {
		if _, ok := byID[id]; !ok {
			t.Errorf("the reference content lacks %s", id)
		}
	}
}
