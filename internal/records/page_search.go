package records

import (
	"net/http"
	"net/url"
	"strconv"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/web"
)

// searchData is the search page: the form with its filters, the facets
// of the matches with their counts, and a page of results.
type searchData struct {
	Fields  []web.Field
	Problem web.Refusal
	Total   int
	// More reports more matches than Total (SearchCap); Capped is the
	// cap as the reader's language writes numbers.
	More   bool
	Capped string
	Table  docTable
	Facets []facetGroup
	// Next is the next page's address, First the first's when not on it.
	Next, First string
}

// facetGroup is a facet as the page lists it: each value a link that
// adds it to the search (or, when chosen, removes it).
type facetGroup struct {
	Label  string
	Values []facetLink
}

type facetLink struct {
	Label  string
	Count  int
	Href   string
	Chosen bool
}

// parseSearch reads the search's query into a Query.
func parseSearch(v url.Values) (Query, error) {
	q := Query{Text: v.Get("q"), Direction: Direction(v.Get("direction")), Type: v.Get("type"), Status: Status(v.Get("status"))}
	if s := v.Get("urgency"); s != "" {
		u, err := ParseUrgency(s)
		if err != nil {
			return q, err
		}
		q.Urgency = &u
	}
	if s := v.Get("level"); s != "" {
		l, err := authz.ParseLevel(s)
		if err != nil {
			return q, errs.Invalid("level", "use none, confidential, secret or top_secret")
		}
		q.Level = &l
	}
	var err error
	if s := v.Get("unit"); s != "" {
		if q.Unit, err = parsePositive("unit", s); err != nil {
			return q, err
		}
	}
	if s := v.Get("year"); s != "" {
		y, err := parsePositive("year", s)
		if err != nil || y > 9999 {
			return q, errs.Invalid("year", "must be a year such as 2026")
		}
		q.Year = int(y)
	}
	if s := v.Get("after"); s != "" {
		if q.After, err = parsePositive("after", s); err != nil {
			return q, err
		}
	}
	switch q.Status {
	case "", StatusRegistered, StatusInProgress, StatusDone, StatusDraft, StatusApproved, StatusSigned, StatusIssued, StatusRecalled:
	default:
		return q, errs.Invalid("status", "is not a document's status")
	}
	return q, nil
}

// searchHref is the search's address with v, changed by set (a value of
// "" removes the parameter); the cursor is dropped unless set names it.
func searchHref(v url.Values, set map[string]string) string {
	out := url.Values{}
	for k, vs := range v {
		if k != "after" && len(vs) > 0 && vs[0] != "" {
			out.Set(k, vs[0])
		}
	}
	for k, x := range set {
		if x == "" {
			out.Del(k)
		} else {
			out.Set(k, x)
		}
	}
	if len(out) == 0 {
		return consoleSearchPath
	}
	return consoleSearchPath + "?" + out.Encode()
}

