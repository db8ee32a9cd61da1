package portal

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"chancery/internal/i18n"
	"chancery/internal/web"
)

// feedSize is how many of the latest publications the feed carries.
const feedSize = 30

// atomFeed is an Atom 1.0 feed (RFC 4287).
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"xml:lang,attr"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  atomPerson  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomLink struct {
	Rel      string `xml:"rel,attr"`
	Type     string `xml:"type,attr,omitempty"`
	Href     string `xml:"href,attr"`
	HrefLang string `xml:"hreflang,attr,omitempty"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type atomEntry struct {
	ID         string         `xml:"id"`
	Title      string         `xml:"title"`
	Updated    string         `xml:"updated"`
	Published  string         `xml:"published"`
	Links      []atomLink     `xml:"link"`
	Summary    *atomText      `xml:"summary,omitempty"`
	Content    atomText       `xml:"content"`
	Categories []atomCategory `xml:"category"`
}

type atomCategory struct {
	Term  string `xml:"term,attr"`
	Label string `xml:"label,attr,omitempty"`
}

// base returns the portal's address without a trailing slash: the
// configured one, else the request's own.
func (h *Handler) base(r *http.Request) string {
	if h.opts.BaseURL != "" {
		return strings.TrimRight(h.opts.BaseURL, "/")
	}
	scheme := "http"
	if web.IsHTTPS(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// langQuery is what a link adds to open a page in lang: nothing for
// Vietnamese, the default.
func langQuery(lang i18n.Lang, sep string) string {
	if lang == i18n.EN {
		return sep + "lang=en"
	}
	return ""
}

// feed serves the Atom feed of the latest news, press releases and
// statements in the request's language (?lang=en for English).
func (h *Handler) feed(w http.ResponseWriter, r *http.Request) {
	lang := web.LangFrom(r.Context())
	page, err := h.svc.PublishedList(r.Context(), Filter{PerPage: feedSize})
	if err != nil {
		web.Error(w, r, err)
		return
	}
	l := h.shell.Localizer(r)
	base := h.base(r)
	host := hostOf(base)
	self := base + "/news/feed.atom" + langQuery(lang, "?")
	f := atomFeed{Lang: string(lang), ID: self, Title: l.T("portal.feed.title"),
		Author: atomPerson{Name: l.T("portal.ministry"), URI: base + "/"},
		Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: self},
			{Rel: "alternate", Type: "text/html", Href: base + "/news" + langQuery(lang, "?"), HrefLang: string(lang)}},
		Entries: []atomEntry{}}
	// An empty feed is as old as the epoch rather than "now", so that it
	// does not look changed at every fetch.
	updated := time.Unix(0, 0).UTC()
	for _, it := range page.Items {
		if it.UpdatedAt.After(updated) {
			updated = it.UpdatedAt
		}
		e := atomEntry{
			// A tag URI (RFC 4151) of the publication's number: it stays
			// the same if the slug or the title is corrected.
			ID:        fmt.Sprintf("tag:%s,%s:publication/%d", host, it.PublishedAt.Format("2006-01-02"), it.ID),
			Title:     it.Title(lang),
			Updated:   it.UpdatedAt.Format(time.RFC3339),
			Published: it.PublishedAt.Format(time.RFC3339),
			Links:     []atomLink{{Rel: "alternate", Type: "text/html", Href: base + "/news/" + it.Slug + langQuery(lang, "?"), HrefLang: string(lang)}},
			Content:   atomText{Type: "text", Text: it.Body(lang)},
		}
		if s := it.Summary(lang); s != "" {
			e.Summary = &atomText{Type: "text", Text: s}
		}
		e.Categories = append(e.Categories, atomCategory{Term: string(it.Kind), Label: l.T("portal.kind." + string(it.Kind))})
		for _, t := range it.TagLinks() {
			e.Categories = append(e.Categories, atomCategory{Term: t.Slug, Label: t.Label})
		}
		f.Entries = append(f.Entries, e)
	}
	f.Updated = updated.Format(time.RFC3339)
	writeXML(w, r, "application/atom+xml; charset=utf-8", f)
}

// hostOf returns the host of an absolute URL, for tag URIs.
func hostOf(base string) string {
	u, err := url.Parse(base)
	if err != nil || u.Hostname() == "" {
		return "localhost"
	}
	return u.Hostname()
}

func writeXML(w http.ResponseWriter, r *http.Request, contentType string, v any) {
	out, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		web.Error(w, r, fmt.Errorf("portal: encode XML: %w", err))
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}

// urlSet is a sitemap (sitemaps.org 0.9) with each page's other
// language as an alternate (xhtml:link hreflang).
type urlSet struct {
	XMLName xml.Name     `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
	XHTML   string       `xml:"xmlns:xhtml,attr"`
	URLs    []sitemapURL `xml:"url"`
}

