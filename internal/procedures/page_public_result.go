package procedures

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"time"

	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/printout"
	"chancery/internal/web"
)

// resultParty names what a result's paper and verification page show of
// its issuer and procedure, in both languages.
type resultParty struct {
	UnitVI, UnitEN           string
	ProcedureVI, ProcedureEN string
	// Issued is the instant of issue in the unit's zone.
	Issued time.Time
}

// resultParty looks up the issuer and procedure of doc.
func (h *Handler) resultParty(r *http.Request, doc ResultDocument) (resultParty, error) {
	u, err := h.svc.opts.Directory.UnitByCode(r.Context(), doc.AgencyCode)
	if err != nil {
		return resultParty{}, fmt.Errorf("procedures: the issuer %s of a result: %w", doc.AgencyCode, err)
	}
	z, err := h.zoneOf(r.Context(), u.ID)
	if err != nil {
		return resultParty{}, err
	}
	rp := resultParty{UnitVI: u.NameVI, UnitEN: pick(i18n.EN, u.NameVI, u.NameEN), ProcedureVI: doc.Procedure, ProcedureEN: doc.Procedure,
		Issued: doc.IssuedAt.In(z.cal.Location())}
	if p, err := h.svc.Catalogue().Procedure(doc.Procedure); err == nil {
		rp.ProcedureVI, rp.ProcedureEN = p.NameVI, p.NameEN
	}
	return rp, nil
}

// getResultPDF serves the electronic result as a paper a person opens and
// prints: what the signed document states, in Vietnamese and English,
// the signature's key, and a QR code of the public verification page.
// The signed JSON (getResult) stays the machines' form.
func (h *Handler) getResultPDF(w http.ResponseWriter, r *http.Request) {
	res, err := h.svc.Result(r.Context(), web.SubjectFrom(r.Context()), r.PathValue("code"))
	if err != nil {
		web.Error(w, r, err)
		return
	}
	rp, err := h.resultParty(r, res.Document)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	b, err := renderResultPDF(res, rp, h.siteURL(r)+res.VerifyPath())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	serveFile(w, "ket-qua-"+res.Document.DossierCode+".pdf", MediaPDF, b)
}

// renderResultPDF lays a result out on one A4 page. The same result gives
// the same bytes (the document's date is the issue's).
func renderResultPDF(res SignedResult, rp resultParty, verifyURL string) ([]byte, error) {
	doc := res.Document
	pdf := printout.NewA4("Kết quả giải quyết hồ sơ "+doc.DossierCode, doc.IssuedAt)
	pdf.SetMargins(20, 18, 20)
	pdf.SetAutoPageBreak(true, 18)
	pdf.AddPage()
	font := func(size float64) { pdf.SetFont(printout.FontName, "", size) }
	w, _ := pdf.GetPageSize()
	half := (w - 40) / 2

	// The heading of a Vietnamese administrative paper: the issuer on the
	// left, the national motto on the right.
	font(10)
	y := pdf.GetY()
	pdf.MultiCell(half, 5, "BỘ NGOẠI GIAO\n"+rp.UnitVI, "", "C", false)
	pdf.SetXY(20+half, y)
	pdf.MultiCell(half, 5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc", "", "C", false)
	pdf.Ln(10)

	font(15)
	pdf.MultiCell(0, 8, "KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH", "", "C", false)
	font(10)
	pdf.MultiCell(0, 5, "Result of an administrative procedure", "", "C", false)
	pdf.Ln(8)

	rows := []struct{ vi, en, value string }{
		{"Mã hồ sơ", "Dossier code", doc.DossierCode},
		{"Thủ tục", "Procedure", rp.ProcedureVI + " (" + doc.Procedure + ")\n" + rp.ProcedureEN},
		{"Kết quả", "Result", doc.ResultVI + "\n" + doc.ResultEN},
		{"Người nhận kết quả", "Applicant", doc.Applicant},
		{"Cơ quan giải quyết", "Issued by", rp.UnitVI + " (" + doc.AgencyCode + ")\n" + rp.UnitEN},
		{"Ngày cấp", "Date of issue", i18n.VI.FormatDateTime(rp.Issued) + " · " + i18n.EN.FormatDate(rp.Issued)},
		{"Chữ ký số", "Digital signature", ResultAlgorithm + ", khóa / key " + res.KeyID},
	}
	for _, row := range rows {
		y := pdf.GetY()
		font(10)
		pdf.MultiCell(55, 5, row.vi+"\n"+row.en, "", "L", false)
		below := pdf.GetY()
		pdf.SetXY(75, y)
		font(11)
		pdf.MultiCell(w-95, 5.5, pdfText(row.value), "", "L", false)
		pdf.SetY(max(below, pdf.GetY()) + 3)
	}

	// The verification block: a QR code and the address it holds.
	pdf.Ln(4)
	y = pdf.GetY()
	if err := printout.DrawQR(pdf, verifyURL, 20, y, 38); err != nil {
		return nil, err
	}
	pdf.SetXY(63, y+2)
	font(10)
	pdf.MultiCell(w-83, 5, "Văn bản điện tử này được ký số. Quét mã QR hoặc mở địa chỉ dưới đây để kiểm tra kết quả là thật:\n"+
		"This electronic paper is digitally signed. Scan the QR code or open the address below to check that it is genuine:", "", "L", false)
	pdf.SetX(63)
	font(8)
	pdf.MultiCell(w-83, 4, verifyURL, "", "L", false)

	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("procedures: render the result of %s as PDF: %w", doc.DossierCode, err)
	}
	return buf.Bytes(), nil
}

