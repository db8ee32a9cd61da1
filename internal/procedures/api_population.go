package procedures

import (
	"net/http"

	"chancery/internal/web"
)

// apiLookupRequest is the body of POST /api/v1/population/lookups: a
// clerk's lookup of an applicant at the counter.
type apiLookupRequest struct {
	Procedure string `json:"procedure_code"`
	IDNumber  string `json:"id_number"`
	// Purpose is why: the dossier or the request at the counter. Required;
	// it goes to the audit ledger and to the database's own log.
	Purpose string `json:"purpose"`
}

// apiCounterLookup returns what the National Population Database holds
// of an applicant, keyed by the procedure's form's input names, to a
// clerk who states why.
func (h *Handler) apiCounterLookup(w http.ResponseWriter, r *http.Request) {
	var req apiLookupRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	values, err := h.svc.CounterLookup(r.Context(), web.SubjectFrom(r.Context()), req.Procedure, req.IDNumber, req.Purpose)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, map[string]map[string]string{"values": values})
}

// apiVerifyIdentity records the identity number a clerk checked against
// a citizen's identity card as the one verified on the citizen's account.
func (h *Handler) apiVerifyIdentity(w http.ResponseWriter, r *http.Request) {
	id, err := web.ParseID("id", r.PathValue("id"))
	var req struct {
		IDNumber string `json:"id_number"`
	}
	if err == nil {
		err = web.DecodeJSON(r, &req)
	}
	if err == nil {
		err = h.svc.VerifyIdentity(r.Context(), web.SubjectFrom(r.Context()), id, req.IDNumber)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
