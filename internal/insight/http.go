package insight

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"chancery/internal/authz"
	"chancery/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Handler serves insight's console pages and JSON API.
type Handler struct {
	svc   *Service
	shell *web.Shell
	pages *web.Templates
}

// NewHandler returns the handlers with their templates parsed once; a
// broken template fails here, at start.
func NewHandler(shell *web.Shell, svc *Service) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("insight: NewHandler needs the service")
	}
	pages, err := shell.Parse(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("insight: parse page templates: %w", err)
	}
	return &Handler{svc: svc, shell: shell, pages: pages}, nil
}

// Register adds insight's routes to rt, each stating who may reach it;
// the service asks authz about the item itself (another unit's task or
// round answers 404).
func (h *Handler) Register(rt *web.Router) {
	readTask := web.Staff(authz.KindTask, authz.Read)
	assign := web.Staff(authz.KindTask, authz.Create)
	report := web.Staff(authz.KindTask, authz.Update)
	readReport := web.Staff(authz.KindReport, authz.Read)
	createReport := web.Staff(authz.KindReport, authz.Create)
	fill := web.Staff(authz.KindReport, authz.Update)
	approve := web.Staff(authz.KindReport, authz.Approve)
	export := web.Staff(authz.KindReport, authz.Export)
	h.shell.AddNav(web.Console, web.NavItem{Key: "insight.nav.tasks", Href: "/console/insight/tasks", Access: readTask})
	h.shell.AddNav(web.Console, web.NavItem{Key: "insight.nav.reports", Href: "/console/insight/reports", Access: readReport})

	rt.HandleFunc("GET /console/insight/tasks", readTask, h.pageTasks)
	rt.HandleFunc("GET /console/insight/tasks/new", assign, h.pageNewTask)
	rt.HandleFunc("POST /console/insight/tasks/new", assign, h.postNewTask)
	rt.HandleFunc("GET /console/insight/tasks/{id}", readTask, h.pageTask)
	rt.HandleFunc("POST /console/insight/tasks/{id}/reports", report, h.postReport)
	rt.HandleFunc("GET /console/insight/tasks/{id}/files/{update}", readTask, h.taskFile)
	rt.HandleFunc("GET /console/insight/reports", readReport, h.pageReports)
	rt.HandleFunc("GET /console/insight/reports/templates/new", createReport, h.pageNewTemplate)
	rt.HandleFunc("POST /console/insight/reports/templates/new", createReport, h.postNewTemplate)
	rt.HandleFunc("GET /console/insight/reports/rounds/new", createReport, h.pageNewRound)
	rt.HandleFunc("POST /console/insight/reports/rounds/new", createReport, h.postNewRound)
	rt.HandleFunc("GET /console/insight/reports/rounds/{id}", readReport, h.pageRound)
	rt.HandleFunc("POST /console/insight/reports/rounds/{id}/submit", fill, h.postSubmit)
	rt.HandleFunc("POST /console/insight/reports/rounds/{id}/submissions/{sid}", approve, h.postDecision)
	rt.HandleFunc("GET /console/insight/reports/rounds/{id}/export.xlsx", export, h.exportXLSX)
	rt.HandleFunc("GET /console/insight/reports/rounds/{id}/export.csv", export, h.exportCSV)

	rt.HandleFunc("GET /api/v1/insight/tasks", readTask, h.apiTasks)
	rt.HandleFunc("POST /api/v1/insight/tasks", assign, h.apiAssign)
	rt.HandleFunc("GET /api/v1/insight/tasks/{id}", readTask, h.apiTask)
	rt.HandleFunc("POST /api/v1/insight/tasks/{id}/reports", report, h.apiReport)
	rt.HandleFunc("GET /api/v1/insight/units", readTask, h.apiTally)
	rt.HandleFunc("GET /api/v1/insight/templates", readReport, h.apiTemplates)
	rt.HandleFunc("POST /api/v1/insight/templates", createReport, h.apiCreateTemplate)
	rt.HandleFunc("GET /api/v1/insight/rounds", readReport, h.apiRounds)
	rt.HandleFunc("POST /api/v1/insight/rounds", createReport, h.apiOpenRound)
	rt.HandleFunc("GET /api/v1/insight/rounds/{id}", readReport, h.apiRound)
	rt.HandleFunc("POST /api/v1/insight/rounds/{id}/submissions", fill, h.apiSubmit)
	rt.HandleFunc("POST /api/v1/insight/rounds/{id}/submissions/{sid}/decision", approve, h.apiDecide)
	rt.HandleFunc("GET /api/v1/insight/rounds/{id}/aggregate", export, h.apiAggregate)
	rt.HandleFunc("GET /api/v1/insight/rounds/{id}/export.xlsx", export, h.exportXLSX)
	rt.HandleFunc("GET /api/v1/insight/rounds/{id}/export.csv", export, h.exportCSV)
}

func pathID(r *http.Request, name string) (int64, error) { return web.ParseID(name, r.PathValue(name)) }

// export writes a round's export, built whole before anything is sent
// so that a refusal is still an error answer.
func (h *Handler) export(w http.ResponseWriter, r *http.Request, ext, mediaType string,
	write func(*Service, *http.Request, int64, string, *bytes.Buffer) error) {
	id, err := pathID(r, "id")
	var b bytes.Buffer
	if err == nil {
		lang := r.URL.Query().Get("lang")
		if lang != "en" {
			lang = "vi"
		}
		err = write(h.svc, r, id, lang, &b)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.Attachment(w, "report-round-"+strconv.FormatInt(id, 10)+"."+ext, mediaType, b.Bytes())
}

func (h *Handler) exportXLSX(w http.ResponseWriter, r *http.Request) {
	h.export(w, r, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		func(s *Service, r *http.Request, id int64, lang string, b *bytes.Buffer) error {
			return s.ExportXLSX(r.Context(), web.SubjectFrom(r.Context()), id, lang, b)
		})
}

func (h *Handler) exportCSV(w http.ResponseWriter, r *http.Request) {
	h.export(w, r, "csv", "text/csv; charset=utf-8", func(s *Service, r *http.Request, id int64, lang string, b *bytes.Buffer) error {
		b.WriteString("\ufeff") // so that Excel reads the CSV as UTF-8
		return s.ExportCSV(r.Context(), web.SubjectFrom(r.Context()), id, lang, b)
	})
}
