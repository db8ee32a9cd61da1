package operations

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/i18n"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

// TestPagesDrillDownWithinNeedToKnow pins the pages: the leader's
// overview has the ministry, the map with each mission a link and its
// status in words, the departments; Paris's officer's has Paris only;
// another unit's page and brief answer 404 as a missing one; the brief
// is a PDF with the font that prints Vietnamese embedded.
func TestPagesDrillDownWithinNeedToKnow(t *testing.T) {
	db := storetest.MustOpen(t, store.SQLite)
	svc := seedFixture(t, db)
	texts, err := i18n.New(web.Texts(), Texts())
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(web.NewShell(texts), svc)
	if err != nil {
		t.Fatal(err)
	}
	get := func(sub authz.Subject, handler http.HandlerFunc, path, unit string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.SetPathValue("unit", unit)
		r = r.WithContext(web.WithPrincipal(r.Context(), web.Principal{Subject: sub, Stage: "full"}))
		rec := httptest.NewRecorder()
		handler(rec, r)
		return rec
	}
	rec := get(leader, h.overview, PagePath, "")
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("the leader's overview: %d %s", rec.Code, body)
	}
	for _, want := range []string{`class="ops-map"`, `href="/console/insight/operations/units/3"`, `aria-label="Đại sứ quán Việt Nam tại Pháp: Nghiêm trọng"`,
		">Paris</text>", ">Tokyo</text>", "Cục Lãnh sự", "Toàn Bộ", "mất kết nối 48 giờ"} {
		if !strings.Contains(body, want) {
			t.Errorf("the leader's overview lacks %q", want)
		}
	}
	// The map is well-formed XML (it is parsed as SVG in the page).
	start := strings.Index(body, `<svg xmlns="http://www.w3.org/2000/svg" class="ops-map"`)
	end := strings.Index(body[start:], "</svg>") + start + len("</svg>")
	dec := xml.NewDecoder(strings.NewReader(body[start:end]))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("the map is not well-formed: %v", err)
		}
	}

	rec = get(parisOfficer, h.overview, PagePath, "")
	body = rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, "units/3") {
		t.Fatalf("Paris's officer's overview: %d", rec.Code)
	}
	for _, hidden := range []string{"units/4", "Tokyo", "Cục Lãnh sự", "Toàn Bộ"} {
		if strings.Contains(body, hidden) {
			t.Errorf("Paris's officer's overview shows %q", hidden)
		}
	}
	if rec := get(parisOfficer, h.unit, PagePath+"/units/3", "3"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "brief.pdf") {
		t.Errorf("Paris's officer's own page: %d", rec.Code)
	}
	for _, path := range []struct {
		h    http.HandlerFunc
		unit string
		want int
	}{{h.unit, "4", 404}, {h.unit, "1", 404}, {h.unit, "999", 404}, {h.brief, "4", 404}, {h.unit, "\u202e3", 400}, {h.unit, "3\x00", 400}} {
		if rec := get(parisOfficer, path.h, PagePath+"/units/x", path.unit); rec.Code != path.want {
			t.Errorf("Paris's officer asking for unit %q: %d, want %d", path.unit, rec.Code, path.want)
		}
	}

	rec = get(parisOfficer, h.brief, PagePath+"/units/3/brief.pdf", "3")
	pdf := rec.Body.Bytes()
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("Paris's brief: %d %s %.40q", rec.Code, rec.Header().Get("Content-Type"), pdf)
	}
	if !bytes.Contains(pdf, []byte("/FontFile2")) || !bytes.Contains(pdf, []byte("/Identity-H")) {
		t.Error("the brief does not embed the Unicode font that prints Vietnamese")
	}
	if rec := get(leader, h.brief, PagePath+"/units/1/brief.pdf", "1"); rec.Code != http.StatusOK {
		t.Errorf("the leader's brief of the ministry: %d", rec.Code)
	}
	_ = context.Background()
}