func (h *Handler) pageSearch(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.Console, "records.pages.search.title")
	sub := web.SubjectFrom(r.Context())
	v := r.URL.Query()
	n, err := h.loadNames(r.Context(), p.Lang, nil)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	data := searchData{}
	status := http.StatusOK
	q, err := parseSearch(v)
	var page *Page
	var facets Facets
	if err == nil {
		q.Limit = DefaultLimit
		if page, err = h.svc.Search(r.Context(), sub, q); err == nil {
			facets, err = h.svc.SearchFacets(r.Context(), sub, q)
		}
	}
	if err != nil {
		ref, ok := pageExplain(p.Localizer(), err)
		if !ok {
			web.Error(w, r, err)
			return
		}
		data.Problem, status = ref, ref.Status
		page = &Page{}
	}
	now := h.svc.now()
	list := web.NewList(page.Items, web.NextID(page.Next))
	data.Table = docTable{Page: p, Caption: p.T("records.pages.search.results")}
	for _, d := range list.Items {
		data.Table.Rows = append(data.Table.Rows, newDocRow(p, n, d, now))
	}
	data.Total, data.More, data.Capped = page.Total, page.More, groupDigits(SearchCap, p.Lang)
	if list.Next != "" {
		data.Next = searchHref(v, map[string]string{"after": list.Next})
	}
	if v.Get("after") != "" {
		data.First = searchHref(v, nil)
	}
	for _, f := range facetColumns {
		g := facetGroup{Label: p.T("records.pages.search.facet." + f.name)}
		for _, x := range facets[f.name] {
			chosen := v.Get(f.name) == x.Value
			link := facetLink{Label: facetLabel(p, n, f.name, x.Value), Count: x.Count, Chosen: chosen,
				Href: searchHref(v, map[string]string{f.name: x.Value})}
			if chosen {
				link.Href = searchHref(v, map[string]string{f.name: ""})
			}
			g.Values = append(g.Values, link)
		}
		if len(g.Values) > 0 {
			data.Facets = append(data.Facets, g)
		}
	}
	fm := web.NewForm(p, "s-", v, data.Problem)
	data.Fields = h.searchFieldsOn(p, n, fm)
	data.Problem = fm.Message()
	h.pages.Render(w, r, status, "console_records_search", web.View[searchData]{Page: p, Data: data})
}

// groupDigits writes n with its thousands grouped as lang does: 1.000
// in Vietnamese, 1,000 in English.
func groupDigits(n int, lang i18n.Lang) string {
	sep := ","
	if lang == i18n.VI {
		sep = "."
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + sep + s[i:]
	}
	return s
}

// facetLabel names a facet's value on the page.
func facetLabel(p web.Page, n *names, facet, value string) string {
	switch facet {
	case "direction":
		return p.T("records.direction." + value)
	case "type":
		return typeName(value)
	case "urgency":
		return p.T("records.urgency." + value)
	case "level":
		return p.T("records.level." + value)
	case "status":
		return p.T("records.pages.status." + value)
	case "unit":
		id, _ := strconv.ParseInt(value, 10, 64)
		return n.unit(id)
	case "year":
		if value == "0" {
			return p.T("records.pages.search.unnumbered")
		}
	}
	return value
}

// searchFieldsOn draws the search form's fields on fm.
func (h *Handler) searchFieldsOn(p web.Page, n *names, fm *web.Form) []web.Field {
	anyOpt := web.Option{Value: "", Label: p.T("records.pages.search.any")}
	opts := func(prefix string, vals ...string) []web.Option {
		out := []web.Option{anyOpt}
		for _, v := range vals {
			out = append(out, web.Option{Value: v, Label: p.T(prefix + v)})
		}
		return out
	}
	types := []web.Option{anyOpt}
	for _, t := range DocTypes() {
		types = append(types, web.Option{Value: t.Key, Label: t.NameVI})
	}
	units := []web.Option{anyOpt}
	for _, u := range sortedUnits(n) {
		units = append(units, web.Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Name(p.Lang)})
	}
	var levels []string
	for l := authz.Unclassified; l <= p.Principal.Subject.Clearance && l.Valid(); l++ {
		levels = append(levels, l.String())
	}
	return []web.Field{
		fm.Field("q", "search", "records.pages.search.q", false),
		fm.Choice("direction", "select", "records.pages.search.facet.direction", false, opts("records.direction.", "incoming", "outgoing")),
		fm.Choice("type", "select", "records.pages.search.facet.type", false, types),
		fm.Choice("urgency", "select", "records.pages.search.facet.urgency", false, opts("records.urgency.", "normal", "urgent", "very_urgent", "flash")),
		fm.Choice("level", "select", "records.pages.search.facet.level", false, opts("records.level.", levels...)),
		fm.Choice("unit", "select", "records.pages.search.facet.unit", false, units),
		fm.Field("year", "number", "records.pages.search.facet.year", false),
		fm.Choice("status", "select", "records.pages.search.facet.status", false, opts("records.pages.status.", "registered", "in_progress", "done",
			"draft", "approved", "signed", "issued", "recalled")),
	}
}
