package identity_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestAPICannotRemoveTheLastAdministrator replays issue 14's report: an
// administrator PATCHes their own roles to [], then the other
// administrator's. Their own are refused (nobody changes their own); the
// other's go, leaving them the last, whom nothing then removes.
func TestAPICannotRemoveTheLastAdministrator(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		other := principal(mustStaff(t, e.svc, "other.admin", e.tree.root.ID, authz.Administrator))
		self := fmt.Sprintf("/api/v1/users/%d", e.admin.Subject.ID)
		w := e.json(e.admin, "PATCH", self, `{"roles":[],"version":1}`)
		if w.Code != http.StatusForbidden || !strings.Contains(body(w), "own roles") {
			t.Fatalf("PATCH own roles: %d %s", w.Code, body(w))
		}
		w = e.json(e.admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", other.Subject.ID), `{"roles":[],"version":1}`)
		if w.Code != http.StatusOK {
			t.Fatalf("PATCH the other administrator's roles: %d %s", w.Code, body(w))
		}
		w = e.json(e.admin, "PATCH", self, `{"disabled":true,"version":1}`)
		if w.Code != http.StatusConflict || !strings.Contains(body(w), "last active administrator") {
			t.Fatalf("disabling the last administrator: %d %s", w.Code, body(w))
		}
		// The other's session still carries the role; the service reads
		// the stored account.
		w = e.json(other, "PATCH", self, `{"roles":[],"version":1}`)
		if w.Code != http.StatusForbidden {
			t.Fatalf("a former administrator's PATCH: %d %s", w.Code, body(w))
		}
		if m, _ := e.svc.Staff(testCtx, e.admin.Subject.ID); !m.Roles.Has(authz.Administrator) || m.Disabled {
			t.Fatalf("the last administrator is now %+v", m)
		}
	})
}

func TestAPIRefusesResettingOnesOwnPassword(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		w := e.json(e.admin, "POST", fmt.Sprintf("/api/v1/users/%d/password", e.admin.Subject.ID), "")
		if w.Code != http.StatusForbidden || !strings.Contains(body(w), "/console/sign-in/change-password") || strings.Contains(body(w), "one_time_password") {
			t.Fatalf("resetting one's own password: %d %s", w.Code, body(w))
		}
		w = e.do(e.admin, "POST", fmt.Sprintf("/console/users/%d/password", e.admin.Subject.ID), formType, "")
		if w.Code != http.StatusForbidden || strings.Contains(body(w), "otp-") {
			t.Fatalf("resetting one's own password on the page: %d", w.Code)
		}
		if e.creds.issued != 0 {
			t.Fatalf("refused resets issued %d passwords", e.creds.issued)
		}
		w = e.json(e.admin, "POST", fmt.Sprintf("/api/v1/users/%d/password", e.clerk.Subject.ID), "")
		if w.Code != http.StatusOK {
			t.Fatalf("resetting another's password: %d %s", w.Code, body(w))
		}
	})
}

