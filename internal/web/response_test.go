package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"

	"chancery/internal/errs"
)

// problemOf decodes a problem+json response, failing the test if it is
// not one.
func problemOf(t *testing.T, rec *httptest.ResponseRecorder) ProblemDetails {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, rec.Body)
	}
	var p ProblemDetails
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("decode problem %s: %v", rec.Body, err)
	}
	if p.Status != rec.Code {
		t.Errorf("problem status %d, response status %d", p.Status, rec.Code)
	}
	return p
}

func TestStatusMapsEachErrorKind(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, http.StatusOK},
		{errs.ErrInvalid, http.StatusBadRequest},
		{errs.Invalid("name", "is required"), http.StatusBadRequest},
		{errs.ErrNotFound, http.StatusNotFound},
		{errs.ErrConflict, http.StatusConflict},
		{errs.ErrUnauthenticated, http.StatusUnauthorized},
		{errs.ErrForbidden, http.StatusForbidden},
		{errs.ErrRateLimited, http.StatusTooManyRequests},
		{errs.ErrTooLarge, http.StatusRequestEntityTooLarge},
		{errs.ErrUnavailable, http.StatusServiceUnavailable},
		{errs.ErrStorageFull, http.StatusInsufficientStorage},
		{errs.ErrGone, http.StatusGone},
		{errs.ErrTimeout, http.StatusGatewayTimeout},
		{errs.ErrBadGateway, http.StatusBadGateway},
		{context.Canceled, http.StatusServiceUnavailable},
		{fmt.Errorf("bus: publish: %w", context.DeadlineExceeded), http.StatusServiceUnavailable},
		{errMethod, http.StatusMethodNotAllowed},
		{errors.New("disk on fire"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		name := "nil"
		if tt.err != nil {
			name = tt.err.Error()
		}
		t.Run(name, func(t *testing.T) {
			if got := Status(tt.err); got != tt.want {
				t.Errorf("Status(%v) = %d, want %d", tt.err, got, tt.want)
			}
			// Wrapping with context, as every layer does, keeps the kind.
			if tt.err != nil {
				wrapped := fmt.Errorf("open unit 7: %w", tt.err)
				if got := Status(wrapped); got != tt.want {
					t.Errorf("Status(%v) = %d, want %d", wrapped, got, tt.want)
				}
			}
		})
	}
}

// captureLogs returns a request whose context carries a logger writing
// into the returned buffer, and a request id, as Observe gives it.
func captureLogs(r *http.Request, id string) (*http.Request, *bytes.Buffer) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil)).With("request_id", id)
	ctx := context.WithValue(r.Context(), requestIDKey{}, id)
	ctx = context.WithValue(ctx, loggerKey{}, log)
	return r.WithContext(ctx), &buf
}

func TestErrorShowsKnownKindsAndHidesInternalOnes(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		detail     string // must appear in the problem's detail
		hidden     string // must appear nowhere in the response
		logged     bool   // logged at error level with the request id
		fieldError bool
	}{
		{name: "invalid", err: fmt.Errorf("%w: the code must look like 000.00.00.G12", errs.ErrInvalid), status: 400,
			detail: "the code must look like 000.00.00.G12"},
		{name: "field error", err: errs.Invalid("code", "is already used"), status: 400,
			detail: "code: is already used", fieldError: true},
		{name: "conflict", err: fmt.Errorf("%w: the unit was changed by someone else", errs.ErrConflict), status: 409,
			detail: "changed by someone else"},
		{name: "forbidden", err: fmt.Errorf("%w: you may not merge units", errs.ErrForbidden), status: 403,
			detail: "you may not merge units"},
		{name: "not found never echoes", err: fmt.Errorf("%w: secret dossier HN-240101-7 of unit 12", errs.ErrNotFound), status: 404,
			detail: "No such item", hidden: "HN-240101-7"},
		{name: "Go context is not shown", err: fmt.Errorf("procedures: receive dossier 7: %w", fmt.Errorf("%w: the dossier is not complete", errs.ErrConflict)), status: 409,
			detail: "conflict: the dossier is not complete", hidden: "procedures:"},
		{name: "a wrapped field error shows the field", err: fmt.Errorf("identity: create unit: %w", errs.Invalid("code", "is already used")), status: 400,
			detail: "code: is already used", hidden: "identity:", fieldError: true},
		{name: "long input is not echoed in full", err: fmt.Errorf("%w: no procedure %q", errs.ErrInvalid, strings.Repeat("x", 5000)), status: 400,
			detail: strings.Repeat("x", 100), hidden: strings.Repeat("x", 500)},
		{name: "internal", err: errors.New("pq: password authentication failed for user chancery_rw"), status: 500,
			detail: "Quote the request id", hidden: "chancery_rw", logged: true},
		{name: "unavailable", err: fmt.Errorf("%w: dial tcp 10.0.0.5:5432: connection refused", errs.ErrUnavailable), status: 503,
			detail: "Try again in a few seconds", hidden: "10.0.0.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, logs := captureLogs(httptest.NewRequest(http.MethodGet, "/api/v1/units/7", nil), "req-42")
			rec := httptest.NewRecorder()
			Error(rec, r, tt.err)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			p := problemOf(t, rec)
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail %q does not contain %q", p.Detail, tt.detail)
			}
			if tt.hidden != "" && strings.Contains(rec.Body.String(), tt.hidden) {
				t.Errorf("response leaks %q: %s", tt.hidden, rec.Body)
			}
			if p.RequestID != "req-42" || p.Instance != "/api/v1/units/7" {
				t.Errorf("request_id %q instance %q, want req-42 and the path", p.RequestID, p.Instance)
			}
			if tt.fieldError && p.Errors["code"] != "is already used" {
				t.Errorf("errors = %v, want code: is already used", p.Errors)
			}
			logged := strings.Contains(logs.String(), `"level":"ERROR"`) && strings.Contains(logs.String(), "req-42")
			if logged != tt.logged {
				t.Errorf("logged at error level with the request id: %v, want %v; logs: %s", logged, tt.logged, logs)
			}
			if tt.logged && !strings.Contains(logs.String(), tt.hidden) {
				t.Errorf("the log lacks the raw error, which operators need: %s", logs)
			}
		})
	}
}

