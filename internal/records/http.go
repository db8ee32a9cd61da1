package records

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net/http"

	"chancery/internal/authz"
	"chancery/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// HandlerOptions configure the records' handlers.
type HandlerOptions struct {
	// Service is the records system. Required.
	Service *Service
	// MaxUpload is the largest document file the pages and the API
	// accept, in bytes; 0 or more than UploadLimit means UploadLimit.
	MaxUpload int64
	// Download and Export check each file sent for download (a
	// document's, an attachment's, a version's, a copy's) and each case
	// file's export before it leaves (data-loss prevention,
	// internal/dlp); nil checks nothing.
	Download, Export Egress
}

// Egress checks what leaves through a way out: data, a file named name
// of media type mediaType classified at level, going to to. It returns
// nil if it may go, else the refusal to answer with (an item held for a
// security officer's approval, or blocked).
type Egress interface {
	Check(ctx context.Context, to string, level authz.Level, name, mediaType string, data []byte) error
}

// attachment sends data as a file to download once gate (if any) lets it
// leave.
func (h *Handler) attachment(w http.ResponseWriter, r *http.Request, gate Egress, name, mediaType string, data []byte) {
	if gate != nil {
		if err := gate.Check(r.Context(), "", authz.Unclassified, name, mediaType, data); err != nil {
			web.Error(w, r, err)
			return
		}
	}
	web.Attachment(w, name, mediaType, data)
}

// Handler serves the records' console pages and JSON API.
type Handler struct {
	opts  HandlerOptions
	svc   *Service
	shell *web.Shell
	pages *web.Templates
}

// NewHandler returns the records' handlers, with the page templates
// parsed once; a broken template fails here, at start.
func NewHandler(shell *web.Shell, opts HandlerOptions) (*Handler, error) {
	if opts.Service == nil {
		return nil, errors.New("records: HandlerOptions.Service is required")
	}
	pages, err := shell.Parse(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("records: parse page templates: %w", err)
	}
	return &Handler{opts: opts, svc: opts.Service, shell: shell, pages: pages}, nil
}

// Register adds the records' routes to rt: the JSON API, then the
// console's pages.
func (h *Handler) Register(rt *web.Router) {
	h.registerAPI(rt)
	h.registerArchive(rt)
	h.registerEdXML(rt)
	h.registerPages(rt)
	h.registerSuggest(rt)
	h.registerOutgoing(rt)
}

// maxUpload is the largest document file accepted (HandlerOptions).
func (h *Handler) maxUpload() int64 {
	if h.opts.MaxUpload <= 0 || h.opts.MaxUpload > UploadLimit {
		return UploadLimit
	}
	return h.opts.MaxUpload
}

// registerAPI adds the JSON API's routes. Each line says who may reach
// the route; the service decides on the document itself (clearance,
// need-to-know, the capacity of each action), so a route open to every
// signed-in member of staff still shows each only what they may know.
func (h *Handler) registerAPI(rt *web.Router) {
	// Registering an incoming document or starting a draft: staff whose
	// roles create documents (the records office, officers).
	rt.HandleFunc("POST /api/v1/documents", web.Staff(authz.KindDocument, authz.Create), h.apiCreate)
	rt.HandleFunc("GET /api/v1/documents", web.Staff(authz.KindDocument, authz.Read), h.apiSearch)
	rt.HandleFunc("GET /api/v1/documents/{id}", web.Staff(authz.KindDocument, authz.Read), h.apiDocument)
	rt.HandleFunc("GET /api/v1/documents/{id}/content", web.Staff(authz.KindDocument, authz.Read), h.apiContent)
	rt.HandleFunc("GET /api/v1/documents/{id}/attachments/{seq}", web.Staff(authz.KindDocument, authz.Read), h.sendAttachment)
	// Actions are taken in many capacities (a leader's approval, the
	// records office's issuance, a security officer's declassification):
	// the service asks authz for each one's.
	rt.HandleFunc("POST /api/v1/documents/{id}/actions", web.SignedIn, h.apiAct)
	// Checking a signature the caller holds reveals nothing stored.
	rt.HandleFunc("POST /api/v1/documents/signatures/verify", web.Staff(authz.KindDocument, authz.Read), h.apiVerify)

	// The registers are the records office's; case files are kept by
	// a unit's clerks and officers (and archivists read them).
	rt.HandleFunc("GET /api/v1/registers/{direction}", web.Staff(authz.KindRegister, authz.Read), h.apiRegister)
	rt.HandleFunc("POST /api/v1/case-files", web.Staff(authz.KindCaseFile, authz.Create), h.apiCreateCaseFile)
	rt.HandleFunc("GET /api/v1/case-files/{id}", web.Staff(authz.KindCaseFile, authz.Read), h.apiCaseFile)
	rt.HandleFunc("POST /api/v1/case-files/{id}/close", web.Staff(authz.KindCaseFile, authz.Update), h.apiCloseCaseFile)
}
