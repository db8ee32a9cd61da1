package govsim

import (
	"embed"
	"fmt"
	"net/http"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/web"
)

//go:embed templates
var templates embed.FS

// NationalPortalPagePath is the staff console's page of the status updates the
// portal simulator received.
const NationalPortalPagePath = "/console/simulators/national-portal"

// Handler serves the staff console's page of the portal simulator. It is
// the only part of this package on Chancery's router; the simulators
// themselves stay on their own loopback listener.
type Handler struct {
	srv   *Server
	shell *web.Shell
	pages *web.Templates
}

// NewHandler parses the page's template with shell's layout, for the
// simulators srv serves. It returns an error if the template does not
// parse.
func NewHandler(srv *Server, shell *web.Shell) (*Handler, error) {
	pages, err := shell.Parse(templates, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("govsim: %w", err)
	}
	return &Handler{srv: srv, shell: shell, pages: pages}, nil
}

// Register adds the page, GET NationalPortalPagePath, to rt for staff who may
// read services. It adds no navigation item: the page is reached from the
// exchange's pages or by its address.
func (h *Handler) Register(rt *web.Router) {
	rt.HandleFunc("GET "+NationalPortalPagePath, web.Staff(authz.KindService, authz.Read), h.nationalPortalPage)
	// The population database's access log names citizens by their
	// identity numbers: it is for those who read the audit ledger.
	rt.HandleFunc("GET "+PopulationPagePath, web.Staff(authz.KindAuditEvent, authz.Read), h.populationPage)
}

// PopulationPagePath is the staff console's page of the population
// database simulator's access log: who asked for whose record, for which
// end user and why.
const PopulationPagePath = "/console/simulators/population"

// lookupRow is a lookup as the access log's table shows it.
type lookupRow struct {
	At, ISO                            string
	Client, EndUser, Purpose, IDNumber string
	Found                              bool
}

func (h *Handler) populationPage(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.Console, "govsim.population.title")
	var rows []lookupRow
	for _, l := range h.srv.PopulationLookups()[:min(len(h.srv.PopulationLookups()), pageRows)] {
		rows = append(rows, lookupRow{At: web.ShowTime(l.At), ISO: l.At.UTC().Format(time.RFC3339), Client: l.Client, EndUser: l.EndUser,
			Purpose: l.Purpose, IDNumber: l.IDNumber, Found: l.Found})
	}
	h.pages.Render(w, r, http.StatusOK, "population_lookups", web.View[[]lookupRow]{Page: p, Data: rows})
}

// pageRows is how many updates, newest first, the page shows.
const pageRows = 200

// updateRow is a status update as the page's table shows it.
type updateRow struct {
	ReceivedAt    string // in Viet Nam's time
	ReceivedISO   string // for <time datetime>
	DossierCode   string
	ProcedureCode string
	Status        int
	StatusKey     string // catalogue key of the portal's name of the status
	StatusName    string // the sender's name of it
	ChannelKey    string
	PaidKey       string
	UpdatedAt     string
	UpdatedISO    string
	AgencyCode    string
}

func newUpdateRow(u StatusUpdate) updateRow {
	paid := "govsim.paid.no"
	switch {
	case u.PaidOnline:
		paid = "govsim.paid.online"
	case u.Paid:
		paid = "govsim.paid.yes"
	}
	return updateRow{
		ReceivedAt: web.ShowTime(u.ReceivedAt), ReceivedISO: u.ReceivedAt.UTC().Format(time.RFC3339),
		DossierCode: u.DossierCode, ProcedureCode: u.ProcedureCode,
		Status: u.Status, StatusKey: fmt.Sprintf("govsim.status.%d", u.Status), StatusName: u.StatusName,
		ChannelKey: fmt.Sprintf("govsim.channel.%d", u.Channel), PaidKey: paid,
		UpdatedAt: web.ShowTime(u.UpdatedAt), UpdatedISO: u.UpdatedAt.UTC().Format(time.RFC3339),
		AgencyCode: u.AgencyCode,
	}
}

// nationalPortalPageData is the view of NationalPortalPagePath.
type nationalPortalPageData struct {
	Endpoint string // where the simulator receives updates
	// Filter is the dossier code asked for, and why it was refused.
	Filter, FilterError string
	Rows                []updateRow
	Matched             int // updates that match, of which Rows are the newest
	Held, Capacity      int
}

func (h *Handler) nationalPortalPage(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.Console, "govsim.national_portal.title")
	np := h.srv.NationalPortal()
	data := nationalPortalPageData{Endpoint: h.srv.NationalPortalURL() + "/v1/dossier-statuses", Filter: strings.TrimSpace(r.URL.Query().Get("dossier_code")),
		Held: np.Len(), Capacity: np.Capacity()}
	status := http.StatusOK
	if data.Filter != "" && !dossierCodePattern.MatchString(data.Filter) {
		data.FilterError, status = p.T("govsim.national_portal.filter.invalid"), http.StatusUnprocessableEntity
	} else {
		updates := np.Updates(data.Filter)
		data.Matched = len(updates)
		for _, u := range updates[:min(len(updates), pageRows)] {
			data.Rows = append(data.Rows, newUpdateRow(u))
		}
	}
	h.pages.Render(w, r, status, "nationalportal_updates", web.View[nationalPortalPageData]{Page: p, Data: data})
}
