package compliance

import (
	"embed"
	"errors"
	"net/http"

	"chancery/internal/authz"
	"chancery/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// ConsolePath is the dashboard's page.
const ConsolePath = "/console/sentinel/compliance"

// Handler serves the dashboard and its API.
type Handler struct{ web.Capability[Service] }

// NewHandler returns the handlers with their templates parsed once.
func NewHandler(shell *web.Shell, svc *Service) (*Handler, error) {
	h := &Handler{}
	if err := h.Init("compliance", shell, svc, templateFS); err != nil {
		return nil, err
	}
	return h, nil
}

// Register adds the dashboard's routes: security officers and auditors
// read it; security officers run a verification of the ledger.
func (h *Handler) Register(rt *web.Router) {
	read := web.Staff(authz.KindCompliance, authz.Read)
	verify := web.Staff(authz.KindCompliance, authz.Update)
	h.Shell.AddNav(web.Console, web.NavItem{Key: "compliance.nav", Href: ConsolePath, Access: read})
	rt.HandleFunc("GET "+ConsolePath, read, h.page)
	rt.HandleFunc("POST "+ConsolePath+"/verify", verify, h.postVerify)
	rt.HandleFunc("GET /api/v1/compliance", read, h.apiReport)
	rt.HandleFunc("POST /api/v1/compliance/verifications", verify, h.apiVerify)
}

func (h *Handler) apiReport(w http.ResponseWriter, r *http.Request) {
	rep, err := h.Svc.Report(r.Context(), web.SubjectFrom(r.Context()))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, rep)
}

// verification is what a verification the API ran found.
type verification struct {
	OK          bool   `json:"ok"`
	Size        uint64 `json:"size"`
	Checkpoints int    `json:"checkpoints"`
	Problem     string `json:"problem,omitempty"`
}

func (h *Handler) apiVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := h.Svc.Verify(r.Context(), web.SubjectFrom(r.Context()))
	v := verification{OK: err == nil, Size: rep.Size, Checkpoints: rep.Checkpoints}
	if err != nil {
		if errors.As(err, new(*authz.Refusal)) {
			web.Error(w, r, err)
			return
		}
		v.Problem = err.Error()
	}
	web.JSON(w, r, http.StatusOK, v)
}

// pageData is the dashboard as the page shows it.
type pageData struct {
	Report Report
	Failed int
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	p := h.Shell.Page(r, web.Console, "compliance.title")
	rep, err := h.Svc.Report(r.Context(), p.Principal.Subject)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	d := pageData{Report: rep}
	for _, c := range rep.Checks {
		if c.Status == Fail {
			d.Failed++
		}
	}
	h.Pages.Render(w, r, http.StatusOK, "compliance", web.View[pageData]{Page: p, Data: d})
}

func (h *Handler) postVerify(w http.ResponseWriter, r *http.Request) {
	_, err := h.Svc.Verify(r.Context(), web.SubjectFrom(r.Context()))
	var ref *authz.Refusal
	if errors.As(err, &ref) {
		web.Error(w, r, err)
		return
	}
	flash := "compliance.flash.verified"
	if err != nil {
		flash = "compliance.flash.failed"
	}
	web.RedirectWithFlash(w, r, ConsolePath+"#check-verification", flash)
}
