package procedures

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/web"
)

// publicFormField is a field of an application form as the page draws it from
// the procedure's schema: a group (a fieldset of Fields), a text, date,
// e-mail or number input, a text area, a select or radio group, or a
// checkbox.
type publicFormField struct {
	// Field holds what every form control has (id, name, label, hint,
	// value, error, required, checked) and names its hint and error for
	// aria-describedby; Options here shadows its choices, which a schema's
	// radio buttons need ids for.
	web.Field
	// Control is group, input, textarea, select, radio or checkbox.
	Control string
	// InputType is the type of an input: text, date, email or number.
	InputType string
	MinLength int
	MaxLength int
	Min, Max  string
	Step      string
	Options   []publicFieldOption
	Fields    []publicFormField
	// Prefill, for the personal identification number, is the button
	// beside it that fills the form from the population database, with
	// its hint; nil for every other field.
	Prefill *publicPrefill
	// Choose is the catalogue's word for a select's empty choice, in the
	// page's language.
	Choose string
}

// publicFieldOption is a choice of a select or radio group.
type publicFieldOption struct {
	ID       string
	Value    string
	Label    string
	Selected bool
}

// Radio lists of up to this many choices are drawn as radio buttons, so
// every choice is seen at once; longer ones as a select.
const publicMaxRadio = 4

// publicMaxLine is the longest text, in characters, typed on one line; a field
// allowing more is a text area.
const publicMaxLine = 250

// publicFormDrawing is what drawing a form's fields needs: the page's language,
// the values to show, the messages by JSON pointer, and the pointer of the
// identification number that prefilling reads.
type publicFormDrawing struct {
	tr     i18n.Localizer
	values url.Values
	errors map[string]string
	idPtr  string
	// verified is the number verified on the citizen's account, which
	// the prefill button fills the form from; empty if none is, and the
	// button gives way to a note saying so.
	verified string
}

// fields draws the schema's fields.
func (d publicFormDrawing) fields(fs []FormField) []publicFormField {
	out := make([]publicFormField, len(fs))
	for i, f := range fs {
		out[i] = d.field(f)
	}
	return out
}

// publicPrefill is the prefill button's words in the page's language.
type publicPrefill struct{ Button, Hint string }

func (d publicFormDrawing) field(f FormField) publicFormField {
	ff := publicFormField{Field: web.Field{ID: "f-" + strings.ReplaceAll(f.Name, ".", "-"), Name: f.Name, Label: pick(d.tr.Lang, f.TitleVI, f.TitleEN),
		Hint: pick(d.tr.Lang, f.HintVI, f.HintEN), Required: f.Required, Error: d.errors[f.Pointer],
		Value: d.values.Get(f.Name)}, Choose: d.tr.T("procedures.public.choose")}
	if d.idPtr != "" && f.Pointer == d.idPtr {
		ff.Prefill = &publicPrefill{Hint: d.tr.T("procedures.public.prefill.no_verified_id")}
		if d.verified != "" {
			ff.Prefill = &publicPrefill{Button: d.tr.T("procedures.public.prefill.button"),
				Hint: d.tr.T("procedures.public.prefill.hint", "••••••••"+d.verified[len(d.verified)-4:])}
		}
	}
	if f.Required {
		ff.RequiredNote = d.tr.T("form.required")
	}
	switch {
	case f.Type == TypeObject:
		ff.Control, ff.Fields = "group", d.fields(f.Fields)
	case f.Type == TypeBoolean && len(f.Options) == 0 && f.Required:
		// A checkbox cannot say "no"; a required yes-or-no question can.
		ff.Control = "radio"
		ff.Options = d.options(ff, []Option{{Value: "true", TitleVI: "Có", TitleEN: "Yes"}, {Value: "false", TitleVI: "Không", TitleEN: "No"}})
	case f.Type == TypeBoolean:
		// Unticked sends nothing, which the schema reads as absent; a box
		// that must be ticked has the single choice true.
		ff.Control, ff.Checked = "checkbox", ff.Value == "true" || ff.Value == "on"
	case len(f.Options) > publicMaxRadio:
		ff.Control, ff.Options = "select", d.options(ff, f.Options)
	case len(f.Options) > 0:
		ff.Control, ff.Options = "radio", d.options(ff, f.Options)
	case f.Type == TypeInteger || f.Type == TypeNumber:
		ff.Control, ff.InputType, ff.Min, ff.Max, ff.Step = "input", "number", f.Minimum, f.Maximum, "any"
		if f.Type == TypeInteger {
			ff.Step = "1"
		}
	case f.Format == FormatDate || f.Format == FormatEmail:
		ff.Control, ff.InputType, ff.MinLength, ff.MaxLength = "input", f.Format, f.MinLength, f.MaxLength
	case f.MaxLength > publicMaxLine:
		ff.Control, ff.MinLength, ff.MaxLength = "textarea", f.MinLength, f.MaxLength
	default:
		ff.Control, ff.InputType, ff.MinLength, ff.MaxLength = "input", "text", f.MinLength, f.MaxLength
	}
	return ff
}

