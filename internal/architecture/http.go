package architecture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"chancery/internal/architecture/archimate"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// Handler serves the repository's JSON API and console pages.
type Handler struct {
	svc   *Service
	shell *web.Shell
	pages *web.Templates
}

// IsImport reports whether r posts an exchange-format document to the
// import route, whose body limit is the service's MaxImportBytes rather
// than the server's general one.
func IsImport(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/api/v1/architecture/import"
}

// MaxImportBytes returns the largest document Import takes.
func (s *Service) MaxImportBytes() int64 {
	return archimate.Limits{MaxBytes: s.opts.MaxImportBytes}.Bytes()
}

// Register adds the repository's routes to rt. Reads are every staff
// member's, edits the architects' (authz's grants table); the service
// decides again on every call.
func (h *Handler) Register(rt *web.Router) {
	read := web.Staff(authz.KindArchitecture, authz.Read)
	update := web.Staff(authz.KindArchitecture, authz.Update)
	del := web.Staff(authz.KindArchitecture, authz.Delete)
	rt.HandleFunc("GET /api/v1/architecture/elements", read, h.apiElements)
	rt.HandleFunc("POST /api/v1/architecture/elements", update, h.apiSaveElement)
	rt.HandleFunc("GET /api/v1/architecture/elements/{id}", read, h.apiElement)
	rt.HandleFunc("PUT /api/v1/architecture/elements/{id}", update, h.apiSaveElement)
	rt.HandleFunc("DELETE /api/v1/architecture/elements/{id}", del, h.apiDeleteElement)
	rt.HandleFunc("POST /api/v1/architecture/relationships", update, h.apiSaveRelationship)
	rt.HandleFunc("PUT /api/v1/architecture/relationships/{id}", update, h.apiSaveRelationship)
	rt.HandleFunc("DELETE /api/v1/architecture/relationships/{id}", del, h.apiDeleteRelationship)
	rt.HandleFunc("GET /api/v1/architecture/views", read, h.apiViews)
	rt.HandleFunc("GET /api/v1/architecture/views/{id}", read, h.apiView)
	rt.HandleFunc("GET /api/v1/architecture/views/{id}/svg", read, h.viewSVG)
	rt.HandleFunc("GET /api/v1/architecture/history", read, h.apiHistory)
	rt.HandleFunc("GET /api/v1/architecture/drift", read, h.apiDrift)
	rt.HandleFunc("GET /api/v1/architecture/snapshot", read, h.apiSnapshot)
	rt.HandleFunc("POST /api/v1/architecture/import", update, h.apiImport)
	rt.HandleFunc("GET /api/v1/architecture/export", web.Staff(authz.KindArchitecture, authz.Export), h.apiExport)
	h.registerPages(rt)
	h.registerRules(rt)
	h.registerInvestments(rt)
	h.registerGenerated(rt)
	h.registerInvestmentPages(rt)
}

