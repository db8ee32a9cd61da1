package exchange

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// The HTTP API of the asynchronous exchange, for information systems. A
// system authenticates with its client token ("Authorization: Bearer
// chx_…"), which Node.Authenticate turns into an authz.Client principal;
// the routes admit that principal only (web.Client), so a system needs no
// staff account and its token opens nothing else.

// Handler serves the exchange's API, gateway and console pages of one
// node.
type Handler struct {
	n     *Node
	shell *web.Shell
	pages *web.Templates
}

// NewHandler returns the handler of node n, parsing its page templates
// with shell's layout.
func NewHandler(n *Node, shell *web.Shell) (*Handler, error) {
	pages, err := shell.Parse(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("exchange: parse page templates: %w", err)
	}
	return &Handler{n: n, shell: shell, pages: pages}, nil
}

// Register registers the exchange's routes on rt.
func (h *Handler) Register(rt *web.Router) {
	send, read, update := web.Client(authz.KindMessage, authz.Create), web.Client(authz.KindMessage, authz.Read), web.Client(authz.KindMessage, authz.Update)
	rt.HandleFunc("POST /api/v1/exchange/messages", send, h.client(h.send))
	rt.HandleFunc("GET /api/v1/exchange/messages/{id}/proof", read, h.client(h.proof))
	rt.HandleFunc("POST /api/v1/exchange/circulars", send, h.client(h.publishCircular))
	rt.HandleFunc("GET /api/v1/exchange/circulars/{id}", read, h.client(h.circularStatus))
	rt.HandleFunc("GET /api/v1/exchange/inbox", read, h.client(h.inbox))
	rt.HandleFunc("POST /api/v1/exchange/inbox/ack", update, h.client(h.ack))
	rt.HandleFunc("PUT /api/v1/exchange/webhook", update, h.client(h.setWebhook))
	rt.HandleFunc("DELETE /api/v1/exchange/webhook", update, h.client(h.deleteWebhook))
	rt.HandleFunc("GET /console/exchange/monitor", web.Staff(authz.KindService, authz.Read), h.monitorPage)
	h.deadLetterRoutes(rt)
	registerGateway(rt, h)
}

// client passes the subsystem of the request's client principal on.
func (h *Handler) client(f func(http.ResponseWriter, *http.Request, ClientID)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := clientOf(r)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		f(w, r, c)
	}
}

