package identity

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/web"
)

// field is one form control as the "field" partial draws it: a label, the
// control, an optional hint and the error tied to it by aria-describedby.
type field struct {
	ID       string // element id, unique on the page
	Name     string // form name, the same as the API's field name
	Type     string // an input type, or "select", "checkboxes", "checkbox"
	Label    string
	Value    string
	Required bool
	Hint     string
	Error    string
	// ErrorDetail is the service's precise message, in English, shown
	// under a Vietnamese explanation.
	ErrorDetail string
	Checked     bool     // for "checkbox"
	Options     []option // for "select" and "checkboxes"
	// RequiredNote is the catalogue's "required" in the page's language.
	RequiredNote string
}

// DescribedBy lists the ids of the hint and error, for aria-describedby.
func (f field) DescribedBy() string {
	switch {
	case f.Hint != "" && f.Error != "":
		return f.ID + "-hint " + f.ID + "-error"
	case f.Hint != "":
		return f.ID + "-hint"
	case f.Error != "":
		return f.ID + "-error"
	}
	return ""
}

// option is a choice of a select or a checkbox group.
type option struct {
	Value    string
	Label    string
	Selected bool
}

// problem is a refusal shown on a form: per field, or for the whole form.
type problem struct {
	Status  int
	Field   string
	Message string // in the page's language
	Detail  string // the service's message, in English, when Message is not it
}

// form is a form being drawn: the page (for its language), the submitted
// or stored values, and the refusal to show, if any.
type form struct {
	page   web.Page
	prefix string // makes ids unique when a page has several forms
	values url.Values
	prob   problem
	drawn  map[string]bool // names of the fields drawn so far
}

// newForm returns a form drawn with values and showing prob.
func newForm(p web.Page, prefix string, values url.Values, prob problem) *form {
	return &form{page: p, prefix: prefix, values: values, prob: prob, drawn: map[string]bool{}}
}

// field returns a control named name of type typ, labelled with key.
func (f *form) field(name, typ, labelKey string, required bool) field {
	f.drawn[name] = true
	fl := field{ID: f.prefix + name, Name: name, Type: typ, Label: f.page.T(labelKey), Value: f.values.Get(name), Required: required}
	if required {
		fl.RequiredNote = f.page.T("form.required")
	}
	if hint := labelKey + ".hint"; i18n.Has(hint) {
		fl.Hint = f.page.T(hint)
	}
	if f.prob.Field == name {
		fl.Error, fl.ErrorDetail = f.prob.Message, f.prob.Detail
	}
	return fl
}

// choice returns a select or checkbox group of options, marking those whose
// value was submitted or stored.
func (f *form) choice(name, typ, labelKey string, required bool, opts []option) field {
	fl := f.field(name, typ, labelKey, required)
	chosen := map[string]bool{}
	for _, v := range f.values[name] {
		chosen[v] = true
	}
	fl.Options = make([]option, len(opts))
	for i, o := range opts {
		o.Selected = chosen[o.Value]
		fl.Options[i] = o
	}
	return fl
}

// checkbox returns a single checkbox, checked when its value was
// submitted or stored as "true".
func (f *form) checkbox(name, labelKey string) field {
	fl := f.field(name, "checkbox", labelKey, false)
	fl.Checked = fl.Value == "true"
	return fl
}

// message is the refusal to show above the form, called once its fields
// are drawn: all of it when no drawn field shows it (a conflict, a stale
// version), else a pointer to the field.
func (f *form) message() problem {
	if f.prob.Field == "" || !f.drawn[f.prob.Field] {
		return f.prob
	}
	return problem{Status: f.prob.Status, Message: f.page.T("form.errors")}
}

// explain turns a service error into what a form shows: which field,
// the message in the page's language, and the status to answer with. It
// reports false for errors a form cannot show (not found, internal), which
// web.Error answers.
func explain(p web.Page, err error) (problem, bool) {
	var fe *errs.FieldError
	switch {
	case errors.As(err, &fe):
		// The service explains in English; a Vietnamese page leads with
		// the catalogue's explanation of the field and keeps the precise
		// reason beside it.
		if key := "identity.invalid." + fe.Field; p.Lang != i18n.EN && i18n.Has(key) {
			return problem{Status: http.StatusUnprocessableEntity, Field: fe.Field, Message: p.T(key), Detail: fe.Message}, true
		}
		return problem{Status: http.StatusUnprocessableEntity, Field: fe.Field, Message: fe.Message}, true
	case errors.Is(err, errs.ErrConflict):
		return problem{Status: http.StatusConflict, Message: p.T("identity.error.conflict"), Detail: err.Error()}, true
	case errors.Is(err, errs.ErrInvalid):
		return problem{Status: http.StatusBadRequest, Message: p.T("identity.error.invalid"), Detail: err.Error()}, true
	}
	return problem{}, false
}

