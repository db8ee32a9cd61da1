package procedures

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/identity"
	"chancery/internal/web"
)

// registerPublic adds the citizen's pages: the catalogue and each
// procedure's page (public), the application from form to receipt and the
// citizen's own dossiers (signed-in citizens), and tracking by code
// (public).
func (h *Handler) registerPublic(rt *web.Router) {
	h.shell.AddNav(web.PublicSite, web.NavItem{Key: "procedures.public.nav", Href: "/services", Access: web.Public})
	h.shell.AddNav(web.PublicSite, web.NavItem{Key: "procedures.public.nav_mine", Href: "/my/dossiers", Access: web.CitizenOnly})

	// The catalogue is the home page's "online services": /services and
	// /services/{code}. Its first address, /procedures, and the home
	// page's old tracking tile, /services/track, lead there still.
	rt.HandleFunc("GET /services", web.Public, h.pageCatalogue)
	rt.HandleFunc("GET /services/{code}", web.Public, h.pageProcedure)
	rt.HandleFunc("GET /services/track", web.Public, publicMoved("/track"))
	rt.HandleFunc("GET /procedures", web.Public, publicMoved("/services"))
	rt.HandleFunc("GET /procedures/{code}", web.Public, func(w http.ResponseWriter, r *http.Request) {
		publicMoved("/services/"+url.PathEscape(r.PathValue("code")))(w, r)
	})
	rt.HandleFunc("GET /procedures/{code}/apply", web.CitizenOnly, h.pageApply)
	rt.HandleFunc("POST /procedures/{code}/apply", web.CitizenOnly, h.postApply)

	rt.HandleFunc("GET /applications/{id}", web.CitizenOnly, h.pageDraft)
	rt.HandleFunc("POST /applications/{id}/attachments", web.CitizenOnly, h.postDraftAttachment)
	rt.HandleFunc("GET /applications/{id}/attachments/{att}", web.CitizenOnly, h.getDraftAttachment)
	rt.HandleFunc("POST /applications/{id}/attachments/{att}/remove", web.CitizenOnly, h.postRemoveDraftAttachment)
	rt.HandleFunc("GET /applications/{id}/pay", web.CitizenOnly, h.getPay)
	rt.HandleFunc("GET /my/dossiers/{code}/pay", web.CitizenOnly, h.getPayDossier)
	rt.HandleFunc("POST /my/dossiers/{code}/supplement", web.CitizenOnly, h.postSupplement)
	rt.HandleFunc("POST /applications/{id}/submit", web.CitizenOnly, h.postSubmitDraft)

	// The receipt is the applicant's and the unit's staff's: the service
	// decides, so the route takes either kind of account.
	rt.HandleFunc("GET /dossiers/{code}/receipt", web.Public, h.pageReceipt)
	rt.HandleFunc("GET /track", web.Public, h.pageTrack)
	rt.HandleFunc("POST /track", web.Public, h.postTrack)

	rt.HandleFunc("GET /my/dossiers", web.CitizenOnly, h.pageMyDossiers)
	rt.HandleFunc("GET /my/dossiers/{code}", web.CitizenOnly, h.pageMyDossier)
	rt.HandleFunc("GET /my/dossiers/{code}/attachments/{id}", web.CitizenOnly, h.getDossierAttachment)
	rt.HandleFunc("GET /my/dossiers/{code}/result", web.CitizenOnly, h.getResult)
	rt.HandleFunc("GET /my/dossiers/{code}/result.pdf", web.CitizenOnly, h.getResultPDF)
	// A printed result's QR code leads here; the token (verify.go) is
	// what keeps strangers from walking the sequential codes.
	rt.HandleFunc("GET /verify/{code}/{token}", web.Public, h.pageVerify)
	rt.HandleFunc("POST /my/dossiers/{code}/actions", web.CitizenOnly, h.postDossierAction)
	rt.HandleFunc("POST /my/dossiers/{code}/rating", web.CitizenOnly, h.postRating)
}

// publicMoved answers an old address with a permanent redirect to to,
// keeping the query (a bookmarked search still searches).
func publicMoved(to string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		target := to
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
	}
}

// The helpers pick, formatAmount, when, zoned, zoneOf, formValues and
// uploadStatus serve the console's pages too, so that both surfaces show
// names, fees and times alike.

// pick returns the text of a bilingual pair in the page's language.
func pick(lang i18n.Lang, vi, en string) string {
	if lang == i18n.EN && en != "" {
		return en
	}
	return vi
}

// publicUnitName returns a directory unit's name in lang.
func publicUnitName(lang i18n.Lang, u identity.Unit) string {
	return pick(lang, u.NameVI, u.NameEN)
}

// formatAmount writes a fee as people read it: thousands grouped as the
// page's language groups them, then the currency; a zero fee is "free".
func formatAmount(tr i18n.Localizer, amount int64, currency string) string {
	if amount == 0 {
		return tr.T("procedures.public.fee_free")
	}
	return tr.Lang.FormatNumber(float64(amount), 0) + " " + currency
}

// when is a moment as a page shows it: the text, and the machine-readable
// value of a <time> element.
type when struct {
	Text string
	ISO  string
}

// zoned is how the public site shows a dossier's times: in the zone of the unit
// resolving it, whose working days they are counted on, written as the
// reader's language writes dates.
type zoned struct {
	cal  WorkCalendar
	lang i18n.Lang
}

