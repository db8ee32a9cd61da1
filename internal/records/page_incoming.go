package records

import (
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// incomingData is the page where the records office registers an
// incoming document: Decree 30's incoming register's metadata (the
// arrival number is the register's next, taken on saving), with its
// file.
type incomingData struct {
	Unit     string
	Arrival  []web.Field
	Sender   []web.Field
	Subject  []web.Field
	Handling []web.Field
	// Shared is the distribution list's choice of units, folded away.
	Shared  []web.Field
	Secret  []web.Field
	File    []web.Field
	Problem web.Refusal
	// Duplicates are documents already registered from the same sender
	// with the same number and date; Confirm is the box that registers
	// it all the same.
	Duplicates []docRow
	Confirm    []web.Field
	MaxUpload  string
	// Text is the document's text the assistant suggests from
	// (suggest.go); Suggested its suggestions once asked, each with the
	// button that puts it in its field (none for the handling unit, which
	// the leader's instruction names), and NoSuggestion that it had too
	// little history to suggest anything.
	Text         []web.Field
	Suggested    []suggestionRow
	NoSuggestion bool
}

// suggestionRow is one of the assistant's suggestions, as shown.
type suggestionRow struct {
	Key, LabelKey string
	Value         string
	Confidence    string
	// Use is the field the suggestion fills when accepted; empty: shown
	// only.
	Use string
}

// incomingChannels are the channels a clerk registers from; the
// exchange's packages are registered by the exchange.
var incomingChannels = []Channel{ChannelPaper, ChannelEmail, ChannelOther}

func (h *Handler) pageIncomingNew(w http.ResponseWriter, r *http.Request) {
	h.showIncoming(w, r, http.StatusOK, url.Values{"channel": {string(ChannelPaper)}, "date": {h.svc.now().In(registerZone()).Format("2006-01-02")}},
		web.Refusal{}, nil, nil)
}

// showIncoming draws the incoming form with values, the refusal ref and
// the duplicates found.
func (h *Handler) showIncoming(w http.ResponseWriter, r *http.Request, status int, values url.Values, ref web.Refusal, dups []*Document, sg *Suggestions) {
	p := h.shell.Page(r, web.Console, "records.pages.incoming.title")
	sub := web.SubjectFrom(r.Context())
	n, err := h.loadNames(r.Context(), p.Lang, nil)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	fm := web.NewForm(p, "in-", values, ref)
	opts := func(prefix string, vals []string) []web.Option {
		out := make([]web.Option, len(vals))
		for i, v := range vals {
			out[i] = web.Option{Value: v, Label: p.T(prefix + v)}
		}
		return out
	}
	var channels, urgencies, levels []string
	for _, c := range incomingChannels {
		channels = append(channels, string(c))
	}
	for u := Normal; u <= Flash; u++ {
		urgencies = append(urgencies, u.String())
	}
	// Only the levels the clerk is cleared for are offered (a document
	// above them could not be registered, nor seen again), from the
	// level the session works at (what is created in it is classified at
	// least at that level: no write down).
	for l := sub.Session; l <= sub.Clearance && l.Valid(); l++ {
		levels = append(levels, l.String())
	}
	types := []web.Option{{Value: "", Label: p.T("records.pages.choose")}}
	for _, t := range DocTypes() {
		label := t.NameVI
		if t.Abbr != "" {
			label += " (" + t.Abbr + ")"
		}
		types = append(types, web.Option{Value: t.Key, Label: label})
	}
	var units []web.Option
	for _, u := range sortedUnits(n) {
		if u.ID != sub.Unit {
			units = append(units, web.Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Name(p.Lang)})
		}
	}
	data := incomingData{Unit: n.unit(sub.Unit), MaxUpload: byteSize(h.maxUpload())}
	data.Arrival = []web.Field{fm.Choice("channel", "select", "records.pages.incoming.channel", true, opts("records.pages.channel.", channels))}
	data.Sender = []web.Field{
		fm.Field("sender", "text", "records.pages.incoming.sender", true),
		fm.Field("number", "text", "records.pages.incoming.number", false),
		fm.Field("date", "date", "records.pages.incoming.date", true),
		fm.Choice("type", "select", "records.pages.incoming.type", true, types),
	}
	data.Subject = []web.Field{fm.Field("subject", "textarea", "records.pages.incoming.subject", true)}
	data.Handling = []web.Field{
		fm.Choice("urgency", "select", "records.pages.incoming.urgency", false, opts("records.urgency.", urgencies)),
		fm.Field("due", "date", "records.pages.incoming.due", false),
	}
	data.Shared = []web.Field{fm.Choice("shared_units", "checkboxes", "records.pages.incoming.shared", false, units)}
	data.Secret = []web.Field{
		fm.Choice("classification", "select", "records.pages.incoming.level", true, opts("records.level.", levels)),
		fm.Field("classification_reason", "text", "records.pages.incoming.reason", false),
		fm.Field("classification_source", "text", "records.pages.incoming.source", false),
	}
	file := fm.Field("file", "file", "records.pages.incoming.file", false)
	file.Hint = p.T("records.pages.incoming.file.hint", data.MaxUpload)
	data.File = []web.Field{file}
	if len(dups) > 0 {
		for _, d := range dups {
			data.Duplicates = append(data.Duplicates, newDocRow(p, n, d, h.svc.now()))
		}
		data.Confirm = []web.Field{fm.Checkbox("confirm_duplicate", "records.pages.incoming.confirm")}
	}
	data.Text = []web.Field{fm.Field("text", "textarea", "records.suggest.text", false)}
	if sg != nil {
		data.Suggested, data.NoSuggestion = suggestionRows(p, n, sg), sg.Type == nil && sg.Urgency == nil && sg.Subject == nil && sg.Handler == nil
	}
	data.Problem = fm.Message()
	h.pages.Render(w, r, status, "console_records_incoming", web.View[incomingData]{Page: p, Data: data})
}

