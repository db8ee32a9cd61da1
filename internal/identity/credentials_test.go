package identity_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

// TestVouchingForSignInTakesSomeoneElse pins who may issue a
// second-factor enrolment code and link an identity-provider account,
// through the API and the console: administrators (and security officers
// for codes), never for their own account, never a clerk.
func TestVouchingForSignInTakesSomeoneElse(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		so := seedStaff(t, e.svc, "sec.officer", e.tree.root.ID, authz.Unclassified, authz.SecurityOfficer)
		officer := web.Principal{Subject: so.Subject(), Username: so.Username, Stage: "full"}
		clerkID, adminID := e.clerk.Subject.ID, e.admin.Subject.ID
		link := `{"issuer":"https://idp.mofa.gov.vn","subject":"sub-clerk"}`
		for _, tc := range []struct {
			name         string
			as           web.Principal
			method, path string
			body         string
			status       int
		}{
			{"an administrator issues a code for a clerk", e.admin, "POST", fmt.Sprintf("/api/v1/users/%d/enrolment-code", clerkID), "", http.StatusOK},
			{"a security officer issues one", officer, "POST", fmt.Sprintf("/api/v1/users/%d/enrolment-code", adminID), "", http.StatusOK},
			{"a clerk may not", e.clerk, "POST", fmt.Sprintf("/api/v1/users/%d/enrolment-code", adminID), "", http.StatusForbidden},
			{"nor an administrator for themselves", e.admin, "POST", fmt.Sprintf("/api/v1/users/%d/enrolment-code", adminID), "", http.StatusForbidden},
			{"nor on the console", e.admin, "POST", fmt.Sprintf("/console/users/%d/enrolment-code", adminID), "", http.StatusForbidden},
			{"a code for nobody", e.admin, "POST", "/api/v1/users/99999/enrolment-code", "", http.StatusNotFound},
			{"a security officer may not link", officer, "PUT", fmt.Sprintf("/api/v1/users/%d/oidc", clerkID), link, http.StatusForbidden},
			{"an administrator may not link themselves", e.admin, "PUT", fmt.Sprintf("/api/v1/users/%d/oidc", adminID), link, http.StatusForbidden},
			{"a subject with CR LF", e.admin, "PUT", fmt.Sprintf("/api/v1/users/%d/oidc", clerkID), `{"issuer":"https://idp","subject":"a\r\nb"}`, http.StatusBadRequest},
			{"an administrator links a clerk", e.admin, "PUT", fmt.Sprintf("/api/v1/users/%d/oidc", clerkID), link, http.StatusOK},
		} {
			t.Run(tc.name, func(t *testing.T) {
				w := e.json(tc.as, tc.method, tc.path, tc.body)
				if w.Code != tc.status {
					t.Fatalf("%s %s = %d, want %d\n%s", tc.method, tc.path, w.Code, tc.status, body(w))
				}
			})
		}
		if m, err := e.svc.StaffByOIDCSubject(context.Background(), "https://idp.mofa.gov.vn", "sub-clerk"); err != nil || m.ID != clerkID {
			t.Fatalf("linked = %+v, %v", m, err)
		}
		if w := e.json(e.admin, "DELETE", fmt.Sprintf("/api/v1/users/%d/oidc", clerkID), ""); w.Code != http.StatusNoContent || e.creds.revocations(clerkID) != 1 {
			t.Fatalf("unlink = %d, %d revocations\n%s", w.Code, e.creds.revocations(clerkID), body(w))
		}
		if _, err := e.svc.StaffByOIDCSubject(context.Background(), "https://idp.mofa.gov.vn", "sub-clerk"); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("after unlinking = %v", err)
		}
		w := e.do(e.admin, "POST", fmt.Sprintf("/console/users/%d/enrolment-code", clerkID), "application/x-www-form-urlencoded", "")
		if w.Code != http.StatusOK || !strings.Contains(body(w), fmt.Sprintf("enrol-%d-", clerkID)) {
			t.Fatalf("console code = %d\n%s", w.Code, body(w))
		}
	})
}