func TestAPIProposals(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		lowOfficer := principal(seedStaff(t, e.svc, "low.officer", e.tree.root.ID, authz.Confidential, authz.SecurityOfficer))
		w := e.json(e.admin, "POST", "/api/v1/users", fmt.Sprintf(`{"username":"new.auditor","full_name":"Kiểm tra viên","unit_id":%d,"roles":["auditor"],"clearance":"top_secret"}`, e.tree.root.ID))
		var created struct {
			User struct {
				ID        int64    `json:"id"`
				Roles     []string `json:"roles"`
				Clearance string   `json:"clearance"`
			} `json:"user"`
			Proposal struct {
				ID    int64    `json:"id"`
				Roles []string `json:"roles"`
			} `json:"proposal"`
		}
		mustJSON(t, body(w), &created)
		if w.Code != http.StatusCreated || len(created.User.Roles) != 0 || created.User.Clearance != "none" || strings.Join(created.Proposal.Roles, ",") != "auditor" {
			t.Fatalf("create: %d %s", w.Code, body(w))
		}
		one := fmt.Sprintf("/api/v1/user-proposals/%d", created.Proposal.ID)
		for _, p := range []struct {
			name string
			as   func() (int, string)
		}{
			{"an administrator lists them", func() (int, string) {
				w := e.json(e.admin, "GET", "/api/v1/user-proposals", "")
				return w.Code, body(w)
			}},
			{"a security officer reads one", func() (int, string) { w := e.json(e.secOff, "GET", one, ""); return w.Code, body(w) }},
		} {
			if code, b := p.as(); code != http.StatusOK || !strings.Contains(b, `"username":"new.auditor"`) || !strings.Contains(b, `"status":"pending"`) {
				t.Fatalf("%s: %d %s", p.name, code, b)
			}
		}
		for _, tt := range []struct {
			name   string
			code   int
			wantIn string
			do     func() (int, string)
		}{
			{"a clerk does not see proposals", http.StatusForbidden, "", func() (int, string) {
				w := e.json(e.clerk, "GET", "/api/v1/user-proposals", "")
				return w.Code, body(w)
			}},
			{"an administrator does not approve", http.StatusForbidden, "", func() (int, string) {
				w := e.json(e.admin, "POST", one+"/approve", "")
				return w.Code, body(w)
			}},
			{"an officer cleared below the grant does not approve", http.StatusForbidden, "clearance", func() (int, string) {
				w := e.json(lowOfficer, "POST", one+"/approve", "")
				return w.Code, body(w)
			}},
			{"a clerk does not reject", http.StatusForbidden, "", func() (int, string) {
				w := e.json(e.clerk, "POST", one+"/reject", "")
				return w.Code, body(w)
			}},
			{"a note with control characters", http.StatusBadRequest, "note", func() (int, string) {
				w := e.json(e.secOff, "POST", one+"/reject", `{"note":"a\r\nb"}`)
				return w.Code, body(w)
			}},
			{"an oversized body", http.StatusRequestEntityTooLarge, "", func() (int, string) {
				w := e.json(e.secOff, "POST", one+"/reject", `{"note":"`+strings.Repeat("x", 2<<20)+`"}`)
				return w.Code, body(w)
			}},
			{"an unknown status", http.StatusBadRequest, "status", func() (int, string) {
				w := e.json(e.admin, "GET", "/api/v1/user-proposals?status=maybe", "")
				return w.Code, body(w)
			}},
			{"an unknown proposal", http.StatusNotFound, "", func() (int, string) {
				w := e.json(e.secOff, "POST", "/api/v1/user-proposals/9999/approve", "")
				return w.Code, body(w)
			}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if code, b := tt.do(); code != tt.code || !strings.Contains(b, tt.wantIn) {
					t.Fatalf("%d %s; want %d", code, b, tt.code)
				}
			})
		}
		if m, _ := e.svc.Staff(testCtx, created.User.ID); m.Clearance != authz.Unclassified || m.Roles != 0 {
			t.Fatalf("refused requests changed the account: %+v", m)
		}
		w = e.json(e.secOff, "POST", one+"/approve", "")
		if w.Code != http.StatusOK || !strings.Contains(body(w), `"status":"approved"`) || !strings.Contains(body(w), `"clearance":"top_secret"`) {
			t.Fatalf("approve: %d %s", w.Code, body(w))
		}
		if m, _ := e.svc.Staff(testCtx, created.User.ID); m.Clearance != authz.TopSecret || m.Roles != authz.RolesOf(authz.Auditor) {
			t.Fatalf("after approval: %+v", m)
		}
		w = e.json(e.admin, "GET", "/api/v1/user-proposals", "")
		if w.Code != http.StatusOK || strings.TrimSpace(body(w)) != `{"items":[],"next":""}` {
			t.Fatalf("pending after approval: %s", body(w))
		}
		w = e.json(e.admin, "GET", "/api/v1/user-proposals?status=all", "")
		if !strings.Contains(body(w), `"status":"approved"`) {
			t.Fatalf("every proposal: %s", body(w))
		}
	})
}

func TestProposalPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		form := url.Values{"username": {"le.van.nam"}, "full_name": {"Lê Văn Nam"}, "unit_id": {fmt.Sprint(e.tree.paris.ID)},
			"roles": {"clerk"}, "clearance": {"secret"}}
		w := e.do(e.admin, "POST", "/console/users?lang=en", formType, form.Encode())
		if w.Code != http.StatusCreated || !strings.Contains(body(w), "were proposed to the security officers") {
			t.Fatalf("create: %d %s", w.Code, body(w))
		}
		for _, lang := range []string{"", "?lang=en"} {
			list := page(t, e, e.secOff, "/console/user-proposals"+lang, http.StatusOK)
			if !strings.Contains(list, "le.van.nam") || !strings.Contains(list, "/approve") {
				t.Fatalf("the security officer's list lacks the proposal or its approve button:\n%s", list)
			}
			mine := page(t, e, e.admin, "/console/user-proposals"+lang, http.StatusOK)
			if strings.Contains(mine, "/approve") || !strings.Contains(mine, "/reject") {
				t.Fatal("the proposer is offered approval, or not withdrawal")
			}
		}
		page(t, e, e.clerk, "/console/user-proposals", http.StatusForbidden)
		pending, _, _ := e.svc.ListProposals(testCtx, identity.ProposalFilter{Status: identity.ProposalPending})
		detail := page(t, e, e.admin, fmt.Sprintf("/console/users/%d?lang=en", pending[0].StaffID), http.StatusOK)
		if !strings.Contains(detail, "Waiting for a security officer&#39;s approval") || !strings.Contains(detail, fmt.Sprintf("#proposal-%d", pending[0].ID)) {
			t.Fatalf("the account's page does not show its pending grant:\n%s", detail)
		}
		path := fmt.Sprintf("/console/user-proposals/%d/approve", pending[0].ID)
		w = e.do(e.admin, "POST", path, formType, "")
		if w.Code != http.StatusForbidden {
			t.Fatalf("an administrator approving on the page: %d", w.Code)
		}
		w = e.do(e.secOff, "POST", path, formType, "")
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/console/user-proposals?flash=identity.flash.proposal_approved" {
			t.Fatalf("approve: %d %s", w.Code, w.Header().Get("Location"))
		}
		w = e.do(e.secOff, "POST", path, formType, "")
		if w.Code != http.StatusConflict || !strings.Contains(body(w), "already approved") {
			t.Fatalf("approving twice: %d", w.Code)
		}
		if m, _ := e.svc.StaffByUsername(testCtx, "le.van.nam"); m.Clearance != authz.Secret {
			t.Fatalf("after approval on the page: %+v", m)
		}
	})
}