// SendRequest is the JSON body of POST /api/v1/exchange/messages.
type SendRequest struct {
	Service     string `json:"service"`
	Level       string `json:"level,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Payload     []byte `json:"payload"`
}

// SendResponse is the answer to POST /api/v1/exchange/messages.
type SendResponse struct {
	ID string `json:"id"`
}

// send takes a message as JSON (payload in base64) or, when the
// X-Chancery-Service header is present, as the raw body.
func (h *Handler) send(w http.ResponseWriter, r *http.Request, from ClientID) {
	conf, err := h.n.Conf()
	if err != nil {
		web.Error(w, r, err)
		return
	}
	raw := r.Header.Get(HeaderService) != ""
	limit := conf.MaxMessageBytes
	if !raw {
		limit = limit/3*4 + 64<<10 // base64 and the JSON around it
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			web.Error(w, r, fmt.Errorf("%w: the message is over the limit of %d bytes", errs.ErrTooLarge, conf.MaxMessageBytes))
			return
		}
		web.Error(w, r, fmt.Errorf("%w: read body: %v", errs.ErrInvalid, err))
		return
	}
	req := SendRequest{Service: r.Header.Get(HeaderService), Level: r.Header.Get(HeaderLevel), ContentType: r.Header.Get("Content-Type"), Payload: body}
	if !raw {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			web.Error(w, r, errs.Invalid("service", "send a JSON body {\"service\", \"level\", \"content_type\", \"payload\"}, or the raw payload with the X-Chancery-Service header"))
			return
		}
		req = SendRequest{}
		if err := web.DecodeJSONBytes(body, &req, limit); err != nil {
			web.Error(w, r, err)
			return
		}
	}
	m, err := req.outgoing(from)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	id, err := h.n.Send(r.Context(), m)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusAccepted, SendResponse{ID: id})
}

// outgoing checks the request's fields and makes the message.
func (req SendRequest) outgoing(from ClientID) (Outgoing, error) {
	if req.Service == "" {
		return Outgoing{}, errs.Invalid("service", "name the service, such as VN/GOV/000.00.00.G12/procedures/consular-report/v1")
	}
	svc, err := ParseServiceID(req.Service)
	if err != nil {
		return Outgoing{}, err
	}
	level, ct, err := messageFields(req.Level, req.ContentType, req.Payload)
	if err != nil {
		return Outgoing{}, err
	}
	return Outgoing{From: from, To: svc, Level: level, ContentType: ct, Payload: req.Payload}, nil
}

// messageFields checks the fields a message and a circular share: the
// level (none by default), the content type (application/octet-stream
// by default) and the payload, which must not be empty.
func messageFields(levelName, ct string, payload []byte) (authz.Level, string, error) {
	level := authz.Unclassified
	if levelName != "" {
		var err error
		if level, err = authz.ParseLevel(levelName); err != nil {
			return 0, "", errs.Invalid("level", fmt.Sprintf("level %q is not one of none, confidential, secret, top_secret", levelName))
		}
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	if err := checkContentType(ct); err != nil {
		return 0, "", err
	}
	if len(payload) == 0 {
		return 0, "", errs.Invalid("payload", "the payload is missing or empty: send the message's bytes (base64 in JSON, or as the raw body with the X-Chancery-Service header)")
	}
	return level, ct, nil
}

// checkContentType refuses a content type the receiver could never be
// given: it travels as the Content-Type header of the webhook's POST, so
// a control character (CR LF, NUL) or anything that is not a media type
// would make the message undeliverable and, delivery being in order,
// hold up every message behind it.
func checkContentType(ct string) error {
	if len(ct) > 255 {
		return errs.Invalid("content_type", "the content type is longer than 255 characters")
	}
	for i := 0; i < len(ct); i++ {
		if c := ct[i]; c < 0x20 || c >= 0x7f {
			return errs.Invalid("content_type", fmt.Sprintf("the content type holds the character %U at byte %d; use printable ASCII only, such as application/json", rune(c), i))
		}
	}
	mt, _, err := mime.ParseMediaType(ct)
	if typ, sub, ok := strings.Cut(mt, "/"); err != nil || !ok || typ == "" || sub == "" {
		return errs.Invalid("content_type", "the content type is not a media type such as application/json or text/plain; charset=utf-8")
	}
	return nil
}

// InboxMessage is a message as GET /api/v1/exchange/inbox lists it.
type InboxMessage struct {
	Seq         int64     `json:"seq"`
	ID          string    `json:"id"`
	Sender      string    `json:"sender"`
	Service     string    `json:"service"`
	Level       string    `json:"level"`
	ContentType string    `json:"content_type"`
	Time        time.Time `json:"time"`
	// Payload is base64; null when the body was erased after the
	// retention.
	Payload []byte `json:"payload"`
}

// InboxPage is the answer to GET /api/v1/exchange/inbox.
type InboxPage struct {
	Messages []InboxMessage `json:"messages"`
	// Next is the cursor to pass as "after" for the next page.
	Next string `json:"next"`
}

// DefaultInboxLimit is the page size of the inbox API when none is given.
const DefaultInboxLimit = 100

// pageQuery reads a list's "after" cursor (a sequence number, 0 if
// absent) and "limit" (between 1 and max, def if absent) from r's query.
func pageQuery(r *http.Request, def, max int) (after int64, limit int, err error) {
	q := r.URL.Query()
	limit = def
	if s := q.Get("after"); s != "" {
		if after, err = strconv.ParseInt(s, 10, 64); err != nil || after < 0 {
			return 0, 0, errs.Invalid("after", "after must be the next cursor of a previous page, a whole number")
		}
	}
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > max {
			return 0, 0, errs.Invalid("limit", fmt.Sprintf("limit must be between 1 and %d", max))
		}
	}
	return after, limit, nil
}

func (h *Handler) inbox(w http.ResponseWriter, r *http.Request, c ClientID) {
	after, limit, err := pageQuery(r, DefaultInboxLimit, MaxInboxPage)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	msgs, err := h.n.Inbox(r.Context(), c, after, limit)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	page := InboxPage{Messages: make([]InboxMessage, len(msgs)), Next: strconv.FormatInt(after, 10)}
	for i, m := range msgs {
		page.Messages[i] = InboxMessage{Seq: m.Seq, ID: m.ID, Sender: m.Sender.String(), Service: m.Service.String(), Level: m.Level.String(),
			ContentType: m.ContentType, Time: m.Time, Payload: m.Payload}
		page.Next = strconv.FormatInt(m.Seq, 10)
	}
	web.JSON(w, r, http.StatusOK, page)
}

// AckRequest is the body of POST /api/v1/exchange/inbox/ack.
type AckRequest struct {
	IDs []string `json:"ids"`
}

// AckResponse says how many messages were acknowledged.
type AckResponse struct {
	Acknowledged int64 `json:"acknowledged"`
}

func (h *Handler) ack(w http.ResponseWriter, r *http.Request, c ClientID) {
	var req AckRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	if len(req.IDs) == 0 {
		web.Error(w, r, errs.Invalid("ids", "list the ids of the messages to acknowledge"))
		return
	}
	k, err := h.n.Ack(r.Context(), c, req.IDs...)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, AckResponse{Acknowledged: k})
}

// WebhookRequest is the body of PUT /api/v1/exchange/webhook.
type WebhookRequest struct {
	URL string `json:"url"`
}

// WebhookResponse carries the webhook's signing secret, shown once.
type WebhookResponse struct {
	Secret string `json:"secret"`
}

func (h *Handler) setWebhook(w http.ResponseWriter, r *http.Request, c ClientID) {
	var req WebhookRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	secret, err := h.n.SetWebhook(r.Context(), c, req.URL)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, WebhookResponse{Secret: secret})
}

func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request, c ClientID) {
	if err := h.n.DeleteWebhook(r.Context(), c); err != nil {
		web.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// proof returns the proof of a message the client sent (direction out,
// the default) or received (in).
func (h *Handler) proof(w http.ResponseWriter, r *http.Request, c ClientID) {
	dir := r.URL.Query().Get("direction")
	if dir == "" {
		dir = "out"
	}
	if dir != "out" && dir != "in" {
		web.Error(w, r, errs.Invalid("direction", "direction must be out (a message you sent) or in (one you received)"))
		return
	}
	id := r.PathValue("id")
	if err := h.n.ownsMessage(r, dir, id); err != nil {
		web.Error(w, r, err)
		return
	}
	p, err := h.n.Proof(r.Context(), dir, TypeMessage, id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, p)
}

// ownsMessage reports, as an error wrapping errs.ErrNotFound otherwise,
// whether authz lets the request's client read the message: a system sees
// the proofs of the messages it sent (out) or received (in) only, and
// cannot learn that others exist.
func (n *Node) ownsMessage(r *http.Request, dir, id string) error {
	col := "sender"
	if dir == "in" {
		col = "recipient"
	}
	s := web.SubjectFrom(r.Context())
	var party string
	err := sql.ErrNoRows
	if plausibleMessageID(id) {
		err = n.db.QueryRowContext(r.Context(), n.db.Rebind(`SELECT `+col+` FROM exchange_log WHERE direction = ? AND type = 1 AND msg_id = ?`), dir, id).Scan(&party)
	}
	if err == nil {
		if d, _ := authz.Decide(s, authz.Read, authz.Resource{Kind: authz.KindMessage, Subsystem: party}); d != authz.Allowed {
			err = sql.ErrNoRows
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("exchange: no %s message %s of %s: %w", dir, id, s.Subsystem, errs.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("exchange: read message %s: %w", id, err)
	}
	return nil
}

// plausibleMessageID reports whether id could name a message in the log:
// at most 128 bytes of printable ASCII. Anything else (a NUL, which
// PostgreSQL refuses in text, a control character) names none, and is
// answered as such without asking the database.
func plausibleMessageID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= 0x20 || id[i] >= 0x7f {
			return false
		}
	}
	return true
}
