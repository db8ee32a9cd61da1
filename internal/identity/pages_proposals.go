package identity

import (
	"net/http"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/web"
)

// proposalRow is a proposed grant as the console shows it.
type proposalRow struct {
	ID           int64
	StaffID      int64
	Username     string
	From, To     string // roles and clearance, before and as proposed
	Proposer     string
	ProposedAt   time.Time
	Status       string
	StatusLabel  string
	Decider      string
	Note         string
	Stale        bool
	Pending      bool
	CanApprove   bool
	CannotReason string // why the viewer may not approve, in the page's language
	CanReject    bool
}

// accessLabel writes roles and a clearance in the page's language.
func accessLabel(p web.Page, roles authz.Roles, l authz.Level) string {
	names := []string{}
	for _, role := range roles.List() {
		names = append(names, p.T("identity.role."+role.String()))
	}
	label := p.T("identity.level."+l.String()) + " — "
	if len(names) == 0 {
		return label + p.T("identity.proposal.no_roles")
	}
	return label + strings.Join(names, ", ")
}

// cannotApproveKeys name the catalogue text of the reasons a viewer may
// not approve a proposal.
var cannotApproveKeys = map[authz.Reason]string{
	authz.ReasonOwnProposal:       "identity.proposal.cannot.own_proposal",
	authz.ReasonOwnAccount:        "identity.proposal.cannot.own_account",
	authz.ReasonApproverClearance: "identity.proposal.cannot.clearance",
	authz.ReasonNoRole:            "identity.proposal.cannot.role",
}

func newProposalRow(p web.Page, x Proposal) proposalRow {
	row := proposalRow{ID: x.ID, StaffID: x.StaffID, Username: x.Username, From: accessLabel(p, x.OldRoles, x.OldClearance),
		To: accessLabel(p, x.Roles, x.Clearance), Proposer: x.Proposer, ProposedAt: x.ProposedAt, Status: x.Status,
		StatusLabel: p.T("identity.proposal.status." + x.Status), Decider: x.Decider, Note: x.Note, Stale: x.Stale,
		Pending: x.Status == ProposalPending}
	if !row.Pending {
		return row
	}
	// What the viewer's session may do decides only which buttons show;
	// the service decides again on the account as stored.
	s := p.Principal.Subject
	d, why := authz.DecideApprove(s, x.ProposedBy, x.Change())
	row.CanApprove = d == authz.Allowed && !x.Stale
	if d != authz.Allowed {
		if key, ok := cannotApproveKeys[why]; ok {
			row.CannotReason = p.T(key)
		}
	}
	d, _ = authz.DecideReject(s, x.ProposedBy)
	row.CanReject = d == authz.Allowed
	return row
}

// newProposalRowPtr is the row of a proposal a change may have filed.
func newProposalRowPtr(p web.Page, x *proposalJSON) *proposalRow {
	if x == nil {
		return nil
	}
	row := newProposalRow(p, x.Proposal)
	return &row
}

// proposalListData is the view of /console/user-proposals.
type proposalListData struct {
	Status  string // the status shown; empty for all
	Problem web.Refusal
	Rows    []proposalRow
	Pager   web.Pager
}

func (h *Handler) pageProposals(w http.ResponseWriter, r *http.Request) {
	h.showProposals(w, r, http.StatusOK, web.Refusal{})
}

// showProposals draws the list of proposals; prob, when given, is a
// refused decision to show above it.
func (h *Handler) showProposals(w http.ResponseWriter, r *http.Request, status int, prob web.Refusal) {
	p := h.shell.Page(r, web.Console, "identity.proposals.title")
	data := proposalListData{Problem: prob}
	f, err := proposalFilterFrom(r)
	var ps []Proposal
	var next int64
	if err == nil {
		ps, next, err = h.svc.ListProposals(r.Context(), f)
	}
	if err != nil {
		ref, ok := explain(p, err)
		if !ok {
			web.Error(w, r, err)
			return
		}
		data.Problem, status = ref, ref.Status
	}
	data.Status = f.Status
	for _, x := range ps {
		data.Rows = append(data.Rows, newProposalRow(p, x))
	}
	data.Pager = web.NewPager(p, r, web.NextID(next), len(data.Rows), web.PagerOffset(r))
	h.pages.Render(w, r, status, "user_proposals", web.View[proposalListData]{Page: p, Data: data})
}

func (h *Handler) postApproveProposal(w http.ResponseWriter, r *http.Request) {
	h.decideProposal(w, r, "identity.flash.proposal_approved", func(id int64) error {
		_, _, err := h.svc.ApproveProposal(r.Context(), id)
		return err
	})
}

func (h *Handler) postRejectProposal(w http.ResponseWriter, r *http.Request) {
	h.decideProposal(w, r, "identity.flash.proposal_rejected", func(id int64) error {
		_, err := h.svc.RejectProposal(r.Context(), id, r.PostFormValue("note"))
		return err
	})
}

// decideProposal serves the approve and reject forms: the list again
// with the refusal shown, or a redirect to it with flashKey.
func (h *Handler) decideProposal(w http.ResponseWriter, r *http.Request, flashKey string, decide func(id int64) error) {
	id, err := pathID(r)
	if err == nil {
		err = parseForm(r)
	}
	if err == nil {
		err = decide(id)
	}
	if err != nil {
		p := h.shell.Page(r, web.Console, "identity.proposals.title")
		formError(w, r, p, err, func(prob web.Refusal) { h.showProposals(w, r, prob.Status, prob) })
		return
	}
	// No #fragment: the flash parameter goes after the target, and would
	// land inside it.
	web.RedirectWithFlash(w, r, "/console/user-proposals", flashKey)
}
