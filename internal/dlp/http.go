package dlp

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// ConsolePath is the console page of held items and the policy.
const ConsolePath = "/console/sentinel/dlp"

// Handler serves DLP's console page and JSON API.
type Handler struct{ web.Capability[Service] }

// NewHandler returns the handlers with their templates parsed once; a
// broken template fails here, at start.
func NewHandler(shell *web.Shell, svc *Service) (*Handler, error) {
	h := &Handler{}
	if err := h.Init("dlp", shell, svc, templateFS); err != nil {
		return nil, err
	}
	return h, nil
}

// Register adds DLP's routes to rt, each stating who may reach it:
// security officers decide on held items and keep the policy, auditors
// read both.
func (h *Handler) Register(rt *web.Router) {
	read := web.Staff(authz.KindHeldItem, authz.Read)
	decide := web.Staff(authz.KindHeldItem, authz.Approve)
	readPolicy := web.Staff(authz.KindDLPPolicy, authz.Read)
	savePolicy := web.Staff(authz.KindDLPPolicy, authz.Update)
	h.Shell.AddNav(web.Console, web.NavItem{Key: "dlp.nav", Href: ConsolePath, Access: read})
	rt.HandleFunc("GET "+ConsolePath, read, h.page)
	rt.HandleFunc("POST "+ConsolePath+"/holds/{id}", decide, h.postDecision)
	rt.HandleFunc("POST "+ConsolePath+"/policy", savePolicy, h.postPolicy)

	rt.HandleFunc("GET /api/v1/dlp/holds", read, h.apiHolds)
	rt.HandleFunc("GET /api/v1/dlp/holds/{id}", read, h.apiHold)
	rt.HandleFunc("POST /api/v1/dlp/holds/{id}/approve", decide, h.apiDecide(true))
	rt.HandleFunc("POST /api/v1/dlp/holds/{id}/reject", decide, h.apiDecide(false))
	rt.HandleFunc("GET /api/v1/dlp/policy", readPolicy, h.apiPolicy)
	rt.HandleFunc("PUT /api/v1/dlp/policy", savePolicy, h.apiSavePolicy)
	rt.HandleFunc("GET /api/v1/dlp/policy/versions", readPolicy, h.apiVersions)
}

func holdID(r *http.Request) (int64, error) { return web.ParseID("id", r.PathValue("id")) }

// filterOf reads a list of holds' filter: status, after, limit.
func filterOf(r *http.Request) (HoldFilter, error) {
	q := r.URL.Query()
	f := HoldFilter{Status: Status(q.Get("status"))}
	if s := q.Get("after"); s != "" {
		n, err := web.ParseID("after", s)
		if err != nil {
			return f, err
		}
		f.After = n
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return f, errs.Invalid("limit", fmt.Sprintf("must be a number from 1 to %d", MaxLimit))
		}
		f.Limit = n
	}
	return f, nil
}

func (h *Handler) apiHolds(w http.ResponseWriter, r *http.Request) {
	f, err := filterOf(r)
	var holds []Hold
	var next int64
	if err == nil {
		holds, next, err = h.Svc.Holds(r.Context(), web.SubjectFrom(r.Context()), f)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	cursor := ""
	if next != 0 {
		cursor = strconv.FormatInt(next, 10)
	}
	web.JSON(w, r, http.StatusOK, web.NewList(holds, cursor))
}

func (h *Handler) apiHold(w http.ResponseWriter, r *http.Request) {
	id, err := holdID(r)
	var hold Hold
	if err == nil {
		hold, err = h.Svc.Hold(r.Context(), web.SubjectFrom(r.Context()), id)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, hold)
}

// decisionRequest is the body of an approval or a rejection.
type decisionRequest struct {
	Note string `json:"note"`
}

func (h *Handler) apiDecide(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := holdID(r)
		var req decisionRequest
		if err == nil {
			err = web.DecodeJSON(r, &req)
		}
		var hold Hold
		if err == nil {
			hold, err = h.Svc.Decide(r.Context(), web.SubjectFrom(r.Context()), id, approve, req.Note)
		}
		if err != nil {
			web.Error(w, r, err)
			return
		}
		web.JSON(w, r, http.StatusOK, hold)
	}
}

func (h *Handler) apiPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := h.Svc.Policy(r.Context(), web.SubjectFrom(r.Context()))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, p)
}

// savePolicyRequest is a new version of the policy, based on the version
// its author read.
type savePolicyRequest struct {
	Base   int             `json:"base"`
	Policy json.RawMessage `json:"policy"`
	Note   string          `json:"note"`
}

func (h *Handler) apiSavePolicy(w http.ResponseWriter, r *http.Request) {
	var req savePolicyRequest
	err := web.DecodeJSON(r, &req)
	var p Policy
	if err == nil {
		p, err = ParsePolicy(req.Policy)
	}
	if err == nil {
		p, err = h.Svc.SavePolicy(r.Context(), web.SubjectFrom(r.Context()), req.Base, p, req.Note)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, p)
}

func (h *Handler) apiVersions(w http.ResponseWriter, r *http.Request) {
	vs, err := h.Svc.PolicyVersions(r.Context(), web.SubjectFrom(r.Context()))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, web.NewList(vs, ""))
}

// The refusals of a page's form values that the service never sees.
var (
	errs400Decision = errs.Invalid("decision", "choose approve or reject")
	errs400Base     = errs.Invalid("base", "the form lacks the policy's version it was opened at; reload the page and try again")
)