// kindOptions lists the unit kinds for a select.
func kindOptions(p web.Page, withAny bool) []option {
	var opts []option
	if withAny {
		opts = append(opts, option{Value: "", Label: p.T("identity.any")})
	}
	for _, k := range UnitKinds {
		opts = append(opts, option{Value: string(k), Label: p.T("identity.kind." + string(k))})
	}
	return opts
}

// roleOptions lists the roles for checkboxes or a select.
func roleOptions(p web.Page) []option {
	var opts []option
	for _, r := range authz.AllRoles() {
		opts = append(opts, option{Value: r.String(), Label: p.T("identity.role." + r.String())})
	}
	return opts
}

// levelOptions lists the clearance levels for a select.
func levelOptions(p web.Page) []option {
	var opts []option
	for l := authz.Unclassified; l.Valid(); l++ {
		opts = append(opts, option{Value: l.String(), Label: p.T("identity.level." + l.String())})
	}
	return opts
}

// unitName is the unit's name in the page's language.
func unitName(p web.Page, u Unit) string {
	if p.Lang == i18n.EN {
		return u.NameEN
	}
	return u.NameVI
}

// unitOptions lists the active units for a select, by code, leaving out
// skip (a unit cannot be its own parent).
func unitOptions(p web.Page, units []Unit, skip int64, withAny bool) []option {
	var opts []option
	if withAny {
		opts = append(opts, option{Value: "", Label: p.T("identity.any")})
	}
	sorted := append([]Unit(nil), units...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Code < sorted[j].Code })
	for _, u := range sorted {
		if u.Status == UnitActive && u.ID != skip {
			opts = append(opts, option{Value: strconv.FormatInt(u.ID, 10), Label: u.Code + " — " + unitName(p, u)})
		}
	}
	return opts
}

// nextHref is the link to the page of a list after cursor next, keeping
// the other query parameters; empty after the last page.
func nextHref(r *http.Request, next int64) string {
	if next == 0 {
		return ""
	}
	q := r.URL.Query()
	q.Del("flash")
	q.Set("after", strconv.FormatInt(next, 10))
	return r.URL.Path + "?" + q.Encode()
}

// unitValues are a unit's stored fields as form values.
func unitValues(u Unit) url.Values {
	return url.Values{"code": {u.Code}, "name_vi": {u.NameVI}, "name_en": {u.NameEN}, "kind": {string(u.Kind)},
		"parent_id": {idString(u.ParentID)}, "country": {u.Country}, "time_zone": {u.TimeZone}, "version": {strconv.Itoa(u.Version)}}
}

// idString writes an id for a form; zero is empty.
func idString(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// dateOf writes a time as a date in the ministry's zone.
func dateOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(ministryZone).Format(time.DateOnly)
}

// formError answers a form submission that the service refused: the form
// again with the problem shown (via draw), or web.Error for what a form
// cannot show.
func formError(w http.ResponseWriter, r *http.Request, p web.Page, err error, draw func(problem)) {
	prob, ok := explain(p, err)
	if !ok {
		web.Error(w, r, err)
		return
	}
	draw(prob)
}

// formID parses an id field of a submitted form; empty is zero.
func formID(r *http.Request, name string) (int64, error) {
	return optionalID(name, r.PostFormValue(name))
}

// formVersion parses the version a form was drawn from.
func formVersion(r *http.Request) (int, error) {
	v := r.PostFormValue("version")
	n, err := optionalInt("version", v)
	if err != nil || n == 0 {
		return 0, errs.Invalid("version", "is missing; reload the page")
	}
	return n, nil
}

// parseForm reads the submitted form, refusing a malformed body.
func parseForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("%w: the form could not be read: %v", errs.ErrInvalid, err)
	}
	return nil
}