func (d publicFormDrawing) options(ff publicFormField, opts []Option) []publicFieldOption {
	out := make([]publicFieldOption, len(opts))
	for i, o := range opts {
		out[i] = publicFieldOption{ID: ff.ID + "-" + o.Value, Value: o.Value, Label: pick(d.tr.Lang, o.TitleVI, o.TitleEN), Selected: ff.Value == o.Value}
	}
	return out
}

// publicPointers lists the JSON pointers of every field of fs, groups included.
func publicPointers(fs []FormField, into map[string]bool) {
	for _, f := range fs {
		into[f.Pointer] = true
		publicPointers(f.Fields, into)
	}
}

// publicApplyData is the view of the application form.
type publicApplyData struct {
	Code string
	Name string
	// Units are the units the citizen may apply to; none means the
	// procedure cannot be applied for online at this node.
	Units     []publicFieldOption
	UnitError string
	Fields    []publicFormField
	Prefilled bool
	// Notice says what prefilling found; Problem why the form came back.
	Notice  string
	Problem string
	Fees    []publicFeeView
	// Errors is the summary above the form: each message, linking to its
	// field.
	Errors []publicErrorLink
	Steps  publicStepper
}

// publicErrorLink is an entry of a form's error summary: the field's
// label and message, and the id of the control to move to ("" for a
// message that concerns no one field).
type publicErrorLink struct {
	Target string
	Label  string
	Text   string
}

// publicErrorLinks lists the messages of drawn fields in the form's order,
// each linking to its control: a radio group's first choice, since a
// fieldset takes no focus.
func publicErrorLinks(fs []publicFormField) []publicErrorLink {
	var out []publicErrorLink
	for _, f := range fs {
		if f.Error != "" {
			target := f.ID
			if f.Control == "radio" && len(f.Options) > 0 {
				target = f.Options[0].ID
			}
			out = append(out, publicErrorLink{Target: target, Label: f.Label, Text: f.Error})
		}
		out = append(out, publicErrorLinks(f.Fields)...)
	}
	return out
}

// The four steps of an application, as its pages' stepper shows them.
const (
	applyStepForm = iota
	applyStepDocuments
	applyStepFee
	applyStepSubmit
)

// applySteps returns the application's stepper at step current; the
// steps before it are done.
func applySteps(tr i18n.Localizer, current int) publicStepper {
	keys := []string{"procedures.public.apply.step_form", "procedures.public.apply.step_documents",
		"procedures.public.apply.step_fee", "procedures.public.apply.step_submit"}
	st := publicStepper{Label: tr.T("procedures.public.apply.steps")}
	for i, k := range keys {
		state := "todo"
		switch {
		case i < current:
			state = "done"
		case i == current:
			state = "current"
		}
		st.Steps = append(st.Steps, publicStep{Label: tr.T(k), State: state, StateText: tr.T("procedures.public.step." + state)})
	}
	return st
}

// publicApplyBack is an application form sent back: what was submitted and
// what to say about it.
type publicApplyBack struct {
	values    url.Values
	errors    map[string]string
	unitError string
	notice    string
	problem   string
	prefilled bool
	// loose are messages about no field the page draws.
	loose []string
}

