package records

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/dlp"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// A document's file passes data-loss prevention on its way out: the
// default policy holds a file with 60 identity numbers and lets a
// cleared reader download a marked one; a policy that blocks secret
// files on downloads blocks it. The refusals are problems the caller can
// read, saying held or blocked and nothing of what was found.
func TestDownloadsPassDataLossPrevention(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		svc, err := dlp.NewService(dlp.Options{DB: db, Recorder: f.ledger})
		if err != nil {
			t.Fatal(err)
		}
		h, err := NewHandler(webtest.Shell(t, Texts()), HandlerOptions{Service: f.svc, Download: svc.Gate(dlp.WayDownload), Export: svc.Gate(dlp.WayExport)})
		if err != nil {
			t.Fatal(err)
		}
		rt := web.NewRouter()
		h.Register(rt)
		a := &apiFixture{fixture: f, h: web.Chain(rt, web.RecordDenials(audit.NewDenials(f.ledger).Record))}
		var list strings.Builder
		for i := range 60 {
			fmt.Fprintf(&list, "Trần Thị B%d — 0011950%05d\n", i, i)
		}
		people := f.incoming(t, "Danh sách công dân", authz.Unclassified, &Content{Filename: "ds.txt", MediaType: "text/plain", Data: []byte(list.String())})
		memo := f.incoming(t, "Công điện", authz.Secret, &Content{Filename: "cd.txt", MediaType: "text/plain", Data: []byte("TỐI MẬT\nCông điện khẩn")})
		rec := a.call(t, f.clerk, http.MethodGet, fmt.Sprintf("/api/v1/documents/%d/content", people.ID), nil)
		if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "dlp_held") || strings.Contains(rec.Body.String(), "identity") {
			t.Errorf("60 identity numbers: %d %s, want held and nothing of what was found", rec.Code, rec.Body)
		}
		if rec := a.call(t, f.clerk, http.MethodGet, fmt.Sprintf("/api/v1/documents/%d/content", memo.ID), nil); rec.Code != http.StatusOK {
			t.Errorf("the marked memo to a cleared reader: %d %s", rec.Code, rec.Body)
		}
		p := dlp.DefaultPolicy()
		p.Rules = append(p.Rules, dlp.Rule{Way: "download", Finding: "marking_secret", Decision: dlp.Block})
		if _, err := svc.SavePolicy(f.as(f.security), f.security, 1, p, ""); err != nil {
			t.Fatal(err)
		}
		rec = a.call(t, f.clerk, http.MethodGet, fmt.Sprintf("/api/v1/documents/%d/content", memo.ID), nil)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "dlp_blocked") {
			t.Errorf("the marked memo under a blocking policy: %d %s", rec.Code, rec.Body)
		}
	})
}
