package compliance

import (
	"embed"
	"errors"
	"fmt"
	"net/http"

	"chancery/internal/authz"
	"chancery/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// ConsolePath is the dashboard's page.
const ConsolePath = "/console/sentinel/compliance"

// Handler serves the dashboard and its API.
type Handler struct {
	svc   *Service
	shell *web.Shell
	pages *web.Templates
}

// NewHandler returns the handlers with their templates parsed once.
func NewHandler(shell *web.Shell, svc *Service) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("compliance: NewHandler needs the service")
	}
	pages, err := shell.Parse(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("compliance: parse page templates: %w", err)
	}
	return &Handler{svc: svc, shell: shell, pages: pages}, nil
}

// Register adds the dashboard's routes: security officers and auditors
// read it; security officers run a verification of the ledger.
func (h *Handler) Register(rt *web.Router) {
	read := web.Staff(authz.KindCompliance, authz.Read)
	verify := web.Staff(authz.KindCompliance, authz.Update)
	h.shell.AddNav(web.Console, web.NavItem{Key: "compliance.nav", Href: ConsolePath, Access: read})
	rt.HandleFunc("GET "+ConsolePath, read, h.page)
	rt.HandleFunc("POST "+ConsolePath+"/verify", verify, h.postVerify)
	rt.HandleFunc("GET /api/v1/compliance", read, h.apiReport)
	rt.HandleFunc("POST /api/v1/compliance/verifications", verify, h.apiVerify)
}

func (h *Handler) apiReport(w http.ResponseWriter, r *http.Request) {
	rep, err := h.svc.Report(r.Context(), web.SubjectFrom(r.Context()))
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
	rep, err := h.svc.Verify(r.Context(), web.SubjectFrom(r.Context()))
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
	p := h.shell.Page(r, web.Console, "compliance.title")
	rep, err := h.svc.Report(r.Context(), p.Principal.Subject)
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
	h.pages.Render(w, r, http.StatusOK, "compliance", web.View[pageData]{Page: p, Data: d})
}

func (h *Handler) postVerify(w http.ResponseWriter, r *http.Request) {
	_, err := h.svc.Verify(r.Context(), web.SubjectFrom(r.Context()))
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
