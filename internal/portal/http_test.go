package portal

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/i18n"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// site is the portal's routes over a fixture.
type site struct {
	*fixture
	shell *web.Shell
	h     http.Handler
}

func newSite(t testing.TB, db *store.DB) *site {
	t.Helper()
	f := newFixture(t, db)
	shell := webtest.Shell(t, Texts())
	h, err := NewHandler(shell, HandlerOptions{Service: f.svc, BaseURL: "https://portal.example",
		ServicePaths: func() []string { return []string{"/procedures/1.900014"} }})
	if err != nil {
		t.Fatal(err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	return &site{fixture: f, shell: shell, h: rt}
}

// api sends a JSON request as sub (nobody, for the zero subject), signed
// in with a bearer token as the app's middleware would put it.
func (s *site) api(t testing.TB, sub authz.Subject, method, path string, body any) *httptest.ResponseRecorder {
	t.Helper()
	var buf bytes.Buffer
	if body != nil {
		if raw, ok := body.(string); ok {
			buf.WriteString(raw)
		} else if err := json.NewEncoder(&buf).Encode(body); err != nil {
			t.Fatal(err)
		}
	}
	r := webtest.Request(method, path, "application/json", buf.String())
	var p web.Principal
	if sub.Authenticated() {
		p = web.Principal{Subject: sub, Stage: "full", Bearer: true}
		r = r.WithContext(as(sub))
	}
	return webtest.Serve(s.shell, s.h, p, r)
}

func (s *site) page(t testing.TB, sub authz.Subject, lang i18n.Lang, target string) *httptest.ResponseRecorder {
	t.Helper()
	var p web.Principal
	if sub.Authenticated() {
		p = web.Principal{Subject: sub, Stage: "full"}
	}
	return webtest.GetIn(s.shell, s.h, p, lang, target)
}

func decode[T any](t testing.TB, w *httptest.ResponseRecorder, status int) T {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", w.Body, err)
	}
	return v
}

func TestAPIFlowAndHostileInput(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		var nobody authz.Subject
		it := decode[Item](t, s.api(t, s.press, "POST", "/api/v1/portal/items", content("api-item")), http.StatusCreated)
		path := "/api/v1/portal/items/" + strconv.FormatInt(it.ID, 10)

		// A draft is 404 to the public, page and API alike.
		webtest.Problem(t, s.api(t, nobody, "GET", "/api/v1/portal/news/api-item", nil), http.StatusNotFound)
		webtest.PageHas(t, s.page(t, nobody, i18n.VI, "/news/api-item"), http.StatusNotFound)

		for _, tt := range []struct {
			name   string
			sub    authz.Subject
			method string
			path   string
			body   any
			status int
		}{
			{"publish without approval", s.press, "POST", path + "/steps", StepRequest{Step: StepPublish, Version: it.Version}, http.StatusConflict},
			{"press officer approves", s.press, "POST", path + "/steps", StepRequest{Step: StepApprove, Version: it.Version}, http.StatusForbidden},
			{"clerk drafts", s.clerk, "POST", "/api/v1/portal/items", content("clerk"), http.StatusForbidden},
			{"clerk reads drafts", s.clerk, "GET", "/api/v1/portal/items", nil, http.StatusForbidden},
			{"anonymous drafts", nobody, "POST", "/api/v1/portal/items", content("anon"), http.StatusUnauthorized},
			{"duplicate slug", s.press, "POST", "/api/v1/portal/items", content("api-item"), http.StatusConflict},
			{"NUL in a title", s.press, "POST", "/api/v1/portal/items", `{"kind":"news","title_vi":"a\u0000b","title_en":"x","body_vi":"x","body_en":"x"}`, http.StatusBadRequest},
			{"CR LF in a title", s.press, "POST", "/api/v1/portal/items", `{"kind":"news","title_vi":"a\r\nb","title_en":"x","body_vi":"x","body_en":"x"}`, http.StatusBadRequest},
			{"bidi in a title", s.press, "POST", "/api/v1/portal/items", `{"kind":"news","title_vi":"a\u202eb","title_en":"x","body_vi":"x","body_en":"x"}`, http.StatusBadRequest},
			{"unknown field", s.press, "POST", "/api/v1/portal/items", `{"kind":"news","sneaky":true}`, http.StatusBadRequest},
			{"body over the limit", s.press, "POST", "/api/v1/portal/items", `{"kind":"news","title_vi":"a","title_en":"b","body_vi":"` + strings.Repeat("x", 2<<20) + `","body_en":"x"}`, http.StatusRequestEntityTooLarge},
			{"unknown step", s.spokes, "POST", path + "/steps", `{"step":"launch","version":1}`, http.StatusBadRequest},
			{"bad id", s.press, "GET", "/api/v1/portal/items/abc", nil, http.StatusBadRequest},
			{"no such item", s.press, "GET", "/api/v1/portal/items/999999", nil, http.StatusNotFound},
			{"bad page", nobody, "GET", "/api/v1/portal/news?page=0", nil, http.StatusBadRequest},
		} {
			t.Run(tt.name, func(t *testing.T) {
				webtest.Problem(t, s.api(t, tt.sub, tt.method, tt.path, tt.body), tt.status)
			})
		}

		it = decode[Item](t, s.api(t, s.press, "POST", path+"/steps", StepRequest{Step: StepSubmit, Version: it.Version}), http.StatusOK)
		it = decode[Item](t, s.api(t, s.spokes, "POST", path+"/steps", StepRequest{Step: StepApprove, Version: it.Version}), http.StatusOK)
		it = decode[Item](t, s.api(t, s.press, "POST", path+"/steps", StepRequest{Step: StepPublish, Version: it.Version}), http.StatusOK)
		if it.Status != Published {
			t.Fatalf("status %s after publishing", it.Status)
		}
		got := decode[Item](t, s.api(t, nobody, "GET", "/api/v1/portal/news/api-item", nil), http.StatusOK)
		if got.TitleEN != "Viet Nam welcomes the agreement" {
			t.Fatalf("public item %+v", got)
		}
		list := decode[ItemPage](t, s.api(t, nobody, "GET", "/api/v1/portal/news?q=hoan+nghenh", nil), http.StatusOK)
		if list.Total != 1 {
			t.Fatalf("search: %+v", list)
		}
	})
}

