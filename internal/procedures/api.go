package procedures

import (
	"errors"
	"net/http"

	"chancery/internal/authz"
	"chancery/internal/web"
)

// The JSON API of the procedures: the catalogue (public), dossiers and
// applications in progress (citizens and staff), the public tracking and
// result verification, the service-quality indices (staff), and the
// payment gateway's callback. Handlers live in api_*.go by resource.

func (h *Handler) registerAPI(rt *web.Router) {
	rt.HandleFunc("GET /api/v1/procedures", web.Public, h.apiProcedures)
	rt.HandleFunc("GET /api/v1/procedures/{code}", web.Public, h.apiProcedure)

	rt.HandleFunc("POST /api/v1/drafts", web.CitizenOnly, h.apiCreateDraft)
	rt.HandleFunc("GET /api/v1/drafts/{id}", web.CitizenOnly, h.apiDraft)
	rt.HandleFunc("POST /api/v1/drafts/{id}/attachments", web.CitizenOnly, h.apiAttachToDraft)
	rt.HandleFunc("DELETE /api/v1/drafts/{id}/attachments/{attachment}", web.CitizenOnly, h.apiRemoveFromDraft)
	rt.HandleFunc("POST /api/v1/drafts/{id}/payment", web.CitizenOnly, h.apiPayDraft)

	rt.HandleFunc("POST /api/v1/dossiers", web.Account, h.apiSubmit)
	rt.HandleFunc("GET /api/v1/dossiers", web.Account, h.apiDossiers)
	rt.HandleFunc("GET /api/v1/dossiers/{code}", web.Account, h.apiDossier)
	rt.HandleFunc("POST /api/v1/dossiers/{code}/actions", web.Account, h.apiAct)
	rt.HandleFunc("GET /api/v1/dossiers/{code}/result", web.Account, h.apiResult)
	rt.HandleFunc("GET /api/v1/dossiers/{code}/attachments/{id}", web.Account, h.apiAttachment)
	// Anyone holding a dossier's code may follow it, as on the national
	// portal, and anyone may check a result's signature.
	rt.HandleFunc("GET /api/v1/dossiers/{code}/status", web.Public, h.apiTrack)
	rt.HandleFunc("POST /api/v1/results/verify", web.Public, h.apiVerifyResult)

	// Any staff member may ask; Service.Indices decides which scopes each
	// may read (administrators, who hold no dossier role, read them all),
	// as the console's dashboard does.
	rt.HandleFunc("GET /api/v1/indices", web.SignedIn, h.apiIndices)

	// The counter's lookups in the National Population Database, and the
	// identity number a clerk verified against a citizen's card.
	rt.HandleFunc("POST /api/v1/population/lookups", web.Staff(authz.KindPopulationRecord, authz.Read), h.apiCounterLookup)
	rt.HandleFunc("PUT /api/v1/citizens/{id}/identity-number", web.Staff(authz.KindCitizenIdentity, authz.Update), h.apiVerifyIdentity)

	// The gateway has no account: the callback's signature authenticates.
	rt.HandleFunc("POST /payments/v1/callback", web.Public, h.apiPaymentCallback)
}

// apiPartError is an error in one named part of a request: a multipart
// part, or the form inside the body.
type apiPartError struct {
	part string
	err  error
}

func (e *apiPartError) Error() string { return e.part + ": " + e.err.Error() }
func (e *apiPartError) Unwrap() error { return e.err }

// apiError writes err as a problem document. A form's violations are
// listed in errors by their JSON pointer in the request ("/form/…"), and
// a refused file by its part's name, each with its English message;
// anything else is web.Error's.
func apiError(w http.ResponseWriter, r *http.Request, err error) {
	var fe *FormError
	var pe *apiPartError
	switch {
	case errors.As(err, &fe):
		list := make(map[string]string, len(fe.Violations))
		for _, v := range fe.Violations {
			list["/form"+v.Pointer] = v.MessageEN
		}
		web.Problem(w, r, web.ProblemDetails{Status: web.Status(err), Detail: fe.Error(), Errors: list, Code: "form_invalid"})
	case errors.As(err, &pe) && web.Status(err) < http.StatusInternalServerError:
		msg := pe.err.Error()
		if ue, ok := errors.AsType[*UploadError](err); ok {
			msg = ue.MessageEN
		}
		web.Problem(w, r, web.ProblemDetails{Status: web.Status(err), Detail: err.Error(), Errors: map[string]string{pe.part: msg}})
	default:
		web.Error(w, r, err)
	}
}
