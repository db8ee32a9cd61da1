package procedures

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"chancery/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// HandlerOptions configure the procedures' handlers.
type HandlerOptions struct {
	// Service is the procedure resolution system. Required.
	Service *Service
	// Checkout starts the payment of an order at the payment gateway and
	// returns the address of the gateway's checkout page, to which the
	// citizen's browser goes; returnURL is where the gateway sends the
	// browser back. If nil, online payment is unavailable: applications
	// with a fee cannot be submitted online, and a fee the unit requests is
	// paid at its counter.
	Checkout func(ctx context.Context, o PaymentOrder, returnURL string) (string, error)
	// PaymentSecret is the key the payment gateway signs its callbacks
	// with. If empty, callbacks are refused.
	PaymentSecret []byte
	// Staff names staff members and lists a unit's, for assignment.
	Staff StaffDirectory
}

// PaymentOrder is a fee to collect through the payment gateway: an
// application's, under its draft id, or one a unit requested of a dossier
// (status 6), under the dossier's code. RecordPayment takes the gateway's
// report of either.
type PaymentOrder struct {
	ID          string
	Amount      int64
	Currency    string
	Description string
}

// StaffDirectory is what the pages need of the directory's staff.
type StaffDirectory interface {
	// StaffName returns a staff member's full name.
	StaffName(ctx context.Context, id int64) (string, error)
	// Assignable lists the active officers and approvers of a unit, by
	// name: who a dossier may be assigned to.
	Assignable(ctx context.Context, unitID int64) ([]StaffChoice, error)
}

// StaffChoice is a staff member a dossier may be assigned to.
type StaffChoice struct {
	ID   int64
	Name string
}

// Handler serves the procedures' public site's pages, console pages and
// JSON API.
type Handler struct {
	opts  HandlerOptions
	svc   *Service
	shell *web.Shell
	pages *web.Templates
	track *keyedLimiter // public tracking's attempts, per client address
}

// NewHandler returns the handlers, with the page templates parsed once; a
// broken template fails here, at start.
func NewHandler(shell *web.Shell, opts HandlerOptions) (*Handler, error) {
	if opts.Service == nil {
		return nil, errors.New("procedures: HandlerOptions.Service is required")
	}
	pages, err := shell.Parse(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("procedures: parse page templates: %w", err)
	}
	return &Handler{opts: opts, svc: opts.Service, shell: shell, pages: pages,
		track: newKeyedLimiter(opts.Service.db, "track:", trackEvery, trackBurst)}, nil
}

// Register adds the procedures' routes to rt: the public site's pages for
// citizens, the console's for staff, and the API.
func (h *Handler) Register(rt *web.Router) {
	h.registerPublic(rt)
	h.registerConsole(rt)
	h.registerAPI(rt)
}

// IsUpload reports whether r posts attachments to one of the procedures'
// routes that take them (a multipart body), so the server's general body
// limit, sized for forms and JSON, gives way to MaxSubmissionBytes.
func IsUpload(r *http.Request) bool {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return false
	}
	for _, prefix := range []string{"/applications/", "/my/dossiers/", "/console/dossiers", "/api/v1/dossiers", "/api/v1/drafts/"} {
		if strings.HasPrefix(r.URL.Path, prefix) {
			return true
		}
	}
	return false
}
