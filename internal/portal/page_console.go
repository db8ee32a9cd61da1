package portal

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"chancery/internal/authz"
	"chancery/internal/web"
)

// consoleListData is the console's list of publications.
type consoleListData struct {
	Status   string
	Statuses []web.Option
	Query    string
	Items    []Item
	Total    int
	Pager    pagerData
	Refusal  web.Refusal
}

// consoleList serves /console/portal/: publications in any status, those
// waiting for the spokesperson first when they ask.
func (h *Handler) consoleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := filterOf(q)
	if err == nil && f.Kinds == nil {
		f.Kinds = Kinds
	}
	p := h.shell.Page(r, web.Console, "portal.console.title")
	var page ItemPage
	if err == nil {
		page, err = h.svc.List(r.Context(), p.Principal.Subject, f)
	}
	ref, status, ok := web.ListError(w, r, err, func(err error) (web.Refusal, bool) { return web.Explain(p.Localizer(), "portal.", err) })
	if !ok {
		return
	}
	data := consoleListData{Status: string(f.Status), Query: f.Query, Items: page.Items, Total: page.Total, Refusal: ref,
		Pager: pager(p, r.URL.Path, q, page.Page, page.Pages)}
	data.Statuses = []web.Option{{Value: "", Label: p.T("portal.console.all_statuses"), Selected: f.Status == ""}}
	for _, s := range Statuses {
		data.Statuses = append(data.Statuses, web.Option{Value: string(s), Label: p.T("portal.status." + string(s)), Selected: f.Status == s})
	}
	h.pages.Render(w, r, status, "console_list", web.View[consoleListData]{Page: p, Data: data})
}

// editData is the form of a publication's content, new or edited.
type editData struct {
	Item    Item // zero for a new one
	Fields  []web.Field
	Problem web.Refusal
	// Action is where the form posts; CSRF its token, SaveLabel its
	// button's text.
	Action, CSRF, SaveLabel string
}

// contentForm draws the content form with values, showing ref.
func contentForm(p web.Page, values url.Values, ref web.Refusal, isNew bool) ([]web.Field, web.Refusal) {
	f := web.NewForm(p, "pub-", values, ref)
	var fields []web.Field
	if isNew {
		var kinds []web.Option
		for _, k := range Kinds {
			kinds = append(kinds, web.Option{Value: string(k), Label: p.T("portal.kind." + string(k))})
		}
		fields = append(fields, f.Choice("kind", "select", "portal.field.kind", true, kinds))
	}
	fields = append(fields,
		f.Field("title_vi", "text", "portal.field.title_vi", true),
		f.Field("title_en", "text", "portal.field.title_en", true),
		f.Field("summary_vi", "text", "portal.field.summary_vi", false),
		f.Field("summary_en", "text", "portal.field.summary_en", false),
		f.Field("body_vi", "textarea", "portal.field.body_vi", true),
		f.Field("body_en", "textarea", "portal.field.body_en", true),
		f.Field("slug", "text", "portal.field.slug", false),
		f.Field("tags", "text", "portal.field.tags", false),
		f.Field("country", "text", "portal.field.country", false),
	)
	levels := []web.Option{{Value: "", Label: p.T("portal.level.none")}}
	for lv := LevelNormal; lv <= LevelDoNotGo; lv++ {
		levels = append(levels, web.Option{Value: strconv.Itoa(lv), Label: p.T("portal.level." + strconv.Itoa(lv))})
	}
	fields = append(fields, f.Choice("level", "select", "portal.field.level", false, levels))
	return fields, f.Message()
}

// contentOf reads a content form.
func contentOf(r *http.Request) (Content, error) {
	c := Content{Kind: Kind(r.PostFormValue("kind")), Slug: r.PostFormValue("slug"),
		TitleVI: r.PostFormValue("title_vi"), TitleEN: r.PostFormValue("title_en"),
		SummaryVI: r.PostFormValue("summary_vi"), SummaryEN: r.PostFormValue("summary_en"),
		BodyVI: r.PostFormValue("body_vi"), BodyEN: r.PostFormValue("body_en"),
		Country: r.PostFormValue("country")}
	for t := range strings.SplitSeq(r.PostFormValue("tags"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			c.Tags = append(c.Tags, t)
		}
	}
	if lv := r.PostFormValue("level"); lv != "" {
		n, err := strconv.Atoi(lv)
		if err != nil {
			return c, errInvalidLevel
		}
		c.Level = n
	}
	return c, nil
}

