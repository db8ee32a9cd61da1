package records

// Case-file export (Decree 30/2020/NĐ-CP: the electronic document system
// exports a case file): a zip package holding, for each document of the
// case file the caller may know of, a PDF (the document's own file when
// it is a PDF, else one rendered here of its metadata and text, marked
// with its level on every page), its original file when that is not a
// PDF, and an XML of its metadata (the fields of Decree 30 Appendix VI
// this system keeps; the appendix's full list was not verified against
// its text this session); the case file's own XML; and SHA256SUMS, the
// SHA-256 of every other file, in the format `sha256sum -c` checks.

import (
	"archive/zip"
	"bytes"
	"context"
	_ "embed"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"chancery/internal/authz"
)

// xmlDocument is a document's metadata in the export.
type xmlDocument struct {
	XMLName        xml.Name `xml:"VanBan"`
	ID             int64    `xml:"MaDinhDanh"`
	CaseFile       string   `xml:"MaHoSo"`
	Direction      string   `xml:"Loai"`
	NumberSymbol   string   `xml:"SoKyHieu,omitempty"`
	Number         int      `xml:"SoVanBan,omitempty"`
	Date           string   `xml:"NgayThangNam,omitempty"`
	TypeName       string   `xml:"TenLoaiVanBan"`
	TypeAbbr       string   `xml:"KyHieuLoai,omitempty"`
	Issuer         string   `xml:"CoQuanBanHanh,omitempty"`
	Subject        string   `xml:"TrichYeu"`
	Language       string   `xml:"NgonNgu"`
	Signer         string   `xml:"NguoiKy,omitempty"`
	Level          string   `xml:"DoMat"`
	Urgency        string   `xml:"DoKhan"`
	ProtectUntil   string   `xml:"ThoiHanBaoVe,omitempty"`
	FileName       string   `xml:"TepTin,omitempty"`
	FileType       string   `xml:"DinhDang,omitempty"`
	FileSHA256     string   `xml:"MaBam,omitempty"`
	Shredded       bool     `xml:"DaHuy,omitempty"`
	Status         string   `xml:"TrangThai"`
	RegisterYear   int      `xml:"NamSo,omitempty"`
	RegisterSeries string   `xml:"SoDangKy,omitempty"`
}

// xmlCaseFile is the case file's own metadata in the export.
type xmlCaseFile struct {
	XMLName   xml.Name `xml:"HoSo"`
	ID        int64    `xml:"MaDinhDanh"`
	Code      string   `xml:"KyHieu"`
	Year      int      `xml:"Nam"`
	Title     string   `xml:"TieuDe"`
	Retention string   `xml:"ThoiHanBaoQuan"`
	Closed    string   `xml:"NgayKetThuc,omitempty"`
	Documents []int64  `xml:"VanBan>MaDinhDanh"`
	Exported  string   `xml:"NgayXuat"`
}

