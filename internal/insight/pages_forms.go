package insight

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/web"
)

// formIndicators is how many indicator rows the new template's form
// offers; rows left empty are not part of the template.
const formIndicators = 6

// indicatorRow is one indicator's fieldset on the new template's form.
type indicatorRow struct {
	N      int
	Fields []web.Field
}

type newTemplateData struct {
	Fields  []web.Field
	Rows    []indicatorRow
	Problem web.Refusal
}

// indicatorField is the form's (and the API's) name of indicator i's
// field.
func indicatorField(i int, name string) string { return fmt.Sprintf("indicators[%d].%s", i, name) }

// explainTemplate explains a refusal of the new template's form: an
// indicator's field in the reader's language, whichever row it is on.
func (h *Handler) explainTemplate(r *http.Request) func(error) (web.Refusal, bool) {
	l := h.shell.Localizer(r)
	return func(err error) (web.Refusal, bool) {
		ref, ok := web.Explain(l, "insight.", err)
		if _, name, found := strings.Cut(ref.Field, "]."); found && strings.HasPrefix(ref.Field, "indicators[") {
			if key := "insight.invalid.indicator." + name; l.Lang != i18n.EN && l.Has(key) {
				ref.Message, ref.Detail = l.T(key), ref.Message
			}
		}
		return ref, ok
	}
}

func (h *Handler) pageNewTemplate(w http.ResponseWriter, r *http.Request) {
	h.drawNewTemplate(w, r, http.StatusOK, url.Values{"period": {string(Quarterly)}}, web.Refusal{})
}

func (h *Handler) drawNewTemplate(w http.ResponseWriter, r *http.Request, status int, values url.Values, ref web.Refusal) {
	p := h.shell.Page(r, web.Console, "insight.template.new")
	f := web.NewForm(p, "tpl-", values, ref)
	var periods []web.Option
	for _, pd := range Periods {
		periods = append(periods, web.Option{Value: string(pd), Label: p.T("insight.period." + string(pd))})
	}
	types := []web.Option{{Value: "", Label: p.T("insight.field.choose_type")}}
	for _, t := range []ValueType{Integer, Decimal, Percent, Text} {
		types = append(types, web.Option{Value: string(t), Label: p.T("insight.type." + string(t))})
	}
	data := newTemplateData{Fields: []web.Field{
		f.Field("code", "text", "insight.field.template_code", true),
		f.Field("name_vi", "text", "insight.field.name_vi", true),
		f.Field("name_en", "text", "insight.field.name_en", true),
		f.Choice("period", "select", "insight.field.period", true, periods),
	}}
	for i := range formIndicators {
		first := i == 0 // a template has at least one indicator
		row := indicatorRow{N: i + 1, Fields: []web.Field{
			f.Field(indicatorField(i, "code"), "text", "insight.field.indicator_code", first),
			f.Field(indicatorField(i, "name_vi"), "text", "insight.field.name_vi", first),
			f.Field(indicatorField(i, "name_en"), "text", "insight.field.name_en", first),
			f.Choice(indicatorField(i, "type"), "select", "insight.field.type", first, types),
			f.Field(indicatorField(i, "unit"), "text", "insight.field.measure", false),
			f.Field(indicatorField(i, "min"), "text", "insight.field.min", false),
			f.Field(indicatorField(i, "max"), "text", "insight.field.max", false),
			f.Checkbox(indicatorField(i, "required"), "insight.field.required"),
		}}
		for j := range row.Fields {
			if k := &row.Fields[j]; strings.HasSuffix(k.Name, ".min") || strings.HasSuffix(k.Name, ".max") {
				k.InputMode = "decimal"
			}
		}
		data.Rows = append(data.Rows, row)
	}
	data.Problem = f.Message()
	h.pages.Render(w, r, status, "template_new", web.View[newTemplateData]{Page: p, Data: data})
}

// templateOf reads the new template's form, and the form's row of each
// indicator (rows left empty are skipped); a bound that is not a number
// is refused naming its field.
func templateOf(form url.Values) (Template, []int, error) {
	t := Template{Code: form.Get("code"), NameVI: form.Get("name_vi"), NameEN: form.Get("name_en"), Period: Period(form.Get("period"))}
	var rows []int
	for i := range formIndicators {
		get := func(name string) string { return strings.TrimSpace(form.Get(indicatorField(i, name))) }
		in := Indicator{Code: get("code"), NameVI: get("name_vi"), NameEN: get("name_en"), Type: ValueType(get("type")), Unit: get("unit"),
			Required: get("required") != ""}
		if in.Code == "" && in.NameVI == "" && in.NameEN == "" && in.Type == "" && in.Unit == "" && get("min") == "" && get("max") == "" {
			continue // a row left empty
		}
		for name, into := range map[string]**float64{"min": &in.Min, "max": &in.Max} {
			if v := get(name); v != "" {
				x, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", "."), 64)
				if err != nil {
					return t, rows, errs.Invalid(indicatorField(i, name), "must be a number, such as 0 or 12.5")
				}
				*into = &x
			}
		}
		t.Indicators, rows = append(t.Indicators, in), append(rows, i)
	}
	return t, rows, nil
}

