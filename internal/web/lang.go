package web

import (
	"net/http"

	"chancery/internal/errs"
	"chancery/internal/i18n"
)

// LangHandler returns the handler of POST /lang, the layout's language
// switch: it remembers the form's lang ("vi" or "en") in the language
// cookie and sends the browser back with 303 See Other to the form's next
// path (a local path only; "/" otherwise). An unsupported lang is a 400
// that changes nothing.
//
// The switch is a form rather than a ?lang= link so that it works the same
// from every page, including one reached by POST.
func LangHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang, ok := i18n.ParseLang(r.PostFormValue("lang"))
		if !ok {
			Error(w, r, errs.Invalid("lang", `choose "vi" (Tiếng Việt) or "en" (English)`))
			return
		}
		SetLangCookie(w, r, lang)
		http.Redirect(w, r, SafeNext(r.PostFormValue("next"), "/"), http.StatusSeeOther)
	})
}
