package records

import (
	"net/http"

	"chancery/internal/errs"
	"chancery/internal/web"
)

// The drafting's API: the review chain's and replacement's actions (on
// POST /api/v1/documents/{id}/actions) and a document's drafting record.

// apiDraftingAct takes a drafting action of the API.
func (h *Handler) apiDraftingAct(r *http.Request, id int64, req apiActionRequest) (*Document, error) {
	ctx, sub := r.Context(), web.SubjectFrom(r.Context())
	switch req.Action {
	case "send_review":
		return h.svc.SendForReview(ctx, sub, id, req.Reviewers, req.Note)
	case "review":
		if req.Decision != "approve" && req.Decision != "return" {
			return nil, errs.Invalid("decision", "use approve or return")
		}
		return h.svc.ReviewDraft(ctx, sub, id, req.Decision == "approve", req.Reason)
	}
	return h.svc.Replace(ctx, sub, id)
}

// apiDrafting answers a document's drafting record: its versions,
// comments, review chain, distribution list and replacement links.
func (h *Handler) apiDrafting(w http.ResponseWriter, r *http.Request) {
	id, err := parseDocumentID(r.PathValue("id"))
	var d *Drafting
	if err == nil {
		d, err = h.svc.Drafting(r.Context(), web.SubjectFrom(r.Context()), id)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, d)
}