// valuesOf returns a publication's content as the form's values.
func valuesOf(it Item) url.Values {
	v := url.Values{"kind": {string(it.Kind)}, "slug": {it.Slug}, "title_vi": {it.TitleVI}, "title_en": {it.TitleEN},
		"summary_vi": {it.SummaryVI}, "summary_en": {it.SummaryEN}, "body_vi": {it.BodyVI}, "body_en": {it.BodyEN},
		"tags": {strings.Join(it.Tags, ", ")}, "country": {it.Country}}
	if it.Level != 0 {
		v.Set("level", strconv.Itoa(it.Level))
	}
	return v
}

// consoleNew serves the form of a new publication.
func (h *Handler) consoleNew(w http.ResponseWriter, r *http.Request) {
	h.drawNew(w, r, http.StatusOK, url.Values{"kind": {string(News)}}, web.Refusal{})
}

func (h *Handler) drawNew(w http.ResponseWriter, r *http.Request, status int, values url.Values, ref web.Refusal) {
	p := h.shell.Page(r, web.Console, "portal.console.new")
	fields, problem := contentForm(p, values, ref, true)
	h.pages.Render(w, r, status, "console_edit", web.View[editData]{Page: p, Data: editData{Fields: fields, Problem: problem,
		Action: "/console/portal/items/new", CSRF: p.CSRF, SaveLabel: p.T("portal.console.create")}})
}

// consolePostNew drafts a publication.
func (h *Handler) consolePostNew(w http.ResponseWriter, r *http.Request) {
	c, err := contentOf(r)
	var it Item
	if err == nil {
		it, err = h.svc.Create(r.Context(), web.SubjectFrom(r.Context()), c)
	}
	if err != nil {
		web.FormError(w, r, err, h.explain(r), func(ref web.Refusal) { h.drawNew(w, r, ref.Status, r.PostForm, ref) })
		return
	}
	web.RedirectWithFlash(w, r, "/console/portal/items/"+strconv.FormatInt(it.ID, 10), "portal.flash.created")
}

func (h *Handler) explain(r *http.Request) func(error) (web.Refusal, bool) {
	l := h.shell.Localizer(r)
	return func(err error) (web.Refusal, bool) { return web.Explain(l, "portal.", err) }
}

// itemPageData is a publication's console page: both languages, the
// steps the reader may take, and the edit form when they may edit.
type itemPageData struct {
	Item Item
	// Steps are the steps this reader may take now.
	Steps   []Step
	CanEdit bool
	Edit    editData
	// StepProblem is a refused step's explanation.
	StepProblem web.Refusal
}

// consoleItem serves a publication's console page.
func (h *Handler) consoleItem(w http.ResponseWriter, r *http.Request) {
	h.drawItem(w, r, http.StatusOK, nil, web.Refusal{}, web.Refusal{})
}

func (h *Handler) drawItem(w http.ResponseWriter, r *http.Request, status int, values url.Values, editRef, stepRef web.Refusal) {
	id, err := itemID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "portal.console.title")
	it, err := h.svc.Item(r.Context(), p.Principal.Subject, id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p.Title = it.Title(p.Lang)
	sub := p.Principal.Subject
	data := itemPageData{Item: it, StepProblem: stepRef}
	for _, s := range []Step{StepSubmit, StepApprove, StepReject, StepPublish, StepWithdraw} {
		st := steps[s]
		if d, _ := authz.Decide(sub, st.action, publication); d == authz.Allowed && slices.Contains(st.from, it.Status) {
			data.Steps = append(data.Steps, s)
		}
	}
	if d, _ := authz.Decide(sub, authz.Update, publication); d == authz.Allowed && it.Status != Submitted && it.Status != Published {
		data.CanEdit = true
		if values == nil {
			values = valuesOf(it)
		}
		fields, problem := contentForm(p, values, editRef, false)
		data.Edit = editData{Item: it, Fields: fields, Problem: problem, Action: "/console/portal/items/" + strconv.FormatInt(it.ID, 10),
			CSRF: p.CSRF, SaveLabel: p.T("portal.console.save")}
	}
	h.pages.Render(w, r, status, "console_item", web.View[itemPageData]{Page: p, Data: data})
}

// consolePostEdit replaces a publication's content.
func (h *Handler) consolePostEdit(w http.ResponseWriter, r *http.Request) {
	id, err := itemID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	c, err := contentOf(r)
	if err == nil {
		var version int
		if version, err = strconv.Atoi(r.PostFormValue("version")); err != nil {
			err = errInvalidVersion
		}
		if err == nil {
			var it Item
			if it, err = h.svc.Item(r.Context(), web.SubjectFrom(r.Context()), id); err == nil {
				c.Kind = it.Kind // the form does not change a kind
				_, err = h.svc.Edit(r.Context(), web.SubjectFrom(r.Context()), id, version, c)
			}
		}
	}
	if err != nil {
		web.FormError(w, r, err, h.explain(r), func(ref web.Refusal) { h.drawItem(w, r, ref.Status, r.PostForm, ref, web.Refusal{}) })
		return
	}
	web.RedirectWithFlash(w, r, r.URL.Path, "portal.flash.edited")
}

