package identity

import (
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

// explain turns a directory error into what a form shows (see
// web.Explain).
func explain(p web.Page, err error) (web.Refusal, bool) {
	return web.Explain(p.Localizer(), "identity.", err)
}

// kindOptions lists the unit kinds for a select.
func kindOptions(p web.Page, withAny bool) []web.Option {
	var opts []web.Option
	if withAny {
		opts = append(opts, web.Option{Value: "", Label: p.T("identity.any")})
	}
	for _, k := range UnitKinds {
		opts = append(opts, web.Option{Value: string(k), Label: p.T("identity.kind." + string(k))})
	}
	return opts
}

// roleOptions lists the roles for checkboxes or a select.
func roleOptions(p web.Page) []web.Option {
	var opts []web.Option
	for _, r := range authz.AllRoles() {
		opts = append(opts, web.Option{Value: r.String(), Label: p.T("identity.role." + r.String())})
	}
	return opts
}

// levelOptions lists the clearance levels for a select.
func levelOptions(p web.Page) []web.Option { return web.LevelOptions(p, "identity.level.") }

// unitName is the unit's name in the page's language.
func unitName(p web.Page, u Unit) string {
	if p.Lang == i18n.EN {
		return u.NameEN
	}
	return u.NameVI
}

// unitOptions lists the active units for a select, by code, leaving out
// skip (a unit cannot be its own parent).
func unitOptions(p web.Page, units []Unit, skip int64, withAny bool) []web.Option {
	var opts []web.Option
	if withAny {
		opts = append(opts, web.Option{Value: "", Label: p.T("identity.any")})
	}
	sorted := append([]Unit(nil), units...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Code < sorted[j].Code })
	for _, u := range sorted {
		if u.Status == UnitActive && u.ID != skip {
			opts = append(opts, web.Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Code + " — " + unitName(p, u)})
		}
	}
	return opts
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
	return t.In(web.MinistryZone()).Format(time.DateOnly)
}

// formError answers a form submission that the service refused: the form
// again with the problem shown (via draw), or web.Error for what a form
// cannot show.
func formError(w http.ResponseWriter, r *http.Request, p web.Page, err error, draw func(web.Refusal)) {
	web.FormError(w, r, err, func(err error) (web.Refusal, bool) { return explain(p, err) }, draw)
}

// formID parses an id field of a submitted form; empty is zero.
func formID(r *http.Request, name string) (int64, error) {
	return web.OptionalID(name, r.PostFormValue(name))
}

// formVersion parses the version a form was drawn from.
func formVersion(r *http.Request) (int, error) {
	v := r.PostFormValue("version")
	n, err := web.OptionalInt("version", v)
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
