package identity

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"time"

	"chancery/internal/web"
)

// unitRow is a unit as lists and trees show it.
type unitRow struct {
	ID          int64
	Code        string
	Name        string
	KindLabel   string
	Country     string
	StatusLabel string
	Merged      bool
}

func newUnitRow(p web.Page, u Unit) unitRow {
	return unitRow{ID: u.ID, Code: u.Code, Name: unitName(p, u), KindLabel: p.T("identity.kind." + string(u.Kind)),
		Country: u.Country, StatusLabel: p.T("identity.status." + u.Status), Merged: u.Status == UnitMerged}
}

// unitNode is a unit in the tree with the units under it.
type unitNode struct {
	unitRow
	Children []*unitNode
}

// buildTree arranges units under their parents. Siblings come in the
// order of UnitKinds (departments before missions), then by code.
func buildTree(p web.Page, units []Unit) []*unitNode {
	rank := map[UnitKind]int{}
	for i, k := range UnitKinds {
		rank[k] = i
	}
	sorted := append([]Unit(nil), units...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if rank[a.Kind] != rank[b.Kind] {
			return rank[a.Kind] < rank[b.Kind]
		}
		return a.Code < b.Code
	})
	nodes := map[int64]*unitNode{}
	for _, u := range sorted {
		nodes[u.ID] = &unitNode{unitRow: newUnitRow(p, u)}
	}
	var roots []*unitNode
	for _, u := range sorted {
		if parent, ok := nodes[u.ParentID]; ok {
			parent.Children = append(parent.Children, nodes[u.ID])
		} else {
			roots = append(roots, nodes[u.ID])
		}
	}
	return roots
}

// unitListData is the view of /console/units: the whole tree, or the
// units a search selects.
type unitListData struct {
	Filter   []web.Field
	Problem  web.Refusal
	Filtered bool
	Tree     []*unitNode
	Rows     []unitRow
	Pager    web.Pager
}

func (h *Handler) pageUnits(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.Console, "identity.units.title")
	q := r.URL.Query()
	data := unitListData{Filtered: q.Get("kind") != "" || q.Get("status") != "" || q.Get("q") != ""}
	f, err := unitFilterFrom(r)
	var units []Unit
	var next int64
	switch {
	case err != nil:
	case data.Filtered:
		units, next, err = h.svc.ListUnits(r.Context(), f)
	default:
		units, err = h.svc.AllUnits(r.Context())
	}
	prob, status, ok := web.ListError(w, r, err, func(err error) (web.Refusal, bool) { return explain(p, err) })
	if !ok {
		return
	}
	data.Problem = prob
	fm := web.NewForm(p, "filter-", q, data.Problem)
	statuses := []web.Option{{Value: "", Label: p.T("identity.any")},
		{Value: UnitActive, Label: p.T("identity.status.active")}, {Value: UnitMerged, Label: p.T("identity.status.merged")}}
	data.Filter = []web.Field{
		fm.Field("q", "search", "identity.search", false),
		fm.Choice("kind", "select", "identity.unit.kind", false, kindOptions(p, true)),
		fm.Choice("status", "select", "identity.unit.status", false, statuses),
	}
	data.Problem = fm.Message()
	if data.Filtered {
		for _, u := range units {
			data.Rows = append(data.Rows, newUnitRow(p, u))
		}
		data.Pager = web.NewPager(p, r, web.NextID(next), len(data.Rows), web.PagerOffset(r))
	} else {
		data.Tree = buildTree(p, units)
	}
	h.pages.Render(w, r, status, "unit_list", web.View[unitListData]{Page: p, Data: data})
}

// formData is the view of a creation form (/console/units/new,
// /console/users/new): its fields and the problem that sent it back.
type formData struct {
	Fields  []web.Field
	Problem web.Refusal
}

func (h *Handler) pageNewUnit(w http.ResponseWriter, r *http.Request) {
	h.showNewUnit(w, r, http.StatusOK, url.Values{"country": {"VN"}, "time_zone": {web.MinistryZoneName}, "kind": {string(KindDepartment)}}, web.Refusal{})
}

func (h *Handler) showNewUnit(w http.ResponseWriter, r *http.Request, status int, values url.Values, prob web.Refusal) {
	h.showNewForm(w, r, status, "identity.units.new", "unit_new", values, prob, func(p web.Page, fm *web.Form, units []Unit) []web.Field {
		return []web.Field{
			fm.Field("code", "text", "identity.unit.code", true),
			fm.Field("name_vi", "text", "identity.unit.name_vi", true),
			fm.Field("name_en", "text", "identity.unit.name_en", true),
			fm.Choice("kind", "select", "identity.unit.kind", true, kindOptions(p, false)),
			fm.Choice("parent_id", "select", "identity.unit.parent", false, unitOptions(p, units, 0, true)),
			fm.Field("country", "text", "identity.unit.country", true),
			fm.Field("time_zone", "text", "identity.unit.time_zone", true),
		}
	})
}

