package procedures

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"chancery/internal/authz"
	"chancery/internal/printout"
	"chancery/internal/web"
)

// publicReceivedDocument is a paper of the dossier as the receipt lists it.
type publicReceivedDocument struct {
	Name  string
	Files []string
}

// publicReceiptData is the view of the receipt-and-appointment slip.
type publicReceiptData struct {
	Code        string
	Procedure   string
	Name        string
	Unit        string
	UnitCode    string
	Applicant   string
	Email       string
	ChannelKey  string
	StatusKey   string
	Submitted   when
	Appointment when
	Documents   []publicReceivedDocument
	Fee         string
	FeeDue      bool
	Paid        bool
	PaidOnline  bool
	TrackURL    string
	// TrackQR is the QR code of the tracking page's full address, for a
	// phone to open from the printed receipt.
	TrackQR template.HTML
	// Steps, for the applicant, shows the application done.
	Steps publicStepper
	// TrackingPIN is the second factor of public tracking, grouped by
	// four digits for reading aloud.
	TrackingPIN string
	OwnerView   bool
	WorkingDays int
	Prefilled   bool
	Digitised   bool
}

func (h *Handler) pageReceipt(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sub := web.SubjectFrom(ctx)
	if !sub.Authenticated() {
		http.Redirect(w, r, "/account/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	d, err := h.svc.Get(ctx, sub, r.PathValue("code"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.PublicSite, "procedures.public.receipt.title")
	unit, z, err := h.unitPlace(ctx, p.Lang, d.UnitID)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	data := publicReceiptData{Code: d.Code, Procedure: d.Procedure, Name: h.procedureName(p.Lang, d.Procedure), Unit: unit, UnitCode: d.UnitCode,
		Applicant: d.ApplicantName, Email: d.ApplicantEmail, ChannelKey: d.Channel.Key(), StatusKey: d.Status.Key(),
		Submitted: z.at(d.SubmittedAt), Appointment: z.day(d.AppointmentAt), Fee: formatAmount(p.Localizer(), d.FeeAmount, d.FeeCurrency),
		FeeDue: d.FeeAmount > 0, Paid: d.Paid, PaidOnline: d.PaidOnline, TrackURL: h.siteURL(r) + "/track?code=" + url.QueryEscape(d.Code),
		OwnerView: sub.Kind == authz.Citizen, WorkingDays: d.Clock.WorkingDays, Prefilled: d.Prefilled, Digitised: d.Digitised,
		TrackingPIN: groupPIN(d.TrackingPIN)}
	if pr, err := h.svc.Catalogue().Procedure(d.Procedure); err == nil {
		for _, doc := range pr.Documents {
			rd := publicReceivedDocument{Name: pick(p.Lang, doc.NameVI, doc.NameEN)}
			for _, a := range d.Attachments {
				if a.DocumentKey == doc.Key {
					rd.Files = append(rd.Files, a.Filename)
				}
			}
			if len(rd.Files) > 0 {
				data.Documents = append(data.Documents, rd)
			}
		}
	}
	if data.OwnerView {
		data.Steps = applySteps(p.Localizer(), applyStepSubmit+1)
	}
	if data.TrackQR, err = printout.QRSVG(data.TrackURL, p.T("procedures.public.receipt.qr_label", d.Code)); err != nil {
		web.Error(w, r, err)
		return
	}
	h.pages.Render(w, r, http.StatusOK, "public_receipt", web.View[publicReceiptData]{Page: p, Data: data})
}

// siteURL returns the public site's address without a trailing slash:
// the node's (Options.SiteURL), or else the one r reached it by, for
// the absolute links a paper's QR codes carry.
func (h *Handler) siteURL(r *http.Request) string {
	if u := h.svc.opts.SiteURL; u != "" {
		return strings.TrimSuffix(u, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// groupPIN writes a tracking PIN in groups of four digits.
func groupPIN(pin string) string {
	if len(pin) != trackingPINDigits {
		return pin
	}
	return pin[:4] + " " + pin[4:]
}