type sitemapURL struct {
	Loc     string      `xml:"loc"`
	LastMod string      `xml:"lastmod,omitempty"`
	Alt     []xhtmlLink `xml:"xhtml:link"`
}

type xhtmlLink struct {
	Rel      string `xml:"rel,attr"`
	HrefLang string `xml:"hreflang,attr"`
	Href     string `xml:"href,attr"`
}

// fixedPages are the public site's pages that always exist: the home
// page, the online services and tracking (internal/procedures), and the
// portal's own.
var fixedPages = []string{"/", "/services", "/track", "/procedures", "/news", "/protection", "/missions", "/privacy", "/accessibility"}

// sitemap lists every public page: the fixed ones, the online services'
// pages, every published publication, tag and mission, each in
// Vietnamese with its English alternate.
func (h *Handler) sitemap(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	base := h.base(r)
	set := urlSet{XHTML: "http://www.w3.org/1999/xhtml"}
	add := func(path string, mod time.Time) {
		u := sitemapURL{Loc: base + path, Alt: []xhtmlLink{
			{Rel: "alternate", HrefLang: "vi", Href: base + path},
			{Rel: "alternate", HrefLang: "en", Href: base + path + langQuery(i18n.EN, sepFor(path))},
		}}
		if !mod.IsZero() {
			u.LastMod = mod.Format("2006-01-02")
		}
		set.URLs = append(set.URLs, u)
	}
	for _, p := range fixedPages {
		add(p, time.Time{})
	}
	if h.opts.ServicePaths != nil {
		for _, p := range h.opts.ServicePaths() {
			add(p, time.Time{})
		}
	}
	for pageNo, pages := 1, 1; pageNo <= pages; pageNo++ {
		page, err := h.svc.PublishedList(ctx, Filter{Kinds: Kinds, PerPage: MaxPerPage, Page: pageNo})
		if err != nil {
			web.Error(w, r, err)
			return
		}
		pages = page.Pages
		for _, it := range page.Items {
			if it.Kind != Advisory { // advisories are shown on /protection
				add("/news/"+it.Slug, it.UpdatedAt)
			}
		}
	}
	tags, err := h.svc.Tags(ctx)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	for _, t := range tags {
		add("/news/tags/"+t.Tag, time.Time{})
	}
	ms, err := h.svc.Missions(ctx)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	for _, m := range ms {
		add("/missions/"+url.PathEscape(m.Unit.Code), m.UpdatedAt)
	}
	writeXML(w, r, "application/xml; charset=utf-8", set)
}

func sepFor(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

// robots serves robots.txt: the public site may be indexed, the console
// and the API may not, and the sitemap says what there is.
func (h *Handler) robots(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "User-agent: *\nDisallow: /console/\nDisallow: /api/\nDisallow: /account/\nDisallow: /my/\nDisallow: /applications/\n\nSitemap: %s/sitemap.xml\n", h.base(r))
}

// favicon answers browsers that ask for /favicon.ico before reading the
// page's icon link: the icon is an SVG among the static files.
func favicon(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, web.StaticPrefix+"favicon.svg", http.StatusMovedPermanently)
}
