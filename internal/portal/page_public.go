package portal

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"chancery/internal/i18n"
	"chancery/internal/web"
)

// newsData is the news list's view model.
type newsData struct {
	Query, Tag, Kind string
	// TagLabel is the tag as written.
	TagLabel string
	Kinds    []web.Option
	Items    []Item
	Total    int
	Pager    pagerData
	Tags     []TagCount
	// FeedHref is the Atom feed in the page's language.
	FeedHref string
	Refusal  web.Refusal
}

// pageLink is one link of a pager.
type pageLink struct {
	Label   string
	Href    string
	Current bool
}

// pagerData is a pager: its links and its name for screen readers.
type pagerData struct {
	Label string
	Links []pageLink
}

// pager returns the pager of pages 1..pages of the list at path with
// query q, the current page marked.
func pager(p web.Page, path string, q url.Values, current, pages int) pagerData {
	out := pagerData{Label: p.T("portal.pager")}
	if pages > 1 {
		out.Links = pageLinks(path, q, current, pages)
	}
	return out
}

func pageLinks(path string, q url.Values, current, pages int) []pageLink {
	var out []pageLink
	for n := 1; n <= pages; n++ {
		// Long lists show the first, last and nearby pages only.
		if pages > 9 && n != 1 && n != pages && (n < current-2 || n > current+2) {
			if len(out) > 0 && out[len(out)-1].Href != "" {
				out = append(out, pageLink{Label: "…"})
			}
			continue
		}
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Del("page")
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		href := path
		if e := v.Encode(); e != "" {
			href += "?" + e
		}
		out = append(out, pageLink{Label: strconv.Itoa(n), Href: href, Current: n == current})
	}
	return out
}

// pageNews serves /news and /news/tags/{tag}: the published news, press
// releases and statements, searched and filtered, a page at a time.
func (h *Handler) pageNews(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := filterOf(q)
	tag := r.PathValue("tag")
	if tag != "" {
		f.Tag = tag
	}
	p := h.shell.Page(r, web.PublicSite, "portal.news.title")
	data := newsData{Query: f.Query, Tag: Slugify(f.Tag), FeedHref: "/news/feed.atom" + langQuery(p.Lang, "?")}
	if len(f.Kinds) == 1 {
		data.Kind = string(f.Kinds[0])
	}
	if f.Kinds != nil && (len(f.Kinds) != 1 || f.Kinds[0] == Advisory) {
		err = errInvalidKind
	}
	var page ItemPage
	if err == nil {
		page, err = h.svc.PublishedList(r.Context(), f)
	}
	ref, status, ok := web.ListError(w, r, err, func(err error) (web.Refusal, bool) { return web.Explain(p.Localizer(), "portal.", err) })
	if !ok {
		return
	}
	data.Refusal, data.Items, data.Total = ref, page.Items, page.Total
	data.Pager = pager(p, r.URL.Path, q, page.Page, page.Pages)
	data.Kinds = []web.Option{{Value: "", Label: p.T("portal.news.all_kinds"), Selected: data.Kind == ""}}
	for _, k := range []Kind{News, PressRelease, Statement} {
		data.Kinds = append(data.Kinds, web.Option{Value: string(k), Label: p.T("portal.kind." + string(k)), Selected: data.Kind == string(k)})
	}
	if data.Tags, err = h.svc.Tags(r.Context()); err != nil {
		web.Error(w, r, err)
		return
	}
	data.TagLabel = data.Tag
	for _, t := range data.Tags {
		if t.Tag == data.Tag {
			data.TagLabel = t.Label
		}
	}
	if tag != "" {
		p.Title = p.T("portal.news.tag_title", data.TagLabel)
	}
	h.pages.Render(w, r, status, "public_news", web.View[newsData]{Page: p, Data: data})
}

// itemData is a publication's public page's view model.
type itemData struct {
	Item Item
	// Other is the other language, whose version a link offers.
	Other i18n.Lang
}

