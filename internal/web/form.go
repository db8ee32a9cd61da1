package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/i18n"
)

// Forms on console pages are drawn by the "fields" and "problem" partials
// of the layout (templates/form.html) from these view models, so that
// every capability's forms label, hint and report errors the same way,
// tied together by aria-describedby.

// Field is one form control as the "field" partial draws it.
type Field struct {
	ID   string // element id, unique on the page
	Name string // form name, the same as the API's field name
	// Type is an input type, or "select", "textarea", "checkboxes",
	// "checkbox" or "hidden". A "number" is a whole number from 0 (a
	// sequence number, a count).
	Type     string
	Label    string
	Value    string
	Required bool
	Hint     string
	Error    string
	// ErrorDetail is the service's precise message, in English, shown
	// under an explanation in the page's language.
	ErrorDetail string
	Checked     bool     // for "checkbox"
	Options     []Option // for "select" and "checkboxes"
	// RequiredNote is the catalogue's "required" in the page's language.
	RequiredNote string
	// Autocomplete and InputMode, when set, are the input's attributes
	// of those names (sign-in forms: "current-password", "numeric").
	Autocomplete string
	InputMode    string
}

// DescribedBy lists the ids of the hint and error, for aria-describedby.
func (f Field) DescribedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.ID+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, f.ID+"-error")
	}
	return strings.Join(ids, " ")
}

// Option is a choice of a select or a checkbox group.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// Refusal is why a form was sent back: for a field, or for the whole
// form. The zero Refusal shows nothing.
type Refusal struct {
	Status  int
	Field   string
	Message string // in the page's language
	Detail  string // the service's message, in English, when Message is not it
}

// Form is a form being drawn: the page (for its language), the submitted
// or stored values, and the refusal to show, if any.
type Form struct {
	page   Page
	prefix string
	values url.Values
	ref    Refusal
	drawn  map[string]bool // names of the fields drawn so far
}

// NewForm returns a form drawn with values and showing ref. prefix makes
// element ids unique when a page has several forms.
func NewForm(p Page, prefix string, values url.Values, ref Refusal) *Form {
	return &Form{page: p, prefix: prefix, values: values, ref: ref, drawn: map[string]bool{}}
}

// Field returns a control named name of type typ, labelled with the
// catalogue text labelKey; the text labelKey+".hint", if any, is its hint.
func (f *Form) Field(name, typ, labelKey string, required bool) Field {
	f.drawn[name] = true
	fl := Field{ID: f.prefix + name, Name: name, Type: typ, Label: f.page.T(labelKey), Value: f.values.Get(name), Required: required}
	if required {
		fl.RequiredNote = f.page.T("form.required")
	}
	if hint := labelKey + ".hint"; f.page.Has(hint) {
		fl.Hint = f.page.T(hint)
	}
	if f.ref.Field == name {
		fl.Error, fl.ErrorDetail = f.ref.Message, f.ref.Detail
	}
	return fl
}

// Choice returns a select or checkbox group of opts, marking those whose
// value was submitted or stored.
func (f *Form) Choice(name, typ, labelKey string, required bool, opts []Option) Field {
	fl := f.Field(name, typ, labelKey, required)
	chosen := map[string]bool{}
	for _, v := range f.values[name] {
		chosen[v] = true
	}
	fl.Options = make([]Option, len(opts))
	for i, o := range opts {
		o.Selected = chosen[o.Value]
		fl.Options[i] = o
	}
	return fl
}

// Checkbox returns a single checkbox, checked when its value was
// submitted or stored as "true".
func (f *Form) Checkbox(name, labelKey string) Field {
	fl := f.Field(name, "checkbox", labelKey, false)
	fl.Checked = fl.Value == "true"
	return fl
}

// Message is the refusal to show above the form, called once its fields
// are drawn: all of it when no drawn field shows it (a conflict, a stale
// version), else a pointer to the field.
func (f *Form) Message() Refusal {
	if f.ref.Field == "" || !f.drawn[f.ref.Field] {
		return f.ref
	}
	return Refusal{Status: f.ref.Status, Message: f.page.T("form.errors")}
}