// showNewForm draws a creation form (template tmpl, titled by titleKey)
// whose fields, made by fields, may offer the directory's units: a new
// unit's parent, a new staff member's unit.
func (h *Handler) showNewForm(w http.ResponseWriter, r *http.Request, status int, titleKey, tmpl string, values url.Values, prob web.Refusal,
	fields func(p web.Page, fm *web.Form, units []Unit) []web.Field) {
	p := h.shell.Page(r, web.Console, titleKey)
	units, err := h.svc.AllUnits(r.Context())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	fm := web.NewForm(p, "", values, prob)
	data := formData{Fields: fields(p, fm, units)}
	data.Problem = fm.Message()
	h.pages.Render(w, r, status, tmpl, web.View[formData]{Page: p, Data: data})
}

func (h *Handler) postNewUnit(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.Console, "identity.units.new")
	fail := func(err error) {
		formError(w, r, p, err, func(prob web.Refusal) { h.showNewUnit(w, r, prob.Status, r.PostForm, prob) })
	}
	if err := parseForm(r); err != nil {
		fail(err)
		return
	}
	parent, err := formID(r, "parent_id")
	if err != nil {
		fail(err)
		return
	}
	u, err := h.svc.CreateUnit(r.Context(), actor(r), NewUnit{
		Code: r.PostFormValue("code"), NameVI: r.PostFormValue("name_vi"), NameEN: r.PostFormValue("name_en"),
		Kind: UnitKind(r.PostFormValue("kind")), ParentID: parent,
		Country: r.PostFormValue("country"), TimeZone: r.PostFormValue("time_zone"),
	})
	if err != nil {
		fail(err)
		return
	}
	web.RedirectWithFlash(w, r, fmt.Sprintf("/console/units/%d", u.ID), "identity.flash.unit_created")
}

// eventRow is one line of a unit's history.
type eventRow struct {
	Effective time.Time
	Recorded  time.Time
	KindLabel string
	Actor     string
	Other     *unitRow
	Detail    string
}

// unitDetailData is the view of /console/units/{id}.
type unitDetailData struct {
	Unit       Unit
	Row        unitRow
	Parent     *unitRow
	MergedInto *unitRow
	Children   []unitRow
	History    []eventRow

	Edit         []web.Field
	EditProblem  web.Refusal
	Merge        []web.Field
	MergeProblem web.Refusal
	Move         []web.Field
	MoveProblem  web.Refusal
}

// Forms of the unit page, naming which one a refusal belongs to.
const (
	editForm  = "edit"
	mergeForm = "merge"
	moveForm  = "move"
)

func (h *Handler) pageUnit(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	h.showUnit(w, r, id, http.StatusOK, "", nil, web.Refusal{})
}