// pdfText keeps what a page can print of stored text: control
// characters other than a line break are dropped.
func pdfText(s string) string {
	out := []rune{}
	for _, c := range s {
		if c == '\n' || c >= ' ' && c != 0x7f {
			out = append(out, c)
		}
	}
	return string(out)
}

// publicVerifyData is the view of a result's public verification page.
type publicVerifyData struct {
	Found   bool
	Genuine bool
	Code    string
	Result  string
	Issuer  string
	Agency  string
	Issued  when
	KeyID   string
	// Applicant is the name the paper itself shows, so that a reader can
	// compare the two; nothing else about the person is shown.
	Applicant string
	Procedure string
}

// pageVerify is the public verification page a result's QR code leads to:
// whether the result is genuine, who issued it and when. A wrong token,
// an unknown code and a dossier without a result all answer the same 404.
func (h *Handler) pageVerify(w http.ResponseWriter, r *http.Request) {
	p := h.shell.Page(r, web.PublicSite, "procedures.public.verify.title")
	check, err := h.svc.CheckResult(r.Context(), r.PathValue("code"), r.PathValue("token"))
	if errors.Is(err, errs.ErrNotFound) {
		h.pages.Render(w, r, http.StatusNotFound, "public_verify", web.View[publicVerifyData]{Page: p})
		return
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	doc := check.Document
	rp, err := h.resultParty(r, doc)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	data := publicVerifyData{Found: true, Genuine: check.Genuine, Code: doc.DossierCode, Result: pick(p.Lang, doc.ResultVI, doc.ResultEN),
		Issuer: pick(p.Lang, rp.UnitVI, rp.UnitEN), Agency: doc.AgencyCode, KeyID: check.KeyID, Applicant: doc.Applicant,
		Procedure: pick(p.Lang, rp.ProcedureVI, rp.ProcedureEN),
		Issued:    when{Text: p.Lang.FormatDateTime(rp.Issued) + " (" + gmtOffset(rp.Issued) + ")", ISO: rp.Issued.Format(time.RFC3339)}}
	h.pages.Render(w, r, http.StatusOK, "public_verify", web.View[publicVerifyData]{Page: p, Data: data})
}
