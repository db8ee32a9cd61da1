package public

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/i18n"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// serve sends a GET for target through the public site's routes, as who, in
// lang, with the middleware a page relies on (language, CSRF).
func serve(t *testing.T, who web.Principal, lang i18n.Lang, target string) *httptest.ResponseRecorder {
	t.Helper()
	shell := webtest.Shell(t, Texts())
	h, err := NewHandler(shell)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	return webtest.GetIn(shell, web.Chain(rt, web.CSRF("session")), who, lang, target)
}

var citizen = web.Principal{Subject: authz.Subject{Kind: authz.Citizen, ID: 7}, Username: "dung@example.vn", Name: "Phạm Thị Dung"}

func TestHomeWelcomesVisitorsInBothLanguages(t *testing.T) {
	for _, lang := range []i18n.Lang{i18n.VI, i18n.EN} {
		t.Run(string(lang), func(t *testing.T) {
			rec := serve(t, web.Principal{}, lang, "/")
			if rec.Code != http.StatusOK {
				t.Fatalf("GET / = %d: %s", rec.Code, rec.Body)
			}
			body := rec.Body.String()
			for _, want := range []string{
				`<html lang="` + string(lang) + `">`,
				"<h1 id=\"hero-title\">" + texts.T(lang, "public.hero.ministry") + "</h1>",
				`action="/services"`,
				`<label for="service-q">` + texts.T(lang, "public.search.label") + `</label>`,
				texts.T(lang, "public.tile.services.title"),
				texts.T(lang, "public.tile.track.title"),
				texts.T(lang, "public.tile.protection.title"),
				texts.T(lang, "public.tile.info.title"),
				`href="/account/login"`,
				`href="/account/register"`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("the home page lacks %s", want)
				}
			}
			if strings.Contains(body, `href="/account/"`) {
				t.Errorf("an anonymous visitor is offered the citizen account link")
			}
		})
	}
}

// TestHomeTilesLeadToTheirPages pins where each tile leads: the catalogue
// (internal/procedures), tracking (internal/procedures), citizen
// protection and foreign information (internal/portal). The app's tests
// check that each answers.
func TestHomeTilesLeadToTheirPages(t *testing.T) {
	body := serve(t, web.Principal{}, i18n.VI, "/").Body.String()
	for _, href := range []string{"/services", "/track", "/protection", "/news"} {
		if !strings.Contains(body, `<a class="tile" href="`+href+`">`) {
			t.Errorf("no tile leads to %s", href)
		}
	}
	if strings.Contains(body, `href="/services/track"`) {
		t.Error("the tracking tile still leads to the old /services/track")
	}
}

func TestHomeLeadsASignedInCitizenToTheirAccount(t *testing.T) {
	rec := serve(t, citizen, i18n.VI, "/")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET / = %d: %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	for _, want := range []string{
		texts.T(i18n.VI, "public.account.welcome", citizen.Name),
		`<a class="button primary" href="/account/">`,
		// the navigation, which offers the account to citizens only
		`<a href="/account/">` + web.Texts().T(i18n.VI, "nav.account") + `</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the home page lacks %s", want)
		}
	}
	for _, unwanted := range []string{`href="/account/register"`, `href="/account/login"`} {
		if strings.Contains(body, unwanted) {
			t.Errorf("a signed-in citizen is offered %s", unwanted)
		}
	}
}

func TestHomeIsTheExactRootOnly(t *testing.T) {
	rec := serve(t, web.Principal{}, i18n.VI, "/no-such-page")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("GET /no-such-page = %d, want 404 (the home page must not catch every path)", rec.Code)
	}
}

func TestRegisterDeclaresTheHomePublic(t *testing.T) {
	h, err := NewHandler(webtest.Shell(t, Texts()))
	if err != nil {
		t.Fatal(err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	routes := rt.Routes()
	if len(routes) != 1 || routes[0].Pattern != "GET /{$}" || routes[0].Access.String() != "public" {
		t.Fatalf("routes %v, want only GET /{$}, public", routes)
	}
}
