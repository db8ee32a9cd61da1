package dlp

import (
	"encoding/json"
	"net/http"
	"strconv"

	"chancery/internal/web"
)

// pageData is the console page of held items and the policy.
type pageData struct {
	Status   string
	Statuses []web.Option
	Holds    []holdRow
	Next     int64
	Held     int
	Policy   Policy
	Rules    []ruleRow
	Versions []PolicyVersion
	// PolicyJSON is the policy's text in the edit form: the one in
	// force, or what was sent back with Problem.
	PolicyJSON string
	Problem    web.Refusal
	// Decided is the hold a decision form was sent back for.
	Decided         int64
	DecisionRefusal web.Refusal
}

// holdRow is a hold as the page shows it: what was found in words.
type holdRow struct {
	Hold
	Found []string
}

// ruleRow is a rule in words.
type ruleRow struct {
	Way, Finding, Decision string
	Cleared                []string
}

// page serves the console page: the held items (waiting first), the
// policy in force and its versions.
func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	h.draw(w, r, http.StatusOK, "", web.Refusal{}, 0, web.Refusal{})
}

func (h *Handler) draw(w http.ResponseWriter, r *http.Request, status int, policyText string, problem web.Refusal, decided int64, decision web.Refusal) {
	p := h.Shell.Page(r, web.Console, "dlp.title")
	sub := p.Principal.Subject
	f, err := filterOf(r)
	if err == nil && r.URL.Query().Get("status") == "" {
		f.Status = StatusHeld
	}
	if f.Status == "all" {
		f.Status = ""
	}
	data := pageData{Status: string(f.Status), Problem: problem, Decided: decided, DecisionRefusal: decision}
	if err == nil {
		var holds []Hold
		holds, data.Next, err = h.Svc.Holds(r.Context(), sub, f)
		for _, hd := range holds {
			row := holdRow{Hold: hd}
			for _, k := range findingNames() {
				if n, ok := hd.Findings[k]; ok {
					row.Found = append(row.Found, p.T("dlp.finding."+k)+": "+p.T("dlp.count", n))
				}
			}
			data.Holds = append(data.Holds, row)
		}
	}
	if err == nil {
		data.Held, err = h.Svc.CountHeld(r.Context(), sub)
	}
	if err == nil {
		data.Policy, err = h.Svc.Policy(r.Context(), sub)
	}
	if err == nil {
		data.Versions, err = h.Svc.PolicyVersions(r.Context(), sub)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	for _, ru := range data.Policy.Rules {
		way := p.T("dlp.way.all")
		if ru.Way != "*" {
			way = p.T("dlp.way." + ru.Way)
		}
		data.Rules = append(data.Rules, ruleRow{Way: way, Finding: p.T("dlp.finding." + ru.Finding), Decision: p.T("dlp.decision." + string(ru.Decision)), Cleared: ru.Cleared})
	}
	data.PolicyJSON = policyText
	if data.PolicyJSON == "" {
		shown := data.Policy
		shown.Version = 0
		b, _ := json.MarshalIndent(shown, "", "  ")
		data.PolicyJSON = string(b)
	}
	for _, s := range []string{"held", "approved", "rejected", "released", "all"} {
		data.Statuses = append(data.Statuses, web.Option{Value: s, Label: p.T("dlp.status." + s), Selected: s == data.Status || s == "all" && data.Status == ""})
	}
	h.Pages.Render(w, r, status, "dlp", web.View[pageData]{Page: p, Data: data})
}

func (h *Handler) explain(r *http.Request) func(error) (web.Refusal, bool) {
	l := h.Shell.Localizer(r)
	return func(err error) (web.Refusal, bool) { return web.Explain(l, "dlp.", err) }
}

// postDecision approves or rejects a held item from the page.
func (h *Handler) postDecision(w http.ResponseWriter, r *http.Request) {
	id, err := holdID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	approve := r.PostFormValue("decision") == "approve"
	if !approve && r.PostFormValue("decision") != "reject" {
		err = errs400Decision
	}
	if err == nil {
		_, err = h.Svc.Decide(r.Context(), web.SubjectFrom(r.Context()), id, approve, r.PostFormValue("note"))
	}
	if err != nil {
		web.FormError(w, r, err, h.explain(r), func(ref web.Refusal) { h.draw(w, r, ref.Status, "", web.Refusal{}, id, ref) })
		return
	}
	flash := "dlp.flash.rejected"
	if approve {
		flash = "dlp.flash.approved"
	}
	web.RedirectWithFlash(w, r, ConsolePath+"#hold-"+strconv.FormatInt(id, 10), flash)
}

// postPolicy saves a new version of the policy from the page.
func (h *Handler) postPolicy(w http.ResponseWriter, r *http.Request) {
	text := r.PostFormValue("policy")
	base, err := strconv.Atoi(r.PostFormValue("base"))
	if err != nil {
		err = errs400Base
	}
	var p Policy
	if err == nil {
		p, err = ParsePolicy([]byte(text))
	}
	if err == nil {
		_, err = h.Svc.SavePolicy(r.Context(), web.SubjectFrom(r.Context()), base, p, r.PostFormValue("note"))
	}
	if err != nil {
		web.FormError(w, r, err, h.explain(r), func(ref web.Refusal) { h.draw(w, r, ref.Status, text, ref, 0, web.Refusal{}) })
		return
	}
	web.RedirectWithFlash(w, r, ConsolePath+"#policy", "dlp.flash.saved")
}
