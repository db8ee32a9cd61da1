package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/errs"
)

// TestErrorPagesSpeakTheReadersLanguageInsideTheLayout pins that a
// browser's error page says what went wrong in the reader's language,
// keeps the surface's navigation (the reader is one click from their
// work) and gives the server's English explanation only beside the
// catalogue's, never instead of it.
func TestErrorPagesSpeakTheReadersLanguageInsideTheLayout(t *testing.T) {
	shell := NewShell(testTexts(t))
	shell.AddNav(Console, NavItem{Key: "nav.home", Href: "/console/", Access: SignedIn})
	staff := Principal{Subject: authz.Subject{Kind: authz.Staff, ID: 4, Unit: 1}, Name: "Lê Văn Bình", Stage: "full"}
	for _, tt := range []struct {
		name   string
		err    error
		target string
		shown  []string
		hidden []string
	}{
		{"not found, Vietnamese", fmt.Errorf("%w: no such page", errs.ErrNotFound), "/console/nope",
			[]string{"<h1 id=\"error-title\">Không tìm thấy</h1>", "Không có trang hoặc mục này", `<a href="/console/">Trang chủ</a>`},
			[]string{"No such item", "no such page"}},
		{"not found, English", fmt.Errorf("%w: no such page", errs.ErrNotFound), "/console/nope?lang=en",
			[]string{"Not found", "There is no such page or item"}, nil},
		{"refused by role, Vietnamese", errNoRole, "/console/audit",
			[]string{"Không được phép", "Không vai trò nào của bạn cho phép thao tác này."},
			[]string{"none of your roles", "lang=\"en\">"}},
		{"refused with a reason, Vietnamese", fmt.Errorf("%w: the dossier is already decided", errs.ErrForbidden), "/console/dossiers/x",
			[]string{"Vai trò của bạn không cho phép thao tác này.", `<span lang="en">forbidden: the dossier is already decided</span>`}, nil},
		{"refused with a reason, English", fmt.Errorf("%w: the dossier is already decided", errs.ErrForbidden), "/console/dossiers/x?lang=en",
			[]string{"forbidden: the dossier is already decided"}, []string{"Your roles do not allow this.", `lang="en">forbidden`}},
		{"bad input, Vietnamese", errs.Invalid("tab", "is not a tab of the work queue"), "/console/dossiers?tab=x",
			[]string{"Yêu cầu không hợp lệ", "Yêu cầu có dữ liệu không hợp lệ", "is not a tab of the work queue"}, nil},
		{"internal, Vietnamese", fmt.Errorf("disk on fire"), "/console/",
			[]string{"Đã có lỗi ở phía hệ thống"}, []string{"disk on fire", "Something went wrong"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := shell.Language(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				Error(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, staff)), tt.err)
			}))
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			r.Header.Set("Accept", "text/html")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			body := rec.Body.String()
			if !strings.Contains(body, `<nav class="topnav"`) {
				t.Errorf("the error page has no navigation: %s", body)
			}
			for _, want := range tt.shown {
				if !strings.Contains(body, want) {
					t.Errorf("the page lacks %q", want)
				}
			}
			for _, unwanted := range tt.hidden {
				if strings.Contains(body, unwanted) {
					t.Errorf("the page shows %q", unwanted)
				}
			}
		})
	}
}
