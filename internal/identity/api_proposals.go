package identity

import (
	"net/http"

	"chancery/internal/authz"
	"chancery/internal/web"
)

// registerProposals adds the routes of proposed grants: whoever reads the
// staff directory sees them (administrators who propose, the security
// officers who decide); approving takes a security officer, and the rest
// of the rule (clearance, no self-approval) is authz.DecideApprove's.
// Rejecting is also the proposer's withdrawal, so its route admits every
// reader and authz.DecideReject decides.
func (h *Handler) registerProposals(rt *web.Router) {
	read := web.Staff(authz.KindStaff, authz.Read)
	approve := web.Staff(authz.KindStaff, authz.Approve)
	rt.HandleFunc("GET /api/v1/user-proposals", read, h.apiListProposals)
	rt.HandleFunc("GET /api/v1/user-proposals/{id}", read, h.apiProposal)
	rt.HandleFunc("POST /api/v1/user-proposals/{id}/approve", approve, h.apiApproveProposal)
	rt.HandleFunc("POST /api/v1/user-proposals/{id}/reject", read, h.apiRejectProposal)

	rt.HandleFunc("GET /console/user-proposals", read, h.pageProposals)
	rt.HandleFunc("POST /console/user-proposals/{id}/approve", approve, h.postApproveProposal)
	rt.HandleFunc("POST /console/user-proposals/{id}/reject", read, h.postRejectProposal)
	h.shell.AddNav(web.Console, web.NavItem{Key: "nav.user_proposals", Href: "/console/user-proposals", Access: read})
}

// proposalJSON is a proposal as the API shows it, roles as lists of names.
type proposalJSON struct {
	Proposal
	Roles    []string `json:"roles"`
	OldRoles []string `json:"old_roles"`
}

func toProposalJSON(p Proposal) proposalJSON {
	return proposalJSON{Proposal: p, Roles: p.Roles.Names(), OldRoles: p.OldRoles.Names()}
}

// toProposalJSONPtr shows a proposal a change may have filed; nil for none.
func toProposalJSONPtr(p *Proposal) *proposalJSON {
	if p == nil {
		return nil
	}
	out := toProposalJSON(*p)
	return &out
}

// proposalFilterFrom reads a ProposalFilter from query parameters status
// (default pending; "all" for every status), user, after and limit.
func proposalFilterFrom(r *http.Request) (ProposalFilter, error) {
	q := r.URL.Query()
	f := ProposalFilter{Status: q.Get("status")}
	switch f.Status {
	case "":
		f.Status = ProposalPending
	case "all":
		f.Status = ""
	}
	var err error
	if f.StaffID, err = web.OptionalID("user", q.Get("user")); err != nil {
		return f, err
	}
	if f.After, err = web.OptionalID("after", q.Get("after")); err != nil {
		return f, err
	}
	f.Limit, err = web.OptionalInt("limit", q.Get("limit"))
	return f, err
}

func (h *Handler) apiListProposals(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, proposalFilterFrom, h.svc.ListProposals, toProposalJSON)
}

func (h *Handler) apiProposal(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p, err := h.svc.Proposal(r.Context(), id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, toProposalJSON(p))
}

// approvedProposal answers POST /api/v1/user-proposals/{id}/approve: the
// decided proposal and the account as it now is.
type approvedProposal struct {
	Proposal proposalJSON `json:"proposal"`
	User     userJSON     `json:"user"`
}

func (h *Handler) apiApproveProposal(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	m, p, err := h.svc.ApproveProposal(r.Context(), id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, approvedProposal{Proposal: toProposalJSON(p), User: toUserJSON(m)})
}

// rejectRequest is the optional body of POST
// /api/v1/user-proposals/{id}/reject.
type rejectRequest struct {
	Note string `json:"note"`
}

func (h *Handler) apiRejectProposal(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	var req rejectRequest
	if r.ContentLength != 0 {
		if err := web.DecodeJSON(r, &req); err != nil {
			web.Error(w, r, err)
			return
		}
	}
	p, err := h.svc.RejectProposal(r.Context(), id, req.Note)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, toProposalJSON(p))
}
