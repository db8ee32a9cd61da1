package procedures

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"chancery/internal/identity"
	"chancery/internal/web"
)

// consoleNewData is the page where a clerk enters a dossier handed in at
// the counter or received by post: first the procedure, then its form,
// its papers and the fee.
type consoleNewData struct {
	Unit           string
	Chooser        []web.Field
	ChooserProblem web.Refusal
	// Chosen reports whether a procedure is chosen and its form drawn.
	Chosen        bool
	ProcedureCode string
	Procedure     string
	Fee           string
	HasFee        bool
	Head          []web.Field
	Inputs        []publicFormField
	Documents     []web.Field
	Paid          []web.Field
	Problem       web.Refusal
}

// consoleChannels are the channels a clerk enters dossiers on.
var consoleChannels = []Channel{ChannelInPerson, ChannelPostal}

// consoleEntry is a dossier being entered: what was sent, and why it was
// refused. The zero value is a form drawn afresh.
type consoleEntry struct {
	values url.Values
	ref    web.Refusal
	form   *FormError
}

// clerkUnit returns the staff member's unit and the procedures it
// implements, by code.
func (h *Handler) clerkUnit(r *http.Request) (identity.Unit, []*Procedure, error) {
	u, err := h.svc.opts.Directory.Unit(r.Context(), web.SubjectFrom(r.Context()).Unit)
	if err != nil {
		return identity.Unit{}, nil, fmt.Errorf("procedures: your unit: %w", err)
	}
	return u, h.svc.Catalogue().ForUnit(u.Code, u.Kind.Mission()), nil
}

func (h *Handler) consoleNewDossier(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("channel") == "" {
		q.Set("channel", strconv.Itoa(int(ChannelInPerson)))
	}
	h.showConsoleNew(w, r, http.StatusOK, consoleEntry{values: q})
}

