package web

import (
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"
)

type multipartKey struct{}

// formToken returns the CSRFField a form sent. A multipart body's token
// is read from its first part, where every form of the site puts it, and
// nothing more is read: the handler streams the rest (the files), which
// r.PostFormValue would parse whole, holding up to 32 MiB in memory and
// the rest in temporary files. The returned request carries the body's
// multipart reader, for MultipartReader.
func formToken(r *http.Request) (string, *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		return r.PostFormValue(CSRFField), r
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return "", r
	}
	r = r.WithContext(context.WithValue(r.Context(), multipartKey{}, mr))
	part, err := mr.NextPart()
	if err != nil || part.FormName() != CSRFField || part.FileName() != "" {
		return "", r
	}
	token, err := io.ReadAll(io.LimitReader(part, 256))
	if err != nil {
		return "", r
	}
	return string(token), r
}

// MultipartReader returns the reader of r's multipart/form-data body, to
// stream its parts. When the CSRF middleware read the form's token from
// the first part, the reader is past that part.
func MultipartReader(r *http.Request) (*multipart.Reader, error) {
	if mr, ok := r.Context().Value(multipartKey{}).(*multipart.Reader); ok {
		return mr, nil
	}
	return r.MultipartReader()
}

// LimitConcurrent lets at most n requests through to next at once. A
// request that finds them all taken waits up to wait for one to finish,
// then gets 503 with Retry-After: a full house is the server's state, not
// the caller's fault (429 says the caller sent too much), and the answer
// says when to try again. A request whose client goes away while it waits
// gets nothing. If n is 0 or less, there is no limit.
func LimitConcurrent(n int, wait time.Duration) Middleware {
	if n <= 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	slots := make(chan struct{}, n)
	retryAfter := max(1, int(wait.Seconds()))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			timer := time.NewTimer(wait)
			defer timer.Stop()
			select {
			case slots <- struct{}{}:
			case <-timer.C:
				w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
				p := ProblemDetails{Status: http.StatusServiceUnavailable, Code: "busy",
					Detail: textsFrom(r.Context()).T(LangFrom(r.Context()), "error.uploads_busy", retryAfter)}
				if wantsHTML(r) {
					renderErrorPage(w, r, p)
				} else {
					Problem(w, r, p)
				}
				return
			case <-r.Context().Done():
				return
			}
			defer func() { <-slots }()
			next.ServeHTTP(w, r)
		})
	}
}