// ExportCaseFile returns case file id as a zip package (see the file
// comment) with its name, to a caller who may export it (authz's
// KindCaseFile Export): the documents in it are those the caller may
// know of, their files opened as a download is. The export is recorded
// in the audit ledger at the highest level of what it holds.
func (s *Service) ExportCaseFile(ctx context.Context, sub authz.Subject, id int64) (name string, pkg []byte, err error) {
	o, err := actorOf(ctx)
	if err != nil {
		return "", nil, err
	}
	cf, err := s.CaseFile(ctx, sub, id)
	if err != nil {
		return "", nil, err
	}
	if err := decideCaseFile(sub, authz.Export, cf); err != nil {
		return "", nil, err
	}
	rows, err := s.filedDocuments(ctx, sub, cf)
	if err != nil {
		return "", nil, err
	}
	now := s.now()
	var files []exportFile
	level := authz.Unclassified
	for _, r := range rows {
		level = max(level, r.Classification)
		fs, err := s.exportDocument(ctx, cf, r)
		if err != nil {
			return "", nil, err
		}
		files = append(files, fs...)
	}
	cx := xmlCaseFile{ID: cf.ID, Code: cf.Code, Year: cf.Year, Title: cf.Title, Retention: retentionText(cf.RetentionYears),
		Documents: cf.Documents, Exported: now.In(registerZone()).Format(time.RFC3339)}
	if !cf.ClosedAt.IsZero() {
		cx.Closed = cf.ClosedAt.In(registerZone()).Format("2006-01-02")
	}
	raw, err := marshalXML(cx)
	if err != nil {
		return "", nil, err
	}
	files = append(files, exportFile{"ho-so.xml", raw})
	name = "ho-so-" + safeName(cf.Code) + "-" + strconv.Itoa(cf.Year)
	pkg, err = zipPackage(name, files, now)
	if err != nil {
		return "", nil, err
	}
	e := o.Event("case_file.export")
	e.ResourceType, e.ResourceID, e.UnitID, e.Level = "case_file", strconv.FormatInt(cf.ID, 10), cf.UnitID, level
	e.Attrs = map[string]string{"documents": strconv.Itoa(len(rows)), "sha256": hex.EncodeToString(sha256Sum(pkg))}
	if _, err := s.opts.Recorder.Append(ctx, e); err != nil {
		return "", nil, fmt.Errorf("records: record the export of case file %d: %w", id, err)
	}
	return name + ".zip", pkg, nil
}

// exportFile is one file of the package, by its path inside it.
type exportFile struct {
	path string
	data []byte
}

// exportDocument returns a document's files in the package.
func (s *Service) exportDocument(ctx context.Context, cf *CaseFile, r *row) ([]exportFile, error) {
	dir := "van-ban/" + strconv.FormatInt(r.ID, 10) + "/"
	t, _ := LookupType(r.Type)
	md := xmlDocument{ID: r.ID, CaseFile: cf.Code, Direction: string(r.Direction), NumberSymbol: r.Number, Number: r.RegisterNumber,
		TypeName: t.NameVI, TypeAbbr: t.Abbr, Issuer: r.Sender, Subject: r.Subject, Language: "vi", Level: LevelLabel(r.Classification),
		Urgency: r.Urgency.Label(), Status: string(r.Status), RegisterYear: r.RegisterYear, RegisterSeries: string(r.Series)}
	if md.Level == "" {
		md.Level = "Không mật"
	}
	if md.Urgency == "" {
		md.Urgency = "Thường"
	}
	if !r.Date.IsZero() {
		md.Date = r.Date.In(registerZone()).Format("2006-01-02")
	}
	if !r.class.ProtectUntil.IsZero() {
		md.ProtectUntil = r.class.ProtectUntil.In(registerZone()).Format("2006-01-02")
	}
	names, err := staffNames(ctx, s.db, []int64{r.SignerID})
	if err != nil {
		return nil, err
	}
	md.Signer = names[r.SignerID]
	var out []exportFile
	var text string
	c, ok, err := loadContent(ctx, s.db, r.ID)
	if err != nil {
		return nil, err
	}
	var data []byte
	if ok {
		md.FileName, md.FileType, md.FileSHA256 = c.Filename, c.MediaType, hex.EncodeToString(c.SHA256)
		md.Shredded = !c.Shredded.IsZero()
		if !md.Shredded {
			if data, err = openContent(ctx, s.opts.Ring, r.ID, &c); err != nil {
				return nil, err
			}
		}
	}
	switch {
	case data != nil && c.MediaType == "application/pdf":
		out = append(out, exportFile{dir + "van-ban.pdf", data})
	default:
		if data != nil {
			out = append(out, exportFile{dir + "ban-goc/" + safeName(c.Filename), data})
			if strings.HasPrefix(c.MediaType, "text/plain") {
				text = string(data)
			}
		}
		pdf, err := renderExportPDF(md, text)
		if err != nil {
			return nil, err
		}
		out = append(out, exportFile{dir + "van-ban.pdf", pdf})
	}
	raw, err := marshalXML(md)
	if err != nil {
		return nil, err
	}
	return append(out, exportFile{dir + "metadata.xml", raw}), nil
}