// showConsoleNew draws the entry page: the chooser, and the chosen
// procedure's form.
func (h *Handler) showConsoleNew(w http.ResponseWriter, r *http.Request, status int, e consoleEntry) {
	p := h.shell.Page(r, web.Console, "procedures.console.new.title")
	u, procs, err := h.clerkUnit(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	data := consoleNewData{Unit: publicUnitName(p.Lang, u)}
	code := e.values.Get("procedure")
	idx := slices.IndexFunc(procs, func(x *Procedure) bool { return x.Code == code })
	chooserRef := web.Refusal{}
	if code != "" && idx < 0 {
		chooserRef = web.Refusal{Status: http.StatusBadRequest, Field: "procedure", Message: p.T("procedures.console.new.not_here")}
		status = chooserRef.Status
	}
	opts := []web.Option{{Value: "", Label: p.T("procedures.public.choose")}}
	for _, x := range procs {
		opts = append(opts, web.Option{Value: x.Code, Label: x.Code + " — " + pick(p.Lang, x.NameVI, x.NameEN)})
	}
	channels := make([]web.Option, len(consoleChannels))
	for i, c := range consoleChannels {
		channels[i] = web.Option{Value: strconv.Itoa(int(c)), Label: p.T(c.Key())}
	}
	cf := web.NewForm(p, "choose-", e.values, chooserRef)
	data.Chooser = []web.Field{
		cf.Choice("procedure", "select", "procedures.console.new.procedure", true, opts),
		cf.Choice("channel", "select", "procedures.console.new.channel", true, channels),
	}
	data.ChooserProblem = cf.Message()
	if idx < 0 {
		h.pages.Render(w, r, status, "console_new", web.View[consoleNewData]{Page: p, Data: data})
		return
	}

	proc := procs[idx]
	fee, currency := feeOf(proc, u.Kind.Mission())
	data.Chosen, data.ProcedureCode, data.Procedure = true, proc.Code, pick(p.Lang, proc.NameVI, proc.NameEN)
	data.Fee, data.HasFee = formatAmount(p.Localizer(), fee, currency), fee > 0
	fm := web.NewForm(p, "entry-", e.values, e.ref)
	data.Head = []web.Field{fm.Choice("channel", "select", "procedures.console.new.channel", true, channels)}
	draw := publicFormDrawing{tr: p.Localizer(), values: e.values, errors: map[string]string{}}
	if e.form != nil {
		for _, v := range e.form.Violations {
			draw.errors[v.Pointer] = pick(p.Lang, v.MessageVI, v.MessageEN)
		}
	}
	data.Inputs = draw.fields(proc.Form.Fields())
	for _, doc := range proc.Documents {
		// No scan is required: a paper handed in may be kept on paper only,
		// and the dossier is then counted as not digitised.
		f := fm.Field("doc."+doc.Key, "file", "procedures.console.new.file", false)
		f.Label = pick(p.Lang, doc.NameVI, doc.NameEN)
		f.Hint = p.T("procedures.console.new.file.optional")
		if doc.Required {
			f.Hint = p.T("procedures.console.new.file.required")
		}
		data.Documents = append(data.Documents, f)
	}
	if data.HasFee {
		receipt := fm.Field("receipt", "text", "procedures.console.new.receipt", false)
		receipt.Hint = p.T("procedures.console.new.receipt.hint")
		data.Paid = []web.Field{receipt}
	}
	data.Problem = fm.Message()
	if e.form != nil && data.Problem.Message == "" {
		data.Problem = web.Refusal{Status: http.StatusUnprocessableEntity, Message: p.T("form.errors")}
	}
	h.pages.Render(w, r, status, "console_new", web.View[consoleNewData]{Page: p, Data: data})
}

func (h *Handler) consolePostNewDossier(w http.ResponseWriter, r *http.Request) {
	f, ref, err := h.readEntry(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	// Every file stored is the entry's to list or to discard: Submit
	// takes those of the procedure's documents, the rest go now.
	defer func() { h.svc.DiscardUploads(r.Context(), f.uploads()) }()
	values := f.values
	u, procs, err := h.clerkUnit(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	idx := slices.IndexFunc(procs, func(x *Procedure) bool { return x.Code == values.Get("procedure") })
	if idx < 0 {
		h.showConsoleNew(w, r, http.StatusBadRequest, consoleEntry{values: values})
		return
	}
	proc := procs[idx]
	form := proc.Form.FromValues(values)
	entry := consoleEntry{values: values}
	errors.As(proc.Form.ValidateValue(form), &entry.form)
	if entry.form != nil || ref.Message != "" {
		entry.ref = ref
		status := http.StatusUnprocessableEntity
		if ref.Status != 0 {
			status = ref.Status
		}
		h.showConsoleNew(w, r, status, entry)
		return
	}
	var uploads []Upload
	for _, doc := range proc.Documents {
		for _, up := range f.files["doc."+doc.Key] {
			up.DocumentKey = doc.Key
			uploads = append(uploads, up)
		}
		delete(f.files, "doc."+doc.Key)
	}
	channel, _ := strconv.Atoi(values.Get("channel"))
	d, err := h.svc.Submit(r.Context(), web.SubjectFrom(r.Context()), Submission{Procedure: proc.Code, UnitCode: u.Code,
		Channel: Channel(channel), Form: form, Attachments: uploads, Receipt: values.Get("receipt")})
	if err != nil {
		h.consoleFormError(w, r, err, func(ref web.Refusal) {
			entry := consoleEntry{values: values, ref: ref}
			errors.As(err, &entry.form)
			h.showConsoleNew(w, r, ref.Status, entry)
		})
		return
	}
	web.RedirectWithFlash(w, r, consoleDossierPath(d.Code), "procedures.console.flash.entered")
}

// readEntry reads an entry's body: multipart with its files (one input
// per document of the procedure, "doc.{key}"), stored as they stream in
// (readPageForm), or url-encoded when no file input was sent. A refused
// file is a refusal to show beside its input, with the form's fields read;
// err is anything else, the files then discarded.
func (h *Handler) readEntry(r *http.Request) (pageForm, web.Refusal, error) {
	f, err := h.readPageForm(r, func(input string) bool { return strings.HasPrefix(input, "doc.") })
	if errors.Is(err, http.ErrNotMultipart) {
		if err = formValues(r); err == nil {
			f.values = r.PostForm
		}
	}
	fe, ok := errors.AsType[*pageFileError](err)
	if !ok {
		return f, web.Refusal{}, err
	}
	ref := web.Refusal{Status: web.Status(err), Field: fe.input, Message: fe.err.Error()}
	if ue, ok := errors.AsType[*UploadError](err); ok {
		ref = web.Refusal{Status: uploadStatus(err), Field: fe.input, Message: ue.Message(web.LangFrom(r.Context()))}
	}
	return f, ref, nil
}
