package architecture

import (
	"net/http"

	"chancery/internal/authz"
	"chancery/internal/web"
)

func (h *Handler) registerInvestments(rt *web.Router) {
	rt.HandleFunc("GET /api/v1/architecture/proposals", web.Staff(authz.KindInvestment, authz.Read), h.apiProposals)
	rt.HandleFunc("POST /api/v1/architecture/proposals", web.Staff(authz.KindInvestment, authz.Create), h.apiPropose)
	rt.HandleFunc("GET /api/v1/architecture/proposals/{id}", web.Staff(authz.KindInvestment, authz.Read), h.apiReview)
	rt.HandleFunc("POST /api/v1/architecture/proposals/{id}/decision", web.Staff(authz.KindInvestment, authz.Approve), h.apiDecide)
}

func (h *Handler) apiProposals(w http.ResponseWriter, r *http.Request) {
	ps, err := h.svc.Proposals(r.Context(), web.SubjectFrom(r.Context()))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, web.NewList(orEmpty(ps), ""))
}

func (h *Handler) apiPropose(w http.ResponseWriter, r *http.Request) {
	var p Proposal
	if err := web.DecodeJSON(r, &p); err != nil {
		web.Error(w, r, err)
		return
	}
	p, err := h.svc.Propose(r.Context(), web.SubjectFrom(r.Context()), p)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusCreated, p)
}

func (h *Handler) apiReview(w http.ResponseWriter, r *http.Request) {
	rv, err := h.svc.Review(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, rv)
}

// Decision is an approver's decision on a proposal.
type Decision struct {
	Approve bool   `json:"approve"`
	Reasons string `json:"reasons"`
}

func (h *Handler) apiDecide(w http.ResponseWriter, r *http.Request) {
	var d Decision
	if err := web.DecodeJSON(r, &d); err != nil {
		web.Error(w, r, err)
		return
	}
	p, err := h.svc.DecideProposal(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("id"), d.Approve, d.Reasons)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, p)
}