func TestPublicPagesShowOnlyPublishedItemsInTheReadersLanguage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		var nobody authz.Subject
		s.publish(t, content("published-one"))
		draft := content("a-draft")
		draft.TitleVI = "Bản nháp bí mật"
		if _, err := s.svc.Create(as(s.press), s.press, draft); err != nil {
			t.Fatal(err)
		}
		w := s.page(t, nobody, i18n.VI, "/news")
		webtest.PageHas(t, w, http.StatusOK, "Việt Nam hoan nghênh thỏa thuận", `href="/news/tags/asean"`, `href="/news/feed.atom"`)
		if strings.Contains(w.Body.String(), "Bản nháp bí mật") {
			t.Error("the news list shows a draft")
		}
		webtest.PageHas(t, s.page(t, nobody, i18n.EN, "/news/published-one"), http.StatusOK, "<h1 id=\"item-title\">Viet Nam welcomes the agreement</h1>", "Paragraph two.", `lang="vi"`)
		webtest.PageHas(t, s.page(t, nobody, i18n.VI, "/news/tags/bien-dong"), http.StatusOK, "Chủ đề #Biển Đông", "Việt Nam hoan nghênh")
		webtest.PageHas(t, s.page(t, nobody, i18n.VI, "/news?kind=advisory"), http.StatusUnprocessableEntity)
		webtest.PageHas(t, s.page(t, nobody, i18n.VI, "/privacy"), http.StatusOK, "91/2025/QH15")
		webtest.PageHas(t, s.page(t, nobody, i18n.EN, "/accessibility"), http.StatusOK, "WCAG")
		webtest.PageHas(t, s.page(t, nobody, i18n.VI, "/protection"), http.StatusOK, `href="/procedures/1.900014"`, s.paris.NameVI)
		webtest.PageHas(t, s.page(t, nobody, i18n.VI, "/missions/"+s.paris.Code), http.StatusOK, "Quốc khánh") // Viet Nam's National Day
		webtest.PageHas(t, s.page(t, nobody, i18n.VI, "/missions/000.00.05.G12"), http.StatusNotFound)
		if w := s.page(t, nobody, i18n.VI, "/favicon.ico"); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/static/favicon.svg" {
			t.Errorf("/favicon.ico: %d to %q", w.Code, w.Header().Get("Location"))
		}
	})
}

