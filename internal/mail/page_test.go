package mail

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

var (
	asAdmin = web.Principal{Subject: authz.Subject{Kind: authz.Staff, ID: 1, Unit: 1, Roles: authz.RolesOf(authz.Administrator)},
		Username: "admin", Name: "Trần Quốc Bảo", Stage: "full"}
	asClerk = web.Principal{Subject: authz.Subject{Kind: authz.Staff, ID: 7, Unit: 3, Roles: authz.RolesOf(authz.Clerk)},
		Username: "consular.clerk", Name: "Đặng Thị Hồng Nhung", Stage: "full"}
	asNobody = web.Principal{}
)

// mailbox is the page behind Chancery's router, as the app wires it.
type mailbox struct {
	srv *Server
	rt  *web.Router
	// shell is the pages' layout and catalogue.
	shell *web.Shell
}

func newMailbox(t *testing.T) mailbox {
	t.Helper()
	srv := startServer(t, ServerConfig{})
	shell := webtest.Shell(t, Texts())
	h, err := NewMailboxHandler(srv, shell)
	if err != nil {
		t.Fatal(err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	return mailbox{srv: srv, rt: rt, shell: shell}
}

func (c mailbox) get(p web.Principal, target string) *httptest.ResponseRecorder {
	return webtest.Get(c.shell, c.rt, p, target)
}

func TestMailboxListsNewestFirstAndShowsOne(t *testing.T) {
	c := newMailbox(t)
	webtest.PageHas(t, c.get(asAdmin, MailboxPagePath), http.StatusOK, "Hộp thư (mô phỏng)", "Hộp thư chưa nhận được thư nào.")
	s := plainSender(t, c.srv.Addr())
	for _, subject := range []string{"Hồ sơ đã được tiếp nhận", "Yêu cầu bổ sung giấy tờ <khẩn>"} {
		if err := s.Send(waitCtx(t), Message{To: []string{"an@example.vn"}, Subject: subject, Text: "Kính gửi ông An,\nxin mời đến nhận kết quả."}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.srv.Wait(waitCtx(t), 2); err != nil {
		t.Fatal(err)
	}
	w := c.get(asAdmin, MailboxPagePath)
	webtest.PageHas(t, w, http.StatusOK, `href="/console/simulators/mail/1"`, "an@example.vn", "Yêu cầu bổ sung giấy tờ &lt;khẩn&gt;")
	body := w.Body.String()
	if strings.Index(body, "/console/simulators/mail/2") > strings.Index(body, "/console/simulators/mail/1") {
		t.Error("the list is not newest first")
	}
	webtest.PageHas(t, c.get(asAdmin, MailboxPagePath+"/1"), http.StatusOK, "Hồ sơ đã được tiếp nhận", "Kính gửi ông An,\nxin mời đến nhận kết quả.", "no-reply@mofa.example")
	webtest.PageHas(t, c.get(asAdmin, MailboxPagePath+"?lang=en"), http.StatusOK, "Mailbox simulator", "Messages received, newest first")
	for _, missing := range []string{"/3", "/0", "/x", "/+1"} {
		if w := c.get(asAdmin, MailboxPagePath+missing); w.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", missing, w.Code)
		}
	}
}

func TestMailboxIsForStaffWhoReadTheSystem(t *testing.T) {
	c := newMailbox(t)
	for _, rt := range c.rt.Routes() {
		if rt.Access.String() != "staff:system:read" {
			t.Errorf("%s is open to %s", rt.Pattern, rt.Access)
		}
	}
	if w := c.get(asNobody, MailboxPagePath); w.Code != http.StatusSeeOther {
		t.Errorf("anonymous: %d, want 303 to sign in", w.Code)
	}
	for _, path := range []string{MailboxPagePath, MailboxPagePath + "/1"} {
		if w := c.get(asClerk, path); w.Code != http.StatusForbidden {
			t.Errorf("clerk on %s: %d, want 403", path, w.Code)
		}
	}
}
