package webtest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/i18n"
	"chancery/internal/web"
)

func TestGetAsksForAPageAsThePrincipal(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("lang=" + string(web.LangFrom(r.Context())) + " name=" + web.PrincipalFrom(r.Context()).Name + " accept=" + r.Header.Get("Accept")))
	})
	PageHas(t, Get(Shell(t), h, web.Principal{Subject: authz.Subject{Kind: authz.Staff, ID: 7}, Name: "Lan"}, "/"), http.StatusOK,
		"lang=vi", "name=Lan", "accept=text/html")
	// A principal that names nobody is not put on the request.
	PageHas(t, Get(Shell(t), h, web.Principal{Name: "nobody"}, "/"), http.StatusOK, "name= ")
}

func TestGetInAsksInTheGivenLanguage(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("lang=" + string(web.LangFrom(r.Context()))))
	})
	PageHas(t, GetIn(Shell(t), h, web.Principal{}, i18n.EN, "/"), http.StatusOK, "lang=en")
}

func TestProblemDecodesAProblemOfTheStatus(t *testing.T) {
	w := httptest.NewRecorder()
	web.Problem(w, httptest.NewRequest("GET", "/", nil), web.ProblemDetails{Status: http.StatusConflict, Detail: "stale", Code: "conflict"})
	if p := Problem(t, w, http.StatusConflict); p.Detail != "stale" || p.Code != "conflict" {
		t.Errorf("Problem = %+v", p)
	}
}