func TestConsoleFlowByForms(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		post := func(sub authz.Subject, path string, form url.Values) *httptest.ResponseRecorder {
			r := webtest.Request("POST", path, "application/x-www-form-urlencoded", form.Encode())
			r = r.WithContext(as(sub))
			return webtest.Serve(s.shell, s.h, web.Principal{Subject: sub, Stage: "full"}, r)
		}
		form := url.Values{"kind": {"statement"}, "title_vi": {"Phát ngôn mới"}, "title_en": {"A new statement"}, "body_vi": {"Nội dung."}, "body_en": {"Text."}, "tags": {"ASEAN, Biển Đông"}}
		w := post(s.press, "/console/portal/items/new", form)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("draft: %d %s", w.Code, w.Body)
		}
		loc := w.Header().Get("Location")
		itemPath, _, _ := strings.Cut(loc, "?")
		// A title with a line break is sent back beside the field.
		bad := url.Values{"kind": {"news"}, "title_vi": {"a\nb"}, "title_en": {"x"}, "body_vi": {"x"}, "body_en": {"x"}}
		webtest.PageHas(t, post(s.press, "/console/portal/items/new", bad), http.StatusUnprocessableEntity, `id="pub-title_vi-error"`)

		webtest.PageHas(t, s.page(t, s.press, i18n.VI, itemPath), http.StatusOK, `id="step-submit"`, "Phát ngôn mới")
		if w := post(s.press, itemPath+"/steps", url.Values{"step": {"submit"}, "version": {"1"}}); w.Code != http.StatusSeeOther {
			t.Fatalf("submit: %d %s", w.Code, w.Body)
		}
		page := s.page(t, s.spokes, i18n.VI, itemPath)
		webtest.PageHas(t, page, http.StatusOK, `id="step-approve"`, `id="step-reject"`)
		if strings.Contains(page.Body.String(), `id="step-publish"`) {
			t.Error("the spokesperson is offered the press officer's step")
		}
		// Rejecting without a reason is explained on the page.
		webtest.PageHas(t, post(s.spokes, itemPath+"/steps", url.Values{"step": {"reject"}, "version": {"2"}}), http.StatusUnprocessableEntity, "Hãy ghi lý do")
		if w := post(s.spokes, itemPath+"/steps", url.Values{"step": {"approve"}, "version": {"2"}, "publish": {"true"}}); w.Code != http.StatusSeeOther {
			t.Fatalf("approve: %d %s", w.Code, w.Body)
		}
		webtest.PageHas(t, s.page(t, authz.Subject{}, i18n.EN, "/news/a-new-statement"), http.StatusOK, "A new statement")
		// A stale version is a conflict, explained above the steps.
		webtest.PageHas(t, post(s.spokes, itemPath+"/steps", url.Values{"step": {"withdraw"}, "version": {"2"}, "reason": {"x"}}), http.StatusConflict)
		// The clerk reaches none of it.
		if w := s.page(t, s.clerk, i18n.VI, "/console/portal/"); w.Code != http.StatusForbidden {
			t.Fatalf("clerk's console: %d", w.Code)
		}
		mission := "/console/portal/missions/" + s.paris.Code
		webtest.PageHas(t, s.page(t, s.admin, i18n.VI, mission), http.StatusOK, `name="hotline"`)
		d := url.Values{"address": {"62 rue Boileau, 75016 Paris"}, "hotline": {"+33 6 12 34 56 78"}, "version": {"0"}}
		if w := post(s.admin, mission, d); w.Code != http.StatusSeeOther {
			t.Fatalf("mission: %d %s", w.Code, w.Body)
		}
		webtest.PageHas(t, s.page(t, authz.Subject{}, i18n.VI, "/missions/"+s.paris.Code), http.StatusOK, "62 rue Boileau", `href="tel:&#43;33612345678"`)
	})
}