// onRow names, in a refusal of the template's indicators[k], the form's
// row that indicator k came from.
func onRow(err error, rows []int) error {
	var fe *errs.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	var k int
	var name string
	if n, _ := fmt.Sscanf(strings.Replace(fe.Field, "].", "] ", 1), "indicators[%d] %s", &k, &name); n != 2 || k < 0 || k >= len(rows) {
		return err
	}
	return errs.Invalid(indicatorField(rows[k], name), fe.Message)
}

func (h *Handler) postNewTemplate(w http.ResponseWriter, r *http.Request) {
	t, rows, err := templateOf(r.PostForm)
	if err == nil {
		_, err = h.svc.CreateTemplate(r.Context(), web.SubjectFrom(r.Context()), t)
		err = onRow(err, rows)
	}
	if err != nil {
		web.FormError(w, r, err, h.explainTemplate(r), func(ref web.Refusal) { h.drawNewTemplate(w, r, ref.Status, r.PostForm, ref) })
		return
	}
	web.RedirectWithFlash(w, r, "/console/insight/reports", "insight.flash.template_created")
}

type newRoundData struct {
	Fields    []web.Field
	Templates bool // the reader's unit has a template to open a round of
	Problem   web.Refusal
}

func (h *Handler) pageNewRound(w http.ResponseWriter, r *http.Request) {
	values := url.Values{"working_days": {"10"}}
	if id := r.URL.Query().Get("template_id"); id != "" {
		values.Set("template_id", id)
	}
	h.drawNewRound(w, r, http.StatusOK, values, web.Refusal{})
}

func (h *Handler) drawNewRound(w http.ResponseWriter, r *http.Request, status int, values url.Values, ref web.Refusal) {
	p := h.shell.Page(r, web.Console, "insight.round.new")
	sub := p.Principal.Subject
	tps, err := h.svc.Templates(r.Context(), sub)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	units, err := h.shell.UnitPicker(r, p.T("insight.field.choose_unit"), func(u web.UnitChoice) bool { return u.Active }, web.UnitID)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	options := []web.Option{{Value: "", Label: p.T("insight.field.choose_template")}}
	for _, t := range tps {
		// Only a template of a unit whose rounds sub opens: a leader
		// sees every unit's templates but opens rounds of none.
		if allowed(sub, authz.Create, authz.Resource{Kind: authz.KindReport, Unit: t.OwnerUnit}) {
			options = append(options, web.Option{Value: idString(t.ID), Label: t.Name(p.Lang) + " · " + p.T("insight.period."+string(t.Period))})
		}
	}
	f := web.NewForm(p, "round-", values, ref)
	data := newRoundData{Templates: len(options) > 1, Fields: []web.Field{
		f.Choice("template_id", "select", "insight.field.template", true, options),
		f.Field("date", "date", "insight.field.period_day", false),
		f.Field("working_days", "number", "insight.field.working_days", false),
		f.Field("due_date", "date", "insight.field.due_date", false),
		f.Choice("units", "checkboxes", "insight.field.reporting_units", true, units[1:]),
	}}
	data.Problem = f.Message()
	h.pages.Render(w, r, status, "round_new", web.View[newRoundData]{Page: p, Data: data})
}

func (h *Handler) postNewRound(w http.ResponseWriter, r *http.Request) {
	n := NewRound{TemplateID: int64(atoi(r.PostFormValue("template_id"))), Date: strings.TrimSpace(r.PostFormValue("date")),
		DueDate: strings.TrimSpace(r.PostFormValue("due_date"))}
	if wd := strings.TrimSpace(r.PostFormValue("working_days")); wd != "" && n.DueDate == "" {
		n.WorkingDays = atoi(wd)
	}
	for _, u := range r.PostForm["units"] {
		n.Units = append(n.Units, int64(atoi(u)))
	}
	rd, err := h.svc.OpenRound(r.Context(), web.SubjectFrom(r.Context()), n)
	if err != nil {
		web.FormError(w, r, err, h.explain(r), func(ref web.Refusal) { h.drawNewRound(w, r, ref.Status, r.PostForm, ref) })
		return
	}
	web.RedirectWithFlash(w, r, "/console/insight/reports/rounds/"+idString(rd.ID), "insight.flash.round_opened")
}
