package govsim

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"chancery/internal/errs"
	"chancery/internal/web"
)

// problem answers err as application/problem+json, always: the
// simulators stand for outside systems' APIs, which do not answer a
// browser with Chancery's error page. The status comes from web.Status,
// the one mapping of error kinds; a field error names its field.
func problem(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	p := web.ProblemDetails{Status: web.Status(err), Detail: err.Error()}
	var fe *errs.FieldError
	if errors.As(err, &fe) {
		p.Errors = map[string]string{fe.Field: fe.Message}
	}
	if p.Status >= http.StatusInternalServerError {
		log.Error("simulator: internal error", "path", r.URL.Path, "err", err)
		p.Detail = "Something went wrong in the simulator."
	}
	web.Problem(w, r, p)
}

// methodNotAllowed answers a known path asked with another method than
// allow.
func methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		web.Problem(w, r, web.ProblemDetails{Status: http.StatusMethodNotAllowed,
			Detail: fmt.Sprintf("%s is not allowed here; allowed: %s", r.Method, allow)})
	})
}

// noRoute answers a path the simulator does not serve, listing the routes
// it does.
func noRoute(routes string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.Problem(w, r, web.ProblemDetails{Status: http.StatusNotFound,
			Detail: "no such route in this simulator; it serves " + routes})
	})
}

// serveOpenAPI serves doc, an embedded OpenAPI description, at
// GET /v1/openapi.json.
func serveOpenAPI(mux *http.ServeMux, doc []byte) {
	mux.HandleFunc("GET /v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc) //nolint:errcheck // the client went away
	})
	mux.Handle("/v1/openapi.json", methodNotAllowed("GET, HEAD"))
}

// simulatorHeader names the simulator in every response's Server header,
// so that nobody reading a trace mistakes it for the real system.
func simulatorHeader(name string, h http.Handler) http.Handler {
	server := "chancery-govsim/" + name + " (simulator)"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", server)
		h.ServeHTTP(w, r)
	})
}