// showUnit draws the unit page; the form named which shows values and prob,
// the others the stored state.
func (h *Handler) showUnit(w http.ResponseWriter, r *http.Request, id int64, status int, which string, values url.Values, prob web.Refusal) {
	ctx := r.Context()
	u, err := h.svc.Unit(ctx, id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	units, err := h.svc.AllUnits(ctx)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	events, err := h.svc.UnitHistory(ctx, id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "identity.units.title")
	p.Title = u.Code + " · " + unitName(p, u)
	byID := map[int64]Unit{}
	for _, x := range units {
		byID[x.ID] = x
	}
	rowOf := func(id int64) *unitRow {
		x, ok := byID[id]
		if !ok {
			return nil
		}
		row := newUnitRow(p, x)
		return &row
	}
	data := unitDetailData{Unit: u, Row: newUnitRow(p, u), Parent: rowOf(u.ParentID), MergedInto: rowOf(u.MergedInto)}
	for _, x := range units {
		if x.ParentID == u.ID {
			data.Children = append(data.Children, newUnitRow(p, x))
		}
	}
	for _, e := range events {
		data.History = append(data.History, eventRow{Effective: e.EffectiveAt, Recorded: e.RecordedAt,
			KindLabel: p.T("identity.event." + e.Kind), Actor: e.Actor, Other: rowOf(e.OtherUnitID), Detail: e.Detail})
	}
	formFor := func(name, prefix string, stored url.Values) *web.Form {
		if which == name {
			return web.NewForm(p, prefix, values, prob)
		}
		return web.NewForm(p, prefix, stored, web.Refusal{})
	}
	edit := formFor(editForm, "edit-", unitValues(u))
	kinds := kindOptions(p, false)
	if u.Kind != KindMinistry {
		kinds = kinds[1:] // only the root is the ministry
	} else {
		kinds = kinds[:1]
	}
	data.Edit = []web.Field{
		edit.Field("name_vi", "text", "identity.unit.name_vi", true),
		edit.Field("name_en", "text", "identity.unit.name_en", true),
		edit.Choice("kind", "select", "identity.unit.kind", true, kinds),
		edit.Field("country", "text", "identity.unit.country", true),
		edit.Field("time_zone", "text", "identity.unit.time_zone", true),
		edit.Field("version", "hidden", "identity.version", false),
	}
	data.EditProblem = edit.Message()
	merge := formFor(mergeForm, "merge-", url.Values{"effective": {dateOf(h.svc.clock())}})
	data.Merge = []web.Field{
		merge.Choice("into", "select", "identity.merge.into", true, unitOptions(p, units, u.ID, false)),
		merge.Field("effective", "date", "identity.effective", true),
	}
	data.MergeProblem = merge.Message()
	move := formFor(moveForm, "move-", url.Values{"parent": {idString(u.ParentID)}, "effective": {dateOf(h.svc.clock())}})
	data.Move = []web.Field{
		move.Choice("parent", "select", "identity.move.parent", true, unitOptions(p, units, u.ID, false)),
		move.Field("effective", "date", "identity.effective", true),
	}
	data.MoveProblem = move.Message()
	h.pages.Render(w, r, status, "unit_detail", web.View[unitDetailData]{Page: p, Data: data})
}

// postUnitForm handles a form posted to a unit's page: it parses the path
// id and the form, runs apply, and redirects to the unit apply returns, or
// draws the unit page again with the refusal on the form named which.
func (h *Handler) postUnitForm(w http.ResponseWriter, r *http.Request, which, flashKey string, apply func(id int64) (Unit, error)) {
	id, err := pathID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "identity.units.title")
	u, err := func() (Unit, error) {
		if err := parseForm(r); err != nil {
			return Unit{}, err
		}
		return apply(id)
	}()
	if err != nil {
		formError(w, r, p, err, func(prob web.Refusal) { h.showUnit(w, r, id, prob.Status, which, r.PostForm, prob) })
		return
	}
	web.RedirectWithFlash(w, r, fmt.Sprintf("/console/units/%d", u.ID), flashKey)
}

func (h *Handler) postUnit(w http.ResponseWriter, r *http.Request) {
	h.postUnitForm(w, r, editForm, "identity.flash.unit_saved", func(id int64) (Unit, error) {
		version, err := formVersion(r)
		if err != nil {
			return Unit{}, err
		}
		kind := UnitKind(r.PostFormValue("kind"))
		return h.svc.UpdateUnit(r.Context(), actor(r), id, UnitPatch{
			NameVI: formString(r, "name_vi"), NameEN: formString(r, "name_en"), Kind: &kind,
			Country: formString(r, "country"), TimeZone: formString(r, "time_zone"), Version: version,
		})
	})
}

// formString returns a pointer to a submitted field's value.
func formString(r *http.Request, name string) *string {
	v := r.PostFormValue(name)
	return &v
}

func (h *Handler) postMergeUnit(w http.ResponseWriter, r *http.Request) {
	h.postUnitForm(w, r, mergeForm, "identity.flash.unit_merged", func(id int64) (Unit, error) {
		into, err := formID(r, "into")
		if err != nil {
			return Unit{}, err
		}
		effective, err := parseDate("effective", r.PostFormValue("effective"))
		if err != nil {
			return Unit{}, err
		}
		return h.svc.MergeUnits(r.Context(), actor(r), id, into, effective)
	})
}

func (h *Handler) postMoveUnit(w http.ResponseWriter, r *http.Request) {
	h.postUnitForm(w, r, moveForm, "identity.flash.unit_moved", func(id int64) (Unit, error) {
		parent, err := formID(r, "parent")
		if err != nil {
			return Unit{}, err
		}
		effective, err := parseDate("effective", r.PostFormValue("effective"))
		if err != nil {
			return Unit{}, err
		}
		return h.svc.MoveUnit(r.Context(), actor(r), id, parent, effective)
	})
}
