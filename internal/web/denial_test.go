package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/errs"
)

func TestEveryRefusalOfASignedInCallerIsRecordedOnceBeforeItIsSent(t *testing.T) {
	secret := authz.Resource{Kind: authz.KindDocument, Level: authz.Secret}
	rt := NewRouter()
	rt.HandleFunc("POST /console/users", Staff(authz.KindStaff, authz.Create), func(w http.ResponseWriter, r *http.Request) {})
	rt.HandleFunc("GET /account/{$}", CitizenOnly, func(w http.ResponseWriter, r *http.Request) {})
	rt.HandleFunc("GET /docs/{id}", SignedIn, func(w http.ResponseWriter, r *http.Request) {
		d, reason := authz.Decide(SubjectFrom(r.Context()), authz.Read, secret)
		Error(w, r, fmt.Errorf("open document %s: %w", r.PathValue("id"), authz.Refuse(d, reason, authz.Read, secret, r.PathValue("id"))))
	})
	rt.HandleFunc("GET /plain/{id}", SignedIn, func(w http.ResponseWriter, r *http.Request) {
		Error(w, r, fmt.Errorf("%w: not yours", errs.ErrForbidden))
	})
	rt.HandleFunc("GET /own-page", SignedIn, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden) // a page that draws its own refusal
	})
	rt.HandleFunc("GET /missing", SignedIn, func(w http.ResponseWriter, r *http.Request) {
		Error(w, r, fmt.Errorf("%w: no such thing", errs.ErrNotFound))
	})
	rt.HandleFunc("GET /fine", SignedIn, func(w http.ResponseWriter, r *http.Request) {})

	tests := []struct {
		name   string
		p      Principal
		method string
		path   string
		status int
		want   []Denial
	}{
		{"the guard refuses a role", clerk, "POST", "/console/users", 403, []Denial{{Route: "POST /console/users", Decision: authz.Denied,
			Reason: authz.ReasonNoRole, Kind: "staff", Action: "create", Code: "no_role"}}},
		{"the guard refuses a kind of account", clerk, "GET", "/account/", 403, []Denial{{Route: "GET /account/{$}", Decision: authz.Denied,
			Reason: authz.ReasonWrongPrincipal, Code: "wrong_account_kind"}}},
		{"a concealed item", clerk, "GET", "/docs/77", 404, []Denial{{Route: "GET /docs/{id}", Decision: authz.Concealed,
			Reason: authz.ReasonNoReadUp, Kind: "document", Action: "read", Level: authz.Secret, ResourceID: "77"}}},
		{"a refusal that gives no reason", clerk, "GET", "/plain/1", 403, []Denial{{Route: "GET /plain/{id}", Decision: authz.Denied,
			Reason: authz.ReasonUnexplained}}},
		{"a page's own 403", clerk, "GET", "/own-page", 403, []Denial{{Route: "GET /own-page", Decision: authz.Denied, Reason: authz.ReasonUnexplained}}},
		{"a real absence", clerk, "GET", "/missing", 404, nil},
		{"an allowed request", clerk, "GET", "/fine", 200, nil},
		{"nobody signed in", anonymous, "POST", "/console/users", 401, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Denial
			var w *httptest.ResponseRecorder
			record := func(ctx context.Context, d Denial) error {
				if w.Code != http.StatusOK || w.Body.Len() > 0 {
					t.Errorf("recorded after the response began: %d %q", w.Code, w.Body)
				}
				got = append(got, d)
				return nil
			}
			w = httptest.NewRecorder()
			h := RecordDenials(record)(rt)
			if tt.p.Subject.Authenticated() {
				h = as(tt.p, h)
			}
			h.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.status || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("%s %s = %d, recorded %+v; want %d, %+v", tt.method, tt.path, w.Code, got, tt.status, tt.want)
			}
		})
	}
}

func TestARefusalIsSentEvenWhenItCannotBeRecorded(t *testing.T) {
	rt := NewRouter()
	rt.HandleFunc("POST /console/users", Staff(authz.KindStaff, authz.Create), func(w http.ResponseWriter, r *http.Request) {})
	w := httptest.NewRecorder()
	as(clerk, RecordDenials(func(context.Context, Denial) error { return errors.New("ledger closed") })(rt)).
		ServeHTTP(w, httptest.NewRequest("POST", "/console/users", nil))
	if w.Code != http.StatusForbidden {
		t.Errorf("status %d, want 403", w.Code)
	}
}