func marshalXML(v any) ([]byte, error) {
	raw, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("records: encode the metadata: %w", err)
	}
	return append([]byte(xml.Header), append(raw, '\n')...), nil
}

// renderExportPDF renders a document's metadata and text as a PDF, the level
// marked at the top of every page.
func renderExportPDF(md xmlDocument, text string) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(time.Unix(0, 0).UTC())
	pdf.SetModificationDate(time.Unix(0, 0).UTC())
	pdf.AddUTF8FontFromBytes("DejaVu", "", pdfFont) // pdf.go
	pdf.SetTitle(md.Subject, true)
	marking := md.Level
	pdf.SetHeaderFunc(func() {
		pdf.SetFont("DejaVu", "", 10)
		pdf.SetTextColor(160, 0, 0)
		pdf.CellFormat(0, 6, marking, "", 1, "C", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
		pdf.Ln(2)
	})
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("DejaVu", "", 8)
		pdf.CellFormat(0, 6, fmt.Sprintf("%s · %d", marking, pdf.PageNo()), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()
	pdf.SetFont("DejaVu", "", 14)
	pdf.MultiCell(0, 7, md.Subject, "", "L", false)
	pdf.Ln(3)
	pdf.SetFont("DejaVu", "", 10)
	for _, kv := range [][2]string{
		{"Số, ký hiệu", md.NumberSymbol}, {"Ngày", md.Date}, {"Loại văn bản", md.TypeName}, {"Cơ quan ban hành", md.Issuer},
		{"Người ký", md.Signer}, {"Độ mật", md.Level}, {"Độ khẩn", md.Urgency}, {"Thời hạn bảo vệ", md.ProtectUntil},
		{"Hồ sơ", md.CaseFile}, {"Mã định danh", strconv.FormatInt(md.ID, 10)}, {"Tệp gốc", md.FileName}, {"SHA-256", md.FileSHA256},
	} {
		if kv[1] == "" {
			continue
		}
		pdf.MultiCell(0, 5.5, kv[0]+": "+kv[1], "", "L", false)
	}
	if md.Shredded {
		pdf.Ln(3)
		pdf.MultiCell(0, 5.5, "Nội dung tệp đã bị hủy theo quyết định; chỉ còn hồ sơ của văn bản.", "", "L", false)
	}
	if text != "" {
		pdf.Ln(4)
		pdf.SetFont("DejaVu", "", 11)
		pdf.MultiCell(0, 5.5, text, "", "L", false)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("records: render the PDF of document %d: %w", md.ID, err)
	}
	return buf.Bytes(), nil
}

// zipPackage writes files under the folder name, with SHA256SUMS last.
func zipPackage(name string, files []exportFile, at time.Time) ([]byte, error) {
	sort.SliceStable(files, func(i, j int) bool { return files[i].path < files[j].path })
	var sums strings.Builder
	for _, f := range files {
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sha256Sum(f.data)), f.path)
	}
	files = append(files, exportFile{"SHA256SUMS", []byte(sums.String())})
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: path.Join(name, f.path), Method: zip.Deflate, Modified: at})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("records: write the package: %w", err)
	}
	return buf.Bytes(), nil
}

// safeName keeps a file name's letters, digits, dots and hyphens, so that
// no name in the package climbs out of its folder.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == '.' && b.Len() > 0:
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	if b.Len() == 0 {
		return "tep"
	}
	return b.String()
}

// retentionText is a retention period as the XML says it.
func retentionText(r Retention) string {
	if r == Permanent {
		return "Vĩnh viễn"
	}
	return strconv.Itoa(int(r)) + " năm"
}