// TestErrorAnswersAFullDiskWith507: a write the operating system refuses
// for want of space (here /dev/full, which refuses every write with
// ENOSPC) is a 507 problem that says so and when to retry, not a bare
// 500; the file's name stays in the log.
func TestErrorAnswersAFullDiskWith507(t *testing.T) {
	werr := os.WriteFile("/dev/full", []byte("sealed blob"), 0o600)
	if !errors.Is(werr, syscall.ENOSPC) {
		t.Skipf("/dev/full did not refuse a write with ENOSPC (%v); this test needs Linux's /dev/full", werr)
	}
	err := fmt.Errorf("procedures: store attachment 3 of dossier 9: %w", werr)
	r, logs := captureLogs(httptest.NewRequest(http.MethodPost, "/api/v1/dossiers", nil), "req-507")
	rec := httptest.NewRecorder()
	Error(rec, r, err)
	if rec.Code != http.StatusInsufficientStorage {
		t.Fatalf("status %d, want 507; body %s", rec.Code, rec.Body)
	}
	p := problemOf(t, rec)
	if p.Code != "storage_full" || !strings.Contains(p.Detail, "storage is full") || !strings.Contains(p.Detail, "nothing was saved") {
		t.Errorf("problem %+v, want code storage_full and a detail saying the storage is full and nothing was saved", p)
	}
	if rec.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if strings.Contains(rec.Body.String(), "/dev/full") || strings.Contains(rec.Body.String(), "procedures:") {
		t.Errorf("the response leaks the raw error: %s", rec.Body)
	}
	if !strings.Contains(logs.String(), `"level":"ERROR"`) || !strings.Contains(logs.String(), "/dev/full") || !strings.Contains(logs.String(), "req-507") {
		t.Errorf("not logged at error level with the raw error and the request id: %s", logs)
	}
	// A browser gets the page, titled in its language.
	r, _ = captureLogs(httptest.NewRequest(http.MethodPost, "/console/dossiers", nil), "req-508")
	r.Header.Set("Accept", "text/html")
	rec = httptest.NewRecorder()
	NewShell(testTexts(t)).Language(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { Error(w, r, err) })).ServeHTTP(rec, r)
	if rec.Code != http.StatusInsufficientStorage || !strings.Contains(rec.Body.String(), "Bộ nhớ của máy chủ đã đầy") || strings.Contains(rec.Body.String(), "/dev/full") {
		t.Errorf("the page for a full disk = %d %.300s", rec.Code, rec.Body)
	}
}

func TestErrorAsksForCredentialsOnUnauthenticated(t *testing.T) {
	rec := httptest.NewRecorder()
	Error(rec, httptest.NewRequest(http.MethodGet, "/api/v1/units", nil), errUnauthenticated)
	if rec.Code != http.StatusUnauthorized || !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("status %d, WWW-Authenticate %q; want 401 with a Bearer challenge", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	if p := problemOf(t, rec); p.Code != "unauthenticated" {
		t.Errorf("code %q, want unauthenticated", p.Code)
	}
}

func TestErrorRendersAPageForBrowsers(t *testing.T) {
	tests := []struct {
		name, path, accept, hxRequest string
		wantHTML                      bool
	}{
		{name: "browser on a page", path: "/console/units", accept: "text/html,application/xhtml+xml", wantHTML: true},
		{name: "htmx on a page", path: "/console/units", hxRequest: "true", wantHTML: true},
		{name: "browser on the API", path: "/api/v1/units", accept: "text/html"},
		{name: "script on a page", path: "/console/units", accept: "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := captureLogs(httptest.NewRequest(http.MethodGet, tt.path, nil), "req-7")
			r.Header.Set("Accept", tt.accept)
			r.Header.Set("HX-Request", tt.hxRequest)
			rec := httptest.NewRecorder()
			Error(rec, r, errors.New("template cache corrupted at 0xdeadbeef"))
			if rec.Code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500", rec.Code)
			}
			if strings.Contains(rec.Body.String(), "0xdeadbeef") {
				t.Errorf("the raw error leaks: %s", rec.Body)
			}
			isHTML := strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html")
			if isHTML != tt.wantHTML {
				t.Fatalf("Content-Type %q, want HTML: %v", rec.Header().Get("Content-Type"), tt.wantHTML)
			}
			if isHTML && !strings.Contains(rec.Body.String(), "req-7") {
				t.Errorf("the error page does not show the request id: %s", rec.Body)
			}
		})
	}
}