// suggestionRows shows the assistant's suggestions: each field's value
// in words, with its confidence.
func suggestionRows(p web.Page, n *names, sg *Suggestions) []suggestionRow {
	var out []suggestionRow
	add := func(key, use string, s *Suggested, show func(string) string) {
		if s != nil {
			out = append(out, suggestionRow{Key: key, LabelKey: "records.suggest." + key, Value: show(s.Value), Use: use,
				Confidence: strconv.Itoa(int(math.Round(s.Confidence*100))) + " %"})
		}
	}
	add("type", "type", sg.Type, func(v string) string {
		if t, err := LookupType(v); err == nil {
			return t.NameVI
		}
		return v
	})
	add("urgency", "urgency", sg.Urgency, func(v string) string { return p.T("records.urgency." + v) })
	add("subject", "subject", sg.Subject, func(v string) string { return v })
	add("handler", "", sg.Handler, func(v string) string {
		id, _ := strconv.ParseInt(v, 10, 64)
		return n.unit(id)
	})
	return out
}

// suggestedFields are the incoming form's fields a suggestion may fill.
var suggestedFields = map[string]func(*Suggestions) *Suggested{
	"type":    func(s *Suggestions) *Suggested { return s.Type },
	"urgency": func(s *Suggestions) *Suggested { return s.Urgency },
	"subject": func(s *Suggestions) *Suggested { return s.Subject },
}

// showSuggestions answers the incoming form's "suggest" and "use"
// buttons: the form again, as filled, with the assistant's suggestions
// for its text; "use" puts one suggestion in its field, as the clerk
// asked (the assistant never fills a field by itself). Nothing is
// registered.
func (h *Handler) showSuggestions(w http.ResponseWriter, r *http.Request, values url.Values) {
	sg, err := h.svc.Suggest(r.Context(), web.SubjectFrom(r.Context()), values.Get("text"))
	if err != nil {
		h.formError(w, r, err, func(ref web.Refusal) { h.showIncoming(w, r, ref.Status, values, ref, nil, nil) })
		return
	}
	if pick, ok := suggestedFields[values.Get("use")]; ok {
		if s := pick(sg); s != nil {
			values.Set(values.Get("use"), s.Value)
		}
	}
	h.showIncoming(w, r, http.StatusOK, values, web.Refusal{}, nil, sg)
}

// sortedUnits lists the names' units by code.
func sortedUnits(n *names) []unitInfo {
	out := make([]unitInfo, 0, len(n.units))
	for _, u := range n.units {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b unitInfo) int { return strings.Compare(a.Code, b.Code) })
	return out
}