// zoneOf returns the time display of a unit, in the language of ctx's
// request.
func (h *Handler) zoneOf(ctx context.Context, unitID int64) (zoned, error) {
	cal, err := h.svc.Calendar(ctx, unitID)
	if err != nil {
		return zoned{}, fmt.Errorf("procedures: the calendar of unit %d: %w", unitID, err)
	}
	return zoned{cal: cal, lang: web.LangFrom(ctx)}, nil
}

// at shows an instant with its time of day and the zone's offset from
// GMT, as people read clocks ("GMT+7"), never the zone database's name.
func (z zoned) at(t time.Time) when {
	if t.IsZero() {
		return when{}
	}
	lt := t.In(z.cal.Location())
	return when{Text: z.lang.FormatDateTime(lt) + " (" + gmtOffset(lt) + ")", ISO: lt.Format(time.RFC3339)}
}

// gmtOffset names t's zone by its offset: "GMT+7", "GMT-3:30", "GMT".
func gmtOffset(t time.Time) string {
	_, secs := t.Zone()
	if secs == 0 {
		return "GMT"
	}
	sign := "+"
	if secs < 0 {
		sign, secs = "-", -secs
	}
	s := "GMT" + sign + strconv.Itoa(secs/3600)
	if m := secs % 3600 / 60; m != 0 {
		s += fmt.Sprintf(":%02d", m)
	}
	return s
}

// day shows the civil date of an instant in the zone: what an
// appointment promises.
func (z zoned) day(t time.Time) when {
	if t.IsZero() {
		return when{}
	}
	d := z.cal.Date(t)
	return when{Text: z.lang.FormatDate(time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)), ISO: d.String()}
}

// publicBasisView is a Basis as a page shows it: its source in the
// page's language and, to the catalogue's administrators only, the
// assumption marked with the catalogue's words for it (Assumed) and its
// note. Citizens never see what is left to check.
type publicBasisView struct {
	Source  string
	Assumed string
	Note    string
}

// publicNotes is how a page shows the catalogue's bases: in its language,
// with the administrators' notes or without.
type publicNotes struct {
	tr i18n.Localizer
	// admin reports whether the reader administers the catalogue
	// (authz: reading the node's settings), who sees its notes.
	admin bool
}

// catalogueNotes returns how r's reader sees the catalogue's bases.
func (h *Handler) catalogueNotes(r *http.Request, tr i18n.Localizer) publicNotes {
	dec, _ := authz.Decide(web.SubjectFrom(r.Context()), authz.Read, authz.Resource{Kind: authz.KindSystem})
	return publicNotes{tr: tr, admin: dec == authz.Allowed}
}

func (n publicNotes) basis(b Basis) publicBasisView {
	v := publicBasisView{Source: b.SourceVI}
	if n.tr.Lang == i18n.EN {
		v.Source = b.Source
	}
	if n.admin {
		v.Note = b.Note
		if b.Assumption {
			v.Assumed = n.tr.T("procedures.public.assumed")
		}
	}
	return v
}

// publicFeeView is one fee of a procedure.
type publicFeeView struct {
	WhereKey      string
	Description   string
	Amount        string
	LocalCurrency bool
	Basis         publicBasisView
}

func publicViewFees(n publicNotes, fees []Fee) []publicFeeView {
	tr := n.tr
	out := make([]publicFeeView, len(fees))
	for i, f := range fees {
		out[i] = publicFeeView{WhereKey: f.Where.Key(), Description: pick(tr.Lang, f.DescriptionVI, f.DescriptionEN),
			Amount: formatAmount(tr, f.Amount, f.Currency), LocalCurrency: f.LocalCurrency, Basis: n.basis(f.Basis)}
	}
	return out
}

// procedureOf reads the {code} of the path and returns its procedure,
// or an error wrapping errs.ErrNotFound.
func (h *Handler) procedureOf(r *http.Request) (*Procedure, error) {
	return h.svc.Catalogue().Procedure(r.PathValue("code"))
}

// procedureName returns the name of the procedure with code in lang, or
// the code itself for one the catalogue no longer holds.
func (h *Handler) procedureName(lang i18n.Lang, code string) string {
	p, err := h.svc.Catalogue().Procedure(code)
	if err != nil {
		return code
	}
	return pick(lang, p.NameVI, p.NameEN)
}

// unitPlace returns the name in lang of the unit with id, and its time
// display: where a dossier is and what its times read there.
func (h *Handler) unitPlace(ctx context.Context, lang i18n.Lang, id int64) (string, zoned, error) {
	u, err := h.svc.opts.Directory.Unit(ctx, id)
	if err != nil {
		return "", zoned{}, fmt.Errorf("procedures: the unit of a dossier: %w", err)
	}
	z, err := h.zoneOf(ctx, id)
	return publicUnitName(lang, u), z, err
}

// formValues parses a url-encoded form, refusing a malformed body as bad
// input.
func formValues(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("%w: the form could not be read: %v", errs.ErrInvalid, err)
	}
	return nil
}

// uploadStatus is the status a refused upload is answered with: 413 for
// a file over the limit, 415 for one of a type not accepted, 400 else.
func uploadStatus(err error) int {
	var ue *UploadError
	switch {
	case errors.Is(err, errs.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.As(err, &ue) && (ue.Reason == "type" || ue.Reason == "extension" || ue.Reason == "declared_type"):
		return http.StatusUnsupportedMediaType
	}
	return http.StatusBadRequest
}
