package mail

import (
	"embed"
	"fmt"
	"net/http"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

//go:embed templates
var templates embed.FS

// MailboxPagePath is the staff console's page of the mail the mailbox
// simulator received; one message is at MailboxPagePath/{n}.
const MailboxPagePath = "/console/simulators/mail"

// MailboxHandler serves the staff console's pages of the mailbox
// simulator, the Server that catches the demo's mail. The SMTP listener
// itself stays on its own loopback address.
type MailboxHandler struct {
	srv   *Server
	shell *web.Shell
	pages *web.Templates
}

// NewMailboxHandler parses the pages' templates with shell's layout, for
// the messages srv received. It returns an error if a template does not
// parse.
func NewMailboxHandler(srv *Server, shell *web.Shell) (*MailboxHandler, error) {
	pages, err := shell.Parse(templates, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	return &MailboxHandler{srv: srv, shell: shell, pages: pages}, nil
}

// access is who may read the simulator's mail: it holds citizens'
// notices, so only staff who may read the system's settings.
var access = web.Staff(authz.KindSystem, authz.Read)

// Register adds the list, GET MailboxPagePath, and the reading page,
// GET MailboxPagePath/{n}, to rt, and the list to the console's
// navigation.
func (h *MailboxHandler) Register(rt *web.Router) {
	rt.HandleFunc("GET "+MailboxPagePath, access, h.list)
	rt.HandleFunc("GET "+MailboxPagePath+"/{n}", access, h.read)
	h.shell.AddNav(web.Console, web.NavItem{Key: "mail.nav", Href: MailboxPagePath, Access: access})
}

// messageRow is a received message as the list shows it.
type messageRow struct {
	Seq        int
	At, AtISO  string
	To         string // the envelope's recipients
	Subject    string
	Alternates bool // an HTML alternative came too
}

func newMessageRow(m Received) messageRow {
	return messageRow{Seq: m.Seq, At: web.ShowTime(m.At), AtISO: m.At.UTC().Format(time.RFC3339),
		To: strings.Join(m.To, ", "), Subject: m.Subject, Alternates: m.HTML != ""}
}

// listData is the view of MailboxPagePath.
type listData struct {
	Addr           string // where the simulator receives mail
	Rows           []messageRow
	Held, Capacity int
}

func (h *MailboxHandler) list(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.Console, "mail.mailbox.title")
	msgs := h.srv.Messages()
	data := listData{Addr: h.srv.Addr(), Held: len(msgs), Capacity: h.srv.Capacity()}
	for i := len(msgs) - 1; i >= 0; i-- {
		data.Rows = append(data.Rows, newMessageRow(msgs[i]))
	}
	h.pages.Render(w, r, http.StatusOK, "mailbox", web.View[listData]{Page: p, Data: data})
}

// readData is the view of one message.
type readData struct {
	messageRow
	From, HeaderTo string
	Text           string
}

func (h *MailboxHandler) read(w http.ResponseWriter, r *http.Request) {
	n, err := web.OptionalInt("n", r.PathValue("n"))
	if err != nil || n < 1 {
		web.Error(w, r, fmt.Errorf("mail: %w: %q is not a message number", errs.ErrNotFound, r.PathValue("n")))
		return
	}
	m, err := h.srv.Message(n)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "mail.message.title")
	data := readData{messageRow: newMessageRow(m), From: m.HeaderFrom, HeaderTo: m.HeaderTo, Text: m.Text}
	h.pages.Render(w, r, http.StatusOK, "mailbox_message", web.View[readData]{Page: p, Data: data})
}
