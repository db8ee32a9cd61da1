package identity

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// The routes by which an administrator or a security officer vouches for
// a staff member's sign-in: a one-time code to enrol a second factor with,
// handed over out of band, and the link to their identity-provider
// account. Who may do either is authz's KindCredential row; nobody may for
// their own account.

// mayVouch returns an errs.ErrForbidden error unless the caller of r may
// take action on the sign-in of staff member id.
func mayVouch(r *http.Request, a authz.Action, id int64) error {
	if d, why := authz.Decide(web.SubjectFrom(r.Context()), a, authz.Resource{Kind: authz.KindCredential, Owner: id}); d != authz.Allowed {
		return fmt.Errorf("%w: %s", errs.ErrForbidden, why)
	}
	return nil
}

// issueEnrolmentCode issues a one-time second-factor enrolment code for
// staff member id.
func issueEnrolmentCode(ctx context.Context, svc *Service, creds Credentials, id int64) (StaffMember, string, time.Time, error) {
	m, err := svc.Staff(ctx, id)
	if err != nil {
		return StaffMember{}, "", time.Time{}, err
	}
	code, expires, err := creds.IssueEnrolmentCode(ctx, authz.Staff, m.ID)
	if err != nil {
		return StaffMember{}, "", time.Time{}, fmt.Errorf("issue an enrolment code for %s: %w", m.Username, err)
	}
	return m, code, expires, nil
}

// vouchedEnrolmentCode issues the enrolment code that r asks for, for the
// staff member its path names, if its caller may.
func (h *Handler) vouchedEnrolmentCode(r *http.Request) (StaffMember, string, time.Time, error) {
	id, err := pathID(r)
	if err == nil {
		err = mayVouch(r, authz.Create, id)
	}
	if err != nil {
		return StaffMember{}, "", time.Time{}, err
	}
	return issueEnrolmentCode(r.Context(), h.svc, h.creds, id)
}

// enrolmentCode is the answer to POST /api/v1/users/{id}/enrolment-code:
// the code is shown this once and never again.
type enrolmentCode struct {
	EnrolmentCode string    `json:"enrolment_code"`
	ExpiresAt     time.Time `json:"expires_at"`
}

func (h *Handler) apiEnrolmentCode(w http.ResponseWriter, r *http.Request) {
	_, code, expires, err := h.vouchedEnrolmentCode(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, enrolmentCode{EnrolmentCode: code, ExpiresAt: expires})
}

// enrolmentCodeData is the view that hands over an enrolment code, once.
type enrolmentCodeData struct {
	ID                 int64
	Username, FullName string
	Code               string
	Expires            time.Time
}

func (h *Handler) postEnrolmentCode(w http.ResponseWriter, r *http.Request) {
	m, code, expires, err := h.vouchedEnrolmentCode(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "identity.enrolment_code.title")
	h.pages.Render(w, r, http.StatusOK, "user_enrolment_code", web.View[enrolmentCodeData]{Page: p, Data: enrolmentCodeData{
		ID: m.ID, Username: m.Username, FullName: m.FullName, Code: code, Expires: expires}})
}

// oidcLink is the body of PUT /api/v1/users/{id}/oidc and its answer:
// the account at the identity provider the staff member signs in as.
type oidcLink struct {
	Issuer  string `json:"issuer"`
	Subject string `json:"subject"`
}

func (h *Handler) apiLinkOIDC(w http.ResponseWriter, r *http.Request) {
	withIDAndBody(w, r, func(id int64, req oidcLink) (oidcLink, error) {
		if err := mayVouch(r, authz.Update, id); err != nil {
			return oidcLink{}, err
		}
		return req, h.svc.LinkOIDCSubject(r.Context(), id, req.Issuer, req.Subject)
	})
}

// unlinkOIDC removes staff member id's identity-provider link and ends
// their sessions, so that one opened through the provider does not
// outlive the link.
func unlinkOIDC(ctx context.Context, svc *Service, creds Credentials, id int64) error {
	if err := svc.UnlinkOIDCSubject(ctx, id); err != nil {
		return err
	}
	if err := creds.RevokeSessions(ctx, authz.Staff, id); err != nil {
		return fmt.Errorf("the identity-provider link of staff member %d was removed but their sessions could not be ended; retry: %w", id, err)
	}
	return nil
}

func (h *Handler) apiUnlinkOIDC(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = mayVouch(r, authz.Update, id)
	}
	if err == nil {
		err = unlinkOIDC(r.Context(), h.svc, h.creds, id)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