func (h *Handler) apiElements(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := web.OptionalInt("limit", q.Get("limit"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	els, err := h.svc.Elements(r.Context(), web.SubjectFrom(r.Context()), Query{Text: q.Get("q"), Type: q.Get("type"),
		Layer: archimate.Layer(q.Get("layer")), Origin: Origin(q.Get("origin")), Limit: limit})
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, web.NewList(els, ""))
}

// ElementView is an element with the relationships from and to it.
type ElementView struct {
	Element       Element        `json:"element"`
	Relationships []Relationship `json:"relationships"`
}

func (h *Handler) apiElement(w http.ResponseWriter, r *http.Request) {
	e, rels, err := h.svc.Element(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, ElementView{Element: e, Relationships: orEmpty(rels)})
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// pathID checks that a PUT's body names the path's item.
func pathID(r *http.Request, bodyID string) error {
	if id := r.PathValue("id"); id != "" && id != bodyID {
		return errs.Invalid("id", fmt.Sprintf("the body's id %q is not the path's %q", web.Clip(bodyID), web.Clip(id)))
	}
	return nil
}

func (h *Handler) apiSaveElement(w http.ResponseWriter, r *http.Request) {
	var e Element
	if err := web.DecodeJSON(r, &e); err != nil {
		web.Error(w, r, err)
		return
	}
	if err := pathID(r, e.ID); err != nil {
		web.Error(w, r, err)
		return
	}
	status := http.StatusOK
	if e.Version == 0 {
		status = http.StatusCreated
	}
	saved, err := h.svc.SaveElement(r.Context(), web.SubjectFrom(r.Context()), e)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, status, saved)
}

func versionParam(r *http.Request) (int64, error) {
	return web.ParseID("version", r.URL.Query().Get("version"))
}

func (h *Handler) apiDeleteElement(w http.ResponseWriter, r *http.Request) {
	v, err := versionParam(r)
	if err == nil {
		err = h.svc.DeleteElement(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("id"), v)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) apiSaveRelationship(w http.ResponseWriter, r *http.Request) {
	var rel Relationship
	if err := web.DecodeJSON(r, &rel); err != nil {
		web.Error(w, r, err)
		return
	}
	if err := pathID(r, rel.ID); err != nil {
		web.Error(w, r, err)
		return
	}
	status := http.StatusOK
	if rel.Version == 0 {
		status = http.StatusCreated
	}
	saved, err := h.svc.SaveRelationship(r.Context(), web.SubjectFrom(r.Context()), rel)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, status, saved)
}

func (h *Handler) apiDeleteRelationship(w http.ResponseWriter, r *http.Request) {
	v, err := versionParam(r)
	if err == nil {
		err = h.svc.DeleteRelationship(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("id"), v)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) apiViews(w http.ResponseWriter, r *http.Request) {
	vs, err := h.svc.Views(r.Context(), web.SubjectFrom(r.Context()))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, web.NewList(orEmpty(vs), ""))
}

func (h *Handler) apiView(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.View(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, v)
}

// viewSVG serves a view drawn as laid out, in the reader's language.
func (h *Handler) viewSVG(w http.ResponseWriter, r *http.Request) {
	svg, err := h.svc.RenderView(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("id"), string(web.LangFrom(r.Context())))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	writeSVG(w, svg)
}

// writeSVG answers with a drawn view.
func writeSVG(w http.ResponseWriter, svg []byte) {
	w.Header().Set("Content-Type", "image/svg+xml")
	// The SVG is drawn from escaped text, but it is the model's: it runs
	// nothing, whatever a name says.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Write(svg) //nolint:errcheck // the client went away
}

// RenderView returns view id drawn as SVG in lang, its names looked up in
// the current model.
func (s *Service) RenderView(ctx context.Context, sub authz.Subject, id, lang string) ([]byte, error) {
	v, err := s.View(ctx, sub, id)
	if err != nil {
		return nil, err
	}
	snap, err := s.snapshot(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	m, err := s.toExchange(ctx, snap)
	if err != nil {
		return nil, err
	}
	return archimate.RenderView(m, &v, lang), nil
}

// asOf reads the as_of parameter: a date (the end of that day, Viet Nam
// time) or an RFC 3339 time; empty is now.
func asOf(r *http.Request) (time.Time, error) {
	s := r.URL.Query().Get("as_of")
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	day, err := time.ParseInLocation(time.DateOnly, s, web.MinistryZone())
	if err != nil {
		return time.Time{}, errs.Invalid("as_of", fmt.Sprintf("%q is not a date (YYYY-MM-DD) or an RFC 3339 time", web.Clip(s)))
	}
	return day.AddDate(0, 0, 1).Add(-time.Microsecond), nil
}

func (h *Handler) apiHistory(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	before, err := web.OptionalID("before", q.Get("before"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	kind, id := q.Get("kind"), q.Get("id")
	if id != "" && kind != "element" && kind != "relationship" && kind != "view" && kind != "model" {
		web.Error(w, r, errs.Invalid("kind", "is element, relationship, view or model"))
		return
	}
	hs, err := h.svc.History(r.Context(), web.SubjectFrom(r.Context()), kind, id, before, 100)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	next := ""
	if len(hs) == 100 {
		next = strconv.FormatInt(hs[len(hs)-1].Seq, 10)
	}
	web.JSON(w, r, http.StatusOK, web.NewList(orEmpty(hs), next))
}

func (h *Handler) apiSnapshot(w http.ResponseWriter, r *http.Request) {
	at, err := asOf(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	snap, err := h.svc.Snapshot(r.Context(), web.SubjectFrom(r.Context()), at)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, struct {
		Info          ModelInfo        `json:"model"`
		Elements      []Element        `json:"elements"`
		Relationships []Relationship   `json:"relationships"`
		Views         []archimate.View `json:"views"`
	}{snap.Info, orEmpty(snap.Elements), orEmpty(snap.Relationships), orEmpty(snap.Views)})
}

func (h *Handler) apiImport(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/xml") && !strings.HasPrefix(ct, "text/xml") {
		web.Error(w, r, fmt.Errorf("%w: send the exchange-format document as application/xml, not %q", errs.ErrInvalid, web.Clip(ct)))
		return
	}
	body := &bodyReader{r: r.Body}
	res, err := h.svc.Import(r.Context(), web.SubjectFrom(r.Context()), body)
	var mbe *http.MaxBytesError
	if errors.As(body.err, &mbe) {
		// The server's body limit cut the document: the decoder saw a
		// read error, the caller needs to know it was the size.
		err = fmt.Errorf("%w: the document is over the limit of %d bytes", errs.ErrTooLarge, mbe.Limit)
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, res)
}

func (h *Handler) apiExport(w http.ResponseWriter, r *http.Request) {
	at, err := asOf(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	m, err := h.svc.Export(r.Context(), web.SubjectFrom(r.Context()), at)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	switch r.URL.Query().Get("generated") {
	case "":
	case "layers":
		addLayerViews(m)
	default:
		web.Error(w, r, errs.Invalid("generated", "is layers or absent"))
		return
	}
	var b bytes.Buffer
	if err := archimate.Encode(&b, m); err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="architecture.xml"`)
	w.Write(b.Bytes()) //nolint:errcheck // the client went away
}

// bodyReader remembers the error reading a request body ended with.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

func (h *Handler) apiDrift(w http.ResponseWriter, r *http.Request) {
	ds, err := h.svc.Drift(r.Context(), web.SubjectFrom(r.Context()))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, web.NewList(orEmpty(ds), ""))
}