// pageItem serves a published publication; a draft, or anything not
// published, answers 404 as if it did not exist.
func (h *Handler) pageItem(w http.ResponseWriter, r *http.Request) {
	it, err := h.svc.Published(r.Context(), r.PathValue("slug"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.PublicSite, "portal.news.title")
	p.Title = it.Title(p.Lang)
	other := i18n.EN
	if p.Lang == i18n.EN {
		other = i18n.VI
	}
	h.pages.Render(w, r, http.StatusOK, "public_item", web.View[itemData]{Page: p, Data: itemData{Item: it, Other: other}})
}

// protectionData is citizen protection's view model.
type protectionData struct {
	Missions   []Mission
	Advisories []Item
	// Procedure is the protection request's public page.
	Procedure string
}

// pageProtection serves /protection: how to ask for help, each mission's
// hotline and address, and the travel advisories in force.
func (h *Handler) pageProtection(w http.ResponseWriter, r *http.Request) {
	ms, err := h.svc.Missions(r.Context())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	advs, err := h.svc.Advisories(r.Context())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.PublicSite, "portal.protection.title")
	h.pages.Render(w, r, http.StatusOK, "public_protection", web.View[protectionData]{Page: p,
		Data: protectionData{Missions: ms, Advisories: advs, Procedure: "/procedures/" + ProtectionProcedure}})
}

// regionGroup is the missions of one region.
type regionGroup struct {
	Key      string
	Missions []Mission
}

// pageMissions serves /missions: every mission abroad, by region.
func (h *Handler) pageMissions(w http.ResponseWriter, r *http.Request) {
	ms, err := h.svc.Missions(r.Context())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	var groups []regionGroup
	for _, m := range ms { // sorted by region
		if len(groups) == 0 || groups[len(groups)-1].Key != m.Region {
			groups = append(groups, regionGroup{Key: m.Region})
		}
		groups[len(groups)-1].Missions = append(groups[len(groups)-1].Missions, m)
	}
	p := h.shell.Page(r, web.PublicSite, "portal.missions.title")
	h.pages.Render(w, r, http.StatusOK, "public_missions", web.View[[]regionGroup]{Page: p, Data: groups})
}

// missionData is a mission's page's view model.
type missionData struct {
	Mission  Mission
	Year     int
	Holidays []holidayRow
	// Advisory is the travel advisory in force for the host country, if
	// any.
	Advisory *Item
}

// holidayRow is a day the mission is closed, as its page lists it.
type holidayRow struct{ Date, Name, Whose string }

// pageMission serves /missions/{code}.
func (h *Handler) pageMission(w http.ResponseWriter, r *http.Request) {
	m, err := h.svc.Mission(r.Context(), r.PathValue("code"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	advs, err := h.svc.Advisories(r.Context())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	year := h.svc.now().In(web.MinistryZone()).Year()
	p := h.shell.Page(r, web.PublicSite, "portal.missions.title")
	data := missionData{Mission: m, Year: year}
	for _, hd := range m.Holidays(year) {
		row := holidayRow{Date: hd.Date.Time(time.UTC).Format("02/01/2006"), Name: hd.NameVI, Whose: p.T("portal.mission.host")}
		if p.Lang == i18n.EN {
			row.Name = hd.NameEN
		}
		if hd.Country == "VN" {
			row.Whose = p.T("portal.mission.vn")
		}
		data.Holidays = append(data.Holidays, row)
	}
	for i := range advs {
		if advs[i].Country == m.Unit.Country {
			data.Advisory = &advs[i]
		}
	}
	p.Title = m.Name(p.Lang)
	h.pages.Render(w, r, http.StatusOK, "public_mission", web.View[missionData]{Page: p, Data: data})
}

// pageStatic serves a page whose content is the catalogue's text: the
// privacy notice and the accessibility statement.
func (h *Handler) pageStatic(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := h.shell.Page(r, web.PublicSite, "portal."+name+".title")
		h.pages.Render(w, r, http.StatusOK, "public_"+name, web.View[time.Time]{Page: p})
	}
}