// consolePostStep takes a step of a publication's approval.
func (h *Handler) consolePostStep(w http.ResponseWriter, r *http.Request) {
	id, err := itemID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	req := StepRequest{Step: Step(r.PostFormValue("step")), Reason: r.PostFormValue("reason"), Publish: r.PostFormValue("publish") == "true"}
	if req.Version, err = strconv.Atoi(r.PostFormValue("version")); err != nil {
		err = errInvalidVersion
	}
	if err == nil {
		_, err = h.svc.Move(r.Context(), web.SubjectFrom(r.Context()), id, req)
	}
	if err != nil {
		web.FormError(w, r, err, h.explain(r), func(ref web.Refusal) { h.drawItem(w, r, ref.Status, nil, web.Refusal{}, ref) })
		return
	}
	target := "/console/portal/items/" + strconv.FormatInt(id, 10)
	web.RedirectWithFlash(w, r, target, "portal.flash."+string(req.Step))
}

// consoleMissions lists the missions whose public details the reader
// keeps.
func (h *Handler) consoleMissions(w http.ResponseWriter, r *http.Request) {
	ms, err := h.svc.Missions(r.Context())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "portal.console.missions")
	h.pages.Render(w, r, http.StatusOK, "console_missions", web.View[[]Mission]{Page: p, Data: ms})
}

// missionFormData is a mission's details' form.
type missionFormData struct {
	Mission Mission
	Fields  []web.Field
	Problem web.Refusal
}

func (h *Handler) consoleMission(w http.ResponseWriter, r *http.Request) {
	h.drawMission(w, r, http.StatusOK, nil, web.Refusal{})
}

func (h *Handler) drawMission(w http.ResponseWriter, r *http.Request, status int, values url.Values, ref web.Refusal) {
	m, err := h.svc.Mission(r.Context(), r.PathValue("code"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "portal.console.missions")
	p.Title = m.Name(p.Lang)
	if values == nil {
		values = url.Values{"ambassador_vi": {m.AmbassadorVI}, "ambassador_en": {m.AmbassadorEN}, "address": {m.Address}, "phone": {m.Phone},
			"email": {m.Email}, "hours_vi": {m.HoursVI}, "hours_en": {m.HoursEN}, "hotline": {m.Hotline}, "version": {strconv.Itoa(m.Version)}}
	}
	f := web.NewForm(p, "mission-", values, ref)
	fields := []web.Field{
		f.Field("ambassador_vi", "text", "portal.field.ambassador_vi", false), f.Field("ambassador_en", "text", "portal.field.ambassador_en", false),
		f.Field("address", "text", "portal.field.address", false), f.Field("phone", "tel", "portal.field.phone", false),
		f.Field("email", "email", "portal.field.email", false), f.Field("hours_vi", "text", "portal.field.hours_vi", false),
		f.Field("hours_en", "text", "portal.field.hours_en", false), f.Field("hotline", "tel", "portal.field.hotline", false),
		f.Field("version", "hidden", "portal.field.version", false),
	}
	h.pages.Render(w, r, status, "console_mission", web.View[missionFormData]{Page: p, Data: missionFormData{Mission: m, Fields: fields, Problem: f.Message()}})
}

// consolePostMission saves a mission's public details.
func (h *Handler) consolePostMission(w http.ResponseWriter, r *http.Request) {
	d := MissionDetails{AmbassadorVI: r.PostFormValue("ambassador_vi"), AmbassadorEN: r.PostFormValue("ambassador_en"),
		Address: r.PostFormValue("address"), Phone: r.PostFormValue("phone"), Email: r.PostFormValue("email"),
		HoursVI: r.PostFormValue("hours_vi"), HoursEN: r.PostFormValue("hours_en"), Hotline: r.PostFormValue("hotline")}
	var err error
	if d.Version, err = strconv.Atoi(r.PostFormValue("version")); err != nil {
		err = errInvalidVersion
	}
	if err == nil {
		_, err = h.svc.UpdateMission(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("code"), d)
	}
	if err != nil {
		web.FormError(w, r, err, h.explain(r), func(ref web.Refusal) { h.drawMission(w, r, ref.Status, r.PostForm, ref) })
		return
	}
	web.RedirectWithFlash(w, r, r.URL.Path, "portal.flash.mission")
}