func (h *Handler) pagePostIncoming(w http.ResponseWriter, r *http.Request) {
	values, content, ref, err := h.readIncomingForm(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	if values.Has("suggest") || values.Has("use") {
		h.showSuggestions(w, r, values)
		return
	}
	if ref.Message != "" {
		h.showIncoming(w, r, ref.Status, values, ref, nil, nil)
		return
	}
	in, err := parseIncoming(values)
	if err != nil {
		h.formError(w, r, err, func(ref web.Refusal) { h.showIncoming(w, r, ref.Status, values, ref, nil, nil) })
		return
	}
	in.Content = content
	sub := web.SubjectFrom(r.Context())
	if values.Get("confirm_duplicate") != "true" {
		dups, err := h.svc.Duplicates(r.Context(), sub, in.Sender, in.Number, in.Date)
		if err != nil {
			web.Error(w, r, err)
			return
		}
		if len(dups) > 0 {
			tr := h.shell.Localizer(r)
			h.showIncoming(w, r, http.StatusConflict, values, web.Refusal{Status: http.StatusConflict, Message: tr.T("records.pages.incoming.duplicate")}, dups, nil)
			return
		}
	}
	d, err := h.svc.RegisterIncoming(r.Context(), sub, in)
	if err != nil {
		h.formError(w, r, err, func(ref web.Refusal) { h.showIncoming(w, r, ref.Status, values, ref, nil, nil) })
		return
	}
	web.RedirectWithFlash(w, r, consoleDocumentPath(d.ID), "records.pages.flash.registered")
}

// readIncomingForm reads the incoming form's body: multipart with its
// file (streamed, checked by CheckFile) or url-encoded without one. A
// refused file is a refusal to show beside the file input, with the
// fields read; err is anything else (a body that cannot be read).
func (h *Handler) readIncomingForm(r *http.Request) (url.Values, *Content, web.Refusal, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		if err := r.ParseForm(); err != nil {
			return nil, nil, web.Refusal{}, fmt.Errorf("%w: the form could not be read: %v", errs.ErrInvalid, err)
		}
		return r.PostForm, nil, web.Refusal{}, nil
	}
	// The body is held to RequestLimit by the app (IsUpload), the file
	// to the limit as it streams.
	limit := h.maxUpload()
	mr, err := web.MultipartReader(r)
	if err != nil {
		return nil, nil, web.Refusal{}, fmt.Errorf("%w: the form could not be read: %v", errs.ErrInvalid, err)
	}
	up, err := readMultipartUpload(mr, "file", limit)
	if err != nil {
		return nil, nil, web.Refusal{}, err
	}
	values := up.fields
	if up.fileErr != nil {
		ref, ok := pageExplain(h.shell.Localizer(r), up.fileErr)
		if !ok {
			return nil, nil, web.Refusal{}, up.fileErr
		}
		// Whatever is wrong with the file (its name, type or size) is
		// shown beside its input.
		ref.Field = "file"
		if errors.Is(up.fileErr, errs.ErrTooLarge) {
			ref.Status = http.StatusRequestEntityTooLarge
		}
		return values, nil, ref, nil
	}
	return values, up.file, web.Refusal{}, nil
}

// parseIncoming reads the form's fields into a NewIncoming, refusing a
// malformed one with the field it is about.
func parseIncoming(v url.Values) (NewIncoming, error) {
	in := NewIncoming{Type: v.Get("type"), Number: strings.TrimSpace(v.Get("number")), Sender: strings.TrimSpace(v.Get("sender")),
		Subject: strings.TrimSpace(v.Get("subject"))}
	var err error
	if in.Channel, err = ParseChannel(v.Get("channel")); err != nil {
		return in, err
	}
	if in.Type == "" {
		return in, errs.Invalid("type", "choose the document's type")
	}
	if in.Date, err = parseDay("date", v.Get("date"), true); err != nil {
		return in, err
	}
	if in.DueAt, err = parseDay("due", v.Get("due"), false); err != nil {
		return in, err
	}
	if !in.DueAt.IsZero() {
		in.DueAt = in.DueAt.Add(24*time.Hour - time.Microsecond) // due by the end of the day
	}
	if in.Urgency, err = ParseUrgency(v.Get("urgency")); err != nil {
		return in, err
	}
	if in.Level, err = authz.ParseLevel(v.Get("classification")); err != nil {
		return in, errs.Invalid("classification", "choose a level")
	}
	in.Reason, in.Source = strings.TrimSpace(v.Get("classification_reason")), strings.TrimSpace(v.Get("classification_source"))
	if in.Level > authz.Unclassified && in.Reason == "" {
		return in, errs.Invalid("classification_reason", "a classified document needs the ground of its classification")
	}
	for _, s := range v["shared_units"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return in, errs.Invalid("shared_units", "choose units from the list")
		}
		in.Shared = append(in.Shared, id)
	}
	return in, nil
}

// parseDay parses a date input's value (2026-03-10) as the start of that
// day in the ministry's zone.
func parseDay(field, s string, required bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return time.Time{}, errs.Invalid(field, "is required")
		}
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, registerZone())
	if err != nil || t.Year() < 1945 || t.Year() > 9999 {
		return time.Time{}, errs.Invalid(field, "must be a date such as 2026-03-10")
	}
	return t, nil
}