// FormError answers a form post that was refused with err: when explain
// can show err on the form, draw draws the form again with the refusal;
// anything else (not found, internal) is answered by Error.
func FormError(w http.ResponseWriter, r *http.Request, err error, explain func(error) (Refusal, bool), draw func(Refusal)) {
	noteError(r, err)
	ref, ok := explain(err)
	if !ok {
		Error(w, r, err)
		return
	}
	draw(ref)
}

// ListError is FormError for a list page's filter: it returns the
// refusal to show on the filter form and the status to answer with
// (200 and no refusal when err is nil). It reports false when explain
// cannot show err and it has answered err itself with Error; the
// handler then stops.
func ListError(w http.ResponseWriter, r *http.Request, err error, explain func(error) (Refusal, bool)) (Refusal, int, bool) {
	if err == nil {
		return Refusal{}, http.StatusOK, true
	}
	noteError(r, err)
	ref, ok := explain(err)
	if !ok {
		Error(w, r, err)
		return Refusal{}, 0, false
	}
	return ref, ref.Status, true
}

// SentBack is a form sent back to the page it came from, on a page with
// several forms: which form (its id prefix), what was submitted, and why
// it was refused. The zero SentBack is a page drawn afresh.
type SentBack struct {
	Form    string
	Values  url.Values
	Refusal Refusal
}

// NewForm returns the form of id prefix, drawn with what was submitted
// when it is the form sent back, else with stored (nil: empty).
func (b SentBack) NewForm(p Page, prefix string, stored url.Values) *Form {
	if b.Form == prefix {
		return NewForm(p, prefix, b.Values, b.Refusal)
	}
	return NewForm(p, prefix, stored, Refusal{})
}

// explained are the kinds of error a form can show above itself, with
// the status to answer with and the catalogue key (after a capability's
// prefix) that explains them.
var explained = []struct {
	kind   error
	status int
	key    string
}{
	{errs.ErrTooLarge, http.StatusRequestEntityTooLarge, "error.too_large"},
	{errs.ErrConflict, http.StatusConflict, "error.conflict"},
	{errs.ErrForbidden, http.StatusForbidden, "error.forbidden"},
	{errs.ErrInvalid, http.StatusBadRequest, "error.invalid"},
}

// Explain turns a service's refusal into what a capability's form shows,
// with the catalogue texts under prefix (such as "identity."). A field's
// error shows beside the field (422): the service explains in English, so
// a Vietnamese page leads with prefix+"invalid."+field when the catalogue
// has it and keeps the precise reason beside it. A conflict, a refusal,
// bad input or an upload too large shows above the form with
// prefix+"error.conflict" ("error.forbidden", "error.invalid",
// "error.too_large") when the catalogue has that key. It reports false
// for anything else (not found, internal, a kind the capability does not
// explain), which Error answers.
func Explain(p i18n.Localizer, prefix string, err error) (Refusal, bool) {
	var fe *errs.FieldError
	if errors.As(err, &fe) {
		ref := Refusal{Status: http.StatusUnprocessableEntity, Field: fe.Field, Message: fe.Message}
		if key := prefix + "invalid." + fe.Field; p.Lang != i18n.EN && p.Has(key) {
			ref.Message, ref.Detail = p.T(key), fe.Message
		}
		return ref, true
	}
	for _, e := range explained {
		if errors.Is(err, e.kind) {
			if !p.Has(prefix + e.key) {
				return Refusal{}, false
			}
			return Refusal{Status: e.status, Message: p.T(prefix + e.key), Detail: err.Error()}, true
		}
	}
	return Refusal{}, false
}

// LevelOptions lists the classification levels, lowest first, for a
// select, labelled with the catalogue texts keyPrefix + the level's name
// ("identity.level." → "identity.level.none").
func LevelOptions(p Page, keyPrefix string) []Option {
	var opts []Option
	for l := authz.Unclassified; l.Valid(); l++ {
		opts = append(opts, Option{Value: l.String(), Label: p.T(keyPrefix + l.String())})
	}
	return opts
}