// TestFeedIsAtom pins the feed's shape: Atom 1.0 with the feed's id,
// title, updated, author and self and alternate links, and each entry's
// id, title, updated and link, in the reader's language.
func TestFeedIsAtom(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		s.publish(t, content("feed-item"))
		for _, tt := range []struct {
			query, lang, title string
		}{{"", "vi", "Việt Nam hoan nghênh thỏa thuận"}, {"?lang=en", "en", "Viet Nam welcomes the agreement"}} {
			w := webtest.Serve(s.shell, s.h, web.Principal{}, webtest.Request("GET", "/news/feed.atom"+tt.query, "", ""))
			if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/atom+xml") {
				t.Fatalf("feed: %d %s", w.Code, w.Header().Get("Content-Type"))
			}
			var f atomFeed
			if err := xml.Unmarshal(w.Body.Bytes(), &f); err != nil {
				t.Fatalf("feed is not XML: %v", err)
			}
			if !strings.Contains(w.Body.String(), `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="`+tt.lang+`">`) {
				t.Errorf("feed's language is not %s: %.200s", tt.lang, w.Body)
			}
			if f.XMLName.Space != "http://www.w3.org/2005/Atom" || f.ID == "" || f.Title == "" || f.Author.Name == "" {
				t.Fatalf("feed head: %+v", f)
			}
			if _, err := time.Parse(time.RFC3339, f.Updated); err != nil {
				t.Errorf("feed updated %q: %v", f.Updated, err)
			}
			rels := map[string]string{}
			for _, l := range f.Links {
				rels[l.Rel] = l.Href
			}
			if rels["self"] != "https://portal.example/news/feed.atom"+tt.query || rels["alternate"] == "" {
				t.Errorf("feed links %v", rels)
			}
			if len(f.Entries) != 1 {
				t.Fatalf("%d entries", len(f.Entries))
			}
			e := f.Entries[0]
			if e.Title != tt.title || !strings.HasPrefix(e.ID, "tag:portal.example,") || len(e.Links) != 1 || !strings.HasPrefix(e.Links[0].Href, "https://portal.example/news/feed-item") {
				t.Errorf("entry %+v", e)
			}
			if _, err := time.Parse(time.RFC3339, e.Updated); err != nil {
				t.Errorf("entry updated %q: %v", e.Updated, err)
			}
		}
	})
}

func TestSitemapListsEveryPublicPageAndNoDraft(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		s.publish(t, content("mapped"))
		if _, err := s.svc.Create(as(s.press), s.press, content("unmapped-draft")); err != nil {
			t.Fatal(err)
		}
		w := webtest.Serve(s.shell, s.h, web.Principal{}, webtest.Request("GET", "/sitemap.xml", "", ""))
		var set urlSet
		if err := xml.Unmarshal(w.Body.Bytes(), &set); err != nil || w.Code != http.StatusOK {
			t.Fatalf("sitemap: %d %v", w.Code, err)
		}
		locs := map[string]bool{}
		for _, u := range set.URLs {
			locs[strings.TrimPrefix(u.Loc, "https://portal.example")] = true
		}
		for _, want := range []string{"/", "/services", "/track", "/news", "/protection", "/news/mapped", "/news/tags/asean", "/procedures/1.900014", "/missions/" + s.paris.Code, "/privacy", "/accessibility"} {
			if !locs[want] {
				t.Errorf("sitemap lacks %s", want)
			}
		}
		if locs["/news/unmapped-draft"] {
			t.Error("sitemap lists a draft")
		}
		r := webtest.Serve(s.shell, s.h, web.Principal{}, webtest.Request("GET", "/robots.txt", "", ""))
		if !strings.Contains(r.Body.String(), "Sitemap: https://portal.example/sitemap.xml") || !strings.Contains(r.Body.String(), "Disallow: /console/") {
			t.Errorf("robots.txt: %s", r.Body)
		}
	})
}

// TestEveryKeyBuiltFromAValueIsInTheCatalogue covers the keys templates
// build from kinds, statuses, steps, levels and regions, which the app's
// template check cannot see.
func TestEveryKeyBuiltFromAValueIsInTheCatalogue(t *testing.T) {
	var keys []string
	for _, k := range Kinds {
		keys = append(keys, "portal.kind."+string(k))
	}
	for _, st := range Statuses {
		keys = append(keys, "portal.status."+string(st))
	}
	for st := range steps {
		keys = append(keys, "portal.step."+string(st), "portal.flash."+string(st))
	}
	for lv := LevelNormal; lv <= LevelDoNotGo; lv++ {
		keys = append(keys, fmt.Sprintf("portal.level.%d", lv))
	}
	for _, r := range Regions {
		keys = append(keys, "portal.region."+r)
	}
	for _, k := range keys {
		if _, ok := texts[k]; !ok {
			t.Errorf("no catalogue text %q", k)
		}
	}
}