func (h *Handler) pageApply(w http.ResponseWriter, r *http.Request) {
	pr, err := h.procedureOf(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	h.showApply(w, r, http.StatusOK, pr, publicApplyBack{values: accountValues(pr, web.PrincipalFrom(r.Context()))})
}

// accountValues fills a new application with what the citizen's account
// holds: the name they registered under, where the form takes the name in
// one field, and the e-mail address they sign in with.
func accountValues(pr *Procedure, p web.Principal) url.Values {
	v := url.Values{}
	if len(pr.Applicant.Name) == 1 && p.Name != "" {
		v.Set(inputName(pr.Applicant.Name[0]), p.Name)
	}
	if pr.Applicant.Email != "" && strings.Contains(p.Username, "@") {
		v.Set(inputName(pr.Applicant.Email), p.Username)
	}
	return v
}

// showApply draws the application form of pr with what was sent back.
func (h *Handler) showApply(w http.ResponseWriter, r *http.Request, status int, pr *Procedure, back publicApplyBack) {
	p := h.shell.Page(r, web.PublicSite, "procedures.public.apply.title")
	units, err := h.svc.UnitsFor(r.Context(), pr)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	data := publicApplyData{Code: pr.Code, Name: pick(p.Lang, pr.NameVI, pr.NameEN), UnitError: back.unitError,
		Prefilled: back.prefilled, Notice: back.notice, Problem: back.problem, Fees: publicViewFees(h.catalogueNotes(r, p.Localizer()), pr.Fees)}
	chosen := back.values.Get("unit")
	if chosen == "" && len(units) == 1 {
		chosen = units[0].Code
	}
	for _, u := range units {
		data.Units = append(data.Units, publicFieldOption{ID: "unit-" + u.Code, Value: u.Code, Label: publicUnitName(p.Lang, u) + " (" + u.Code + ")", Selected: u.Code == chosen})
	}
	draw := publicFormDrawing{tr: p.Localizer(), values: back.values, errors: back.errors}
	if h.svc.opts.Population != nil {
		draw.idPtr = pr.Applicant.IDNumber
		id, err := h.svc.VerifiedIDNumber(r.Context(), web.SubjectFrom(r.Context()).ID)
		if err != nil && !errors.Is(err, errs.ErrNotFound) {
			web.Error(w, r, err)
			return
		}
		draw.verified = id
	}
	data.Fields = draw.fields(pr.Form.Fields())
	data.Steps = applySteps(p.Localizer(), applyStepForm)
	if back.unitError != "" {
		data.Errors = append(data.Errors, publicErrorLink{Target: "apply-unit", Label: p.T("procedures.public.apply.unit"), Text: back.unitError})
	}
	data.Errors = append(data.Errors, publicErrorLinks(data.Fields)...)
	for _, msg := range back.loose {
		data.Errors = append(data.Errors, publicErrorLink{Text: msg})
	}
	h.pages.Render(w, r, status, "public_apply", web.View[publicApplyData]{Page: p, Data: data})
}

func (h *Handler) postApply(w http.ResponseWriter, r *http.Request) {
	pr, err := h.procedureOf(r)
	if err == nil {
		err = formValues(r)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	tr := h.shell.Localizer(r)
	back := publicApplyBack{values: r.PostForm, prefilled: r.PostForm.Get("prefilled") == "1"}
	if r.PostForm.Has("prefill") {
		h.prefill(w, r, pr, back)
		return
	}
	sub := web.SubjectFrom(r.Context())
	d, err := h.svc.CreateDraft(r.Context(), sub, NewDraft{Procedure: pr.Code, UnitCode: r.PostForm.Get("unit"),
		Form: pr.Form.FromValues(r.PostForm), Prefilled: back.prefilled})
	if err == nil {
		web.RedirectWithFlash(w, r, "/applications/"+d.ID, "procedures.public.flash.draft_created")
		return
	}
	var fe *FormError
	var field *errs.FieldError
	switch {
	case errors.As(err, &fe):
		back.errors = map[string]string{}
		known := map[string]bool{}
		publicPointers(pr.Form.Fields(), known)
		var loose []string
		for _, v := range fe.Violations {
			msg := pick(tr.Lang, v.MessageVI, v.MessageEN)
			if known[v.Pointer] {
				back.errors[v.Pointer] = msg
			} else {
				loose = append(loose, msg)
			}
		}
		back.problem, back.loose = tr.T("procedures.public.apply.errors", len(fe.Violations)), loose
	case errors.As(err, &field) && field.Field == "unit":
		back.unitError = tr.T("procedures.public.apply.unit_invalid")
		back.problem = tr.T("procedures.public.apply.errors", 1)
	default:
		web.Error(w, r, err)
		return
	}
	h.showApply(w, r, http.StatusUnprocessableEntity, pr, back)
}

// prefill fills the form from the National Population Database with the
// personal identification number verified on the citizen's account, never
// one typed in, keeping the rest of what they typed, and draws it again.
// An account without a verified number, a number the database does not
// know, too many lookups or a database out of reach is said on the page;
// the citizen then fills the form by hand.
func (h *Handler) prefill(w http.ResponseWriter, r *http.Request, pr *Procedure, back publicApplyBack) {
	tr := h.shell.Localizer(r)
	values, err := h.svc.Prefill(r.Context(), web.SubjectFrom(r.Context()), pr.Code)
	status := http.StatusOK
	switch {
	case err == nil:
		merged := url.Values{}
		for k, vs := range back.values {
			merged[k] = vs
		}
		for k, v := range values {
			merged.Set(k, v)
		}
		back.values, back.prefilled = merged, true
		back.notice = tr.T("procedures.public.prefill.done")
	case errors.Is(err, ErrNoVerifiedID):
		status = http.StatusConflict
		back.notice = tr.T("procedures.public.prefill.no_verified_id")
	case errors.Is(err, errs.ErrNotFound):
		back.notice = tr.T("procedures.public.prefill.not_found")
	case errors.Is(err, errs.ErrRateLimited):
		status = http.StatusTooManyRequests
		back.notice = tr.T("procedures.public.prefill.limited")
	case errors.Is(err, errs.ErrUnavailable):
		status = http.StatusServiceUnavailable
		back.notice = tr.T("procedures.public.prefill.unavailable")
	default:
		web.Error(w, r, err)
		return
	}
	h.showApply(w, r, status, pr, back)
}
