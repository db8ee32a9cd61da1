package records

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"

	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// The OCR tests need poppler-utils (pdftotext, pdftoppm) and tesseract
// with its Vietnamese data; they skip, saying so, where these are
// missing, and CI (.ci/run) installs them and fails when an OCR test
// skipped (.ci/testreport.go matches "OCR tools" in the skip message).

// ocrTools returns an Extractor with the machine's tools, or skips the
// test when one is missing.
func ocrTools(t testing.TB) *Extractor {
	t.Helper()
	x, missing := FindTools()
	if len(missing) == 0 {
		out, err := exec.Command(x.Tesseract, "--list-langs").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "\nvie") {
			missing = append(missing, "tesseract's Vietnamese data")
		}
	}
	if len(missing) > 0 {
		t.Skipf("OCR tools missing (%s): install tesseract-ocr tesseract-ocr-vie poppler-utils", strings.Join(missing, ", "))
	}
	return x
}

// vietnamesePDF returns a one-page PDF with a text layer holding lines,
// set large in DejaVu Sans (which has Vietnamese's letters).
func vietnamesePDF(t testing.TB, size float64, lines ...string) []byte {
	t.Helper()
	const font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
	if _, err := os.Stat(font); err != nil {
		t.Skipf("OCR tools missing: the test's PDF needs the font %s (fonts-dejavu-core)", font)
	}
	ttf, err := os.ReadFile(font)
	if err != nil {
		t.Fatal(err)
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes("dejavu", "", ttf)
	pdf.SetFont("dejavu", "", size)
	pdf.AddPage()
	for _, l := range lines {
		pdf.MultiCell(0, size*0.6, l, "", "L", false)
	}
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// renderPNG renders the first page of a PDF as a PNG at 150 dpi, as a
// scanner would hand it in.
func renderPNG(t testing.TB, x *Extractor, pdf []byte) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in.pdf"), pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(x.PDFToPPM, "-r", "150", "-gray", "-png", "-singlefile", filepath.Join(dir, "in.pdf"), filepath.Join(dir, "scan")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	png, err := os.ReadFile(filepath.Join(dir, "scan.png"))
	if err != nil {
		t.Fatal(err)
	}
	return png
}

// imageOnlyPDF returns a PDF whose page is a picture of text (a scan),
// with no text layer.
func imageOnlyPDF(t testing.TB, png []byte) []byte {
	t.Helper()
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddPage()
	pdf.RegisterImageOptionsReader("scan", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(png))
	pdf.ImageOptions("scan", 0, 0, 210, 297, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// zipOf returns a ZIP of the named parts, in order.
func zipOf(t testing.TB, parts ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i := 0; i+1 < len(parts); i += 2 {
		w, err := zw.Create(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(parts[i+1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// docxOf returns a minimal DOCX whose paragraphs are paras.
func docxOf(t testing.TB, paras ...string) []byte {
	var body strings.Builder
	for _, p := range paras {
		body.WriteString(`<w:p><w:r><w:t xml:space="preserve">` + p + `</w:t></w:r></w:p>`)
	}
	return zipOf(t,
		"[Content_Types].xml", `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"word/document.xml", `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`+
			body.String()+`</w:body></w:document>`)
}

// odtOf returns a minimal ODT whose paragraphs are paras.
func odtOf(t testing.TB, paras ...string) []byte {
	var body strings.Builder
	for _, p := range paras {
		body.WriteString(`<text:p>` + p + `</text:p>`)
	}
	return zipOf(t, "mimetype", "application/vnd.oasis.opendocument.text",
		"content.xml", `<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" `+
			`xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>`+body.String()+`</office:text></office:body></office:document-content>`)
}

// folded returns the folded words of s joined by spaces, as the index
// holds them.
func folded(s string) string { return strings.Join(words(s), " ") }

// TestExtractReadsEachKindOfFile pins the extractor on real files made
// here: a text PDF with Vietnamese (pdftotext), a PNG scan of one and an
// image-only PDF (tesseract vie+eng; large clear text, and the check
// allows OCR's slips elsewhere on the page), a DOCX and an ODT (Go), and
// plain text.
func TestExtractReadsEachKindOfFile(t *testing.T) {
	x := ocrTools(t)
	ctx := context.Background()
	textPDF := vietnamesePDF(t, 20, "Quyết định về việc cử cán bộ đi công tác tại Đại sứ quán Việt Nam tại Nhật Bản")
	scanPDF := vietnamesePDF(t, 40, "QUYẾT ĐỊNH", "Về việc thành lập", "Tổ công tác")
	png := renderPNG(t, x, scanPDF)
	for _, c := range []struct {
		name, mediaType string
		data            []byte
		source          string
		want            []string // folded phrases the text must hold
	}{
		{"text PDF", "application/pdf", textPDF, SourcePDFToText, []string{"quyet dinh ve viec cu can bo", "dai su quan viet nam tai nhat ban"}},
		{"PNG scan", "image/png", png, SourceOCR, []string{"quyet dinh", "thanh lap"}},
		{"image-only PDF", "application/pdf", imageOnlyPDF(t, png), SourceOCR, []string{"quyet dinh", "thanh lap"}},
		{"DOCX", "application/octet-stream", docxOf(t, "Kế hoạch tổ chức", "Hội nghị lãnh sự &amp; ngoại giao"), SourceOffice, []string{"ke hoach to chuc hoi nghi lanh su ngoai giao"}},
		{"ODT", "application/vnd.oasis.opendocument.text", odtOf(t, "Báo cáo <text:span>công tác</text:span> bảo hộ công dân"), SourceOffice, []string{"bao cao cong tac bao ho cong dan"}},
		{"plain text", "text/plain; charset=utf-8", []byte("Thông báo lịch tiếp công dân"), SourcePlain, []string{"thong bao lich tiep cong dan"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			text, source, err := x.Extract(ctx, c.data, c.mediaType)
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if source != c.source {
				t.Errorf("source %q, want %q", source, c.source)
			}
			for _, w := range c.want {
				if !strings.Contains(folded(text), w) {
					t.Errorf("the text %q lacks %q", text, w)
				}
			}
		})
	}
}

// TestExtractRefusesWhatItCannotRead pins the permanent failures: a file
// of no readable kind, text that is not UTF-8, a damaged image, an office
// file that is a ZIP of something else, and a zip bomb, stopped at the
// decompression limit.
func TestExtractRefusesWhatItCannotRead(t *testing.T) {
	x := &Extractor{}
	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	w, _ := zw.Create("word/document.xml")
	w.Write([]byte(`<w:document xmlns:w="x">`))
	spaces := bytes.Repeat([]byte(" "), 1<<20)
	for range maxOfficeXML>>20 + 1 {
		w.Write(spaces)
	}
	zw.Close()
	for _, c := range []struct {
		name, mediaType string
		data            []byte
		code            string
	}{
		{"unknown", "application/octet-stream", []byte("\x00\x01binary"), ReasonUnsupported},
		{"not UTF-8", "text/plain", []byte("Quy\xe9t \xff"), ReasonCorrupt},
		{"damaged PNG", "image/png", []byte("\x89PNG\r\n\x1a\nbroken"), ReasonCorrupt},
		{"other ZIP", "application/zip", zipOf(t, "a.txt", "x"), ReasonUnsupported},
		{"zip bomb", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", bomb.Bytes(), ReasonTooLarge},
		{"bad XML", "application/octet-stream", zipOf(t, "word/document.xml", "<w:document><w:t>x</w:p>"), ReasonCorrupt},
	} {
		t.Run(c.name, func(t *testing.T) {
			x.Tesseract = "/nonexistent/tesseract" // the image is refused before any tool runs
			_, _, err := x.Extract(context.Background(), c.data, c.mediaType)
			var xe *ExtractError
			if !errors.As(err, &xe) || xe.Code != c.code || !xe.Permanent {
				t.Fatalf("Extract: %v, want a permanent %s", err, c.code)
			}
		})
	}
}

// TestToolRunsAreBounded pins the limits on a tool's run: a tool that
// hangs is stopped at the timeout, one that writes without end is cut
// off at MaxText, and its working directory is gone afterwards.
func TestToolRunsAreBounded(t *testing.T) {
	sleep, err1 := exec.LookPath("sleep")
	yes, err2 := exec.LookPath("yes")
	if err1 != nil || err2 != nil {
		t.Skip("needs sleep and yes (coreutils)")
	}
	tmp := t.TempDir()
	x := &Extractor{Timeout: 200 * time.Millisecond, MaxText: 1000, TempDir: tmp}
	err := x.inTempDir(func(dir string) error {
		_, err := x.run(context.Background(), dir, sleep, "30")
		return err
	})
	var xe *ExtractError
	if !errors.As(err, &xe) || xe.Code != ReasonTimeout || xe.Permanent {
		t.Errorf("a hanging tool: %v, want a transient timeout", err)
	}
	var out string
	x.Timeout = time.Minute // yes is cut off at once, even on a busy machine
	err = x.inTempDir(func(dir string) (err error) {
		out, err = x.run(context.Background(), dir, yes, "quyết định")
		return err
	})
	if err != nil || len(out) > 1000 || len(out) < 900 || !strings.HasPrefix(out, "quyết định\n") {
		t.Errorf("an endless tool: %d bytes, %v; want its first 1000 bytes at most", len(out), err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("working directories left behind: %v", left)
	}
}

// drain runs the worker until the queue has nothing due.
func drain(t testing.TB, w *ExtractWorker) {
	t.Helper()
	for range 100 {
		worked, err := w.Work(context.Background())
		if err != nil {
			t.Fatalf("Work: %v", err)
		}
		if !worked {
			return
		}
	}
	t.Fatal("the queue did not empty")
}

// TestExtractionWorkerIndexesFiles pins the worker end to end on both
// databases: documents registered with a file and no text are found by
// their metadata at once, with their extraction pending; once the worker
// has run, by their files' words too (`quyet dinh` finds the OCR'd
// "QUYẾT ĐỊNH" of a scan), the extraction done with its source; the
// caller-supplied text still works and is kept through issuance.
func TestExtractionWorkerIndexesFiles(t *testing.T) {
	x := ocrTools(t)
	textPDF := vietnamesePDF(t, 20, "Quyết định về việc cử cán bộ đi công tác Nhật Bản")
	png := renderPNG(t, x, vietnamesePDF(t, 40, "QUYẾT ĐỊNH", "Về việc thành lập", "Tổ công tác"))
	docx := docxOf(t, "Kế hoạch tổ chức hội nghị lãnh sự")
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		w, _ := f.svc.NewExtractWorker(ExtractOptions{Extractor: x})
		pdfDoc := f.incoming(t, "Công văn số một", authz.Unclassified, &Content{Filename: "../../etc/passwd; rm -rf", MediaType: "application/pdf", Data: textPDF})
		scan := f.incoming(t, "Bản quét số hai", authz.Unclassified, &Content{Filename: "scan.png", MediaType: "image/png", Data: png})
		office := f.incoming(t, "Tờ trình số ba", authz.Unclassified, &Content{Filename: "kh.docx", MediaType: "application/octet-stream", Data: docx})
		secret := f.incoming(t, "Công văn mật số bốn", authz.Secret, &Content{Filename: "m.pdf", MediaType: "application/pdf", Data: textPDF})
		supplied := f.draft(t, "quyet_dinh", authz.Unclassified)
		find := func(q string) []int64 { return ids(f.search(t, f.officer, Query{Text: q})) }
		if got := find("ban quet so hai"); len(got) != 1 || got[0] != scan.ID {
			t.Fatalf("pending extraction: the scan is not found by its subject: %v", got)
		}
		if got := find("nhat ban"); len(got) != 0 {
			t.Fatalf("before the worker ran, the file's words found %v", got)
		}
		v, err := f.svc.Get(f.as(f.officer), f.officer, scan.ID)
		if err != nil || v.Extraction == nil || v.Extraction.State != ExtractPending {
			t.Fatalf("the scan's extraction before the worker: %+v, %v", v.Extraction, err)
		}
		if v, _ := f.svc.Get(f.as(f.officer), f.officer, secret.ID); v.Extraction != nil {
			t.Errorf("a secret document's file was queued for extraction: %+v", v.Extraction)
		}
		drain(t, w)
		for q, want := range map[string][]int64{
			"quyet dinh":         {pdfDoc.ID, scan.ID, supplied.ID}, // the draft's subject
			"nhat ban":           {pdfDoc.ID},
			"thanh lap to":       {scan.ID},
			"hoi nghi lanh su":   {office.ID},
			"cong van so mot":    {pdfDoc.ID},
			"cu can bo cong tac": {pdfDoc.ID, supplied.ID},
		} {
			if got := find(q); !slices.Equal(got, sorted(want)) {
				t.Errorf("%q found %v, want %v", q, got, want)
			}
		}
		for id, source := range map[int64]string{pdfDoc.ID: SourcePDFToText, scan.ID: SourceOCR, office.ID: SourceOffice} {
			v, err := f.svc.Get(f.as(f.officer), f.officer, id)
			if err != nil || v.Extraction == nil || v.Extraction.State != ExtractDone || v.Extraction.Source != source || v.Extraction.Attempts != 1 {
				t.Errorf("document %d's extraction: %+v, %v; want done from %s at the first attempt", id, v.Extraction, err, source)
			}
		}
	})
}

func sorted(ids []int64) []int64 { return slices.Sorted(slices.Values(ids)) }

// TestCallerTextAndExtractedTextOutliveReindexing pins, on both
// databases, that a text the caller supplies is indexed with the file
// and queues nothing; that issuance, which re-indexes the document for
// its number, keeps the file's text (it dropped it before); and that
// declassifying a document queues its file, whose text then becomes
// searchable. Plain-text files: no tools needed.
func TestCallerTextAndExtractedTextOutliveReindexing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		w, _ := f.svc.NewExtractWorker(ExtractOptions{Extractor: &Extractor{}})
		find := func(q string) []int64 { return ids(f.search(t, f.officer, Query{Text: q})) }
		given := f.incoming(t, "Công điện", authz.Unclassified,
			&Content{Filename: "a.pdf", MediaType: "application/pdf", Data: []byte("%PDF-1.4"), Text: "hộ chiếu ngoại giao"})
		if v, _ := f.svc.Get(f.as(f.officer), f.officer, given.ID); v.Extraction != nil {
			t.Errorf("a document with its text supplied was queued: %+v", v.Extraction)
		}
		nd := NewDraft{Type: "quyet_dinh", Subject: "Quyết định cử cán bộ", Content: &Content{Filename: "qd.txt", MediaType: "text/plain", Data: []byte("Đoàn công tác sang Lào")}}
		draft, err := f.svc.StartDraft(f.as(f.officer), f.officer, nd)
		if err != nil {
			t.Fatal(err)
		}
		drain(t, w)
		if got := find("doan cong tac lao"); !slices.Equal(got, []int64{draft.ID}) {
			t.Fatalf("after extraction the draft's text found %v", got)
		}
		f.issue(t, draft.ID, IssueAs{OrgSymbol: "BNG"})
		if got := find("doan cong tac lao"); !slices.Equal(got, []int64{draft.ID}) {
			t.Errorf("after issuance the draft's text found %v, want it still", got)
		}
		if got := find("ho chieu ngoai giao"); !slices.Equal(got, []int64{given.ID}) {
			t.Errorf("the supplied text found %v", got)
		}

		secret := f.incoming(t, "Công văn mật", authz.Confidential, &Content{Filename: "m.txt", MediaType: "text/plain", Data: []byte("Kế hoạch diễn tập")})
		drain(t, w)
		if got := find("ke hoach dien tap"); len(got) != 0 {
			t.Fatalf("a confidential file's text is searchable: %v", got)
		}
		if done, err := f.svc.Declassify(f.as(f.leader), f.leader, secret.ID, "Hết thời hạn bảo vệ"); err != nil || !done {
			t.Fatalf("Declassify: %v, %v", done, err)
		}
		drain(t, w)
		if got := find("ke hoach dien tap"); !slices.Equal(got, []int64{secret.ID}) {
			t.Errorf("after declassification the file's text found %v", got)
		}
	})
}

// TestExtractionFailuresRetryThenFail pins the failures on both
// databases: a transient one (the tool missing) is retried after a
// growing wait, and after MaxAttempts marked failed with its reason; a
// permanent one (a damaged scan) fails at once; either way the
// document is still found by its metadata.
func TestExtractionFailuresRetryThenFail(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		w, _ := f.svc.NewExtractWorker(ExtractOptions{Extractor: &Extractor{}, Backoff: time.Minute, MaxAttempts: 3})
		pdf := f.incoming(t, "Công văn cần đọc", authz.Unclassified, &Content{Filename: "a.pdf", MediaType: "application/pdf", Data: []byte("%PDF-1.4 x")})
		scan := f.incoming(t, "Bản quét hỏng", authz.Unclassified, &Content{Filename: "b.png", MediaType: "image/png", Data: []byte("\x89PNG\r\n\x1a\nbroken")})
		extraction := func(id int64) *Extraction {
			v, err := f.svc.Get(f.as(f.officer), f.officer, id)
			if err != nil {
				t.Fatal(err)
			}
			return v.Extraction
		}
		drain(t, w)
		if e := extraction(scan.ID); e == nil || e.State != ExtractFailed || e.Reason != ReasonCorrupt || e.Attempts != 1 || e.Detail == "" {
			t.Errorf("a damaged scan: %+v, want failed (corrupt) at the first attempt, with its detail", e)
		}
		for attempt, wait := range []time.Duration{time.Minute, 4 * time.Minute} {
			if e := extraction(pdf.ID); e == nil || e.State != ExtractPending || e.Reason != ReasonToolMissing || e.Attempts != attempt+1 {
				t.Fatalf("after attempt %d: %+v, want pending (tool_missing)", attempt+1, e)
			}
			f.clock.advance(wait - time.Second)
			if worked, err := w.Work(context.Background()); worked || err != nil {
				t.Fatalf("the job ran %v before its wait of %v ended (%v)", wait-time.Second, wait, err)
			}
			f.clock.advance(time.Second)
			drain(t, w)
		}
		if e := extraction(pdf.ID); e == nil || e.State != ExtractFailed || e.Reason != ReasonToolMissing || e.Attempts != 3 {
			t.Errorf("after the last attempt: %+v, want failed (tool_missing) after 3", e)
		}
		for q, id := range map[string]int64{"cong van can doc": pdf.ID, "ban quet hong": scan.ID} {
			if got := ids(f.search(t, f.officer, Query{Text: q})); !slices.Equal(got, []int64{id}) {
				t.Errorf("%q found %v after the failure, want %d by its metadata", q, got, id)
			}
		}
	})
}

// TestExtractionClaimsAreExclusive pins, on both databases, that
// workers of several nodes working one queue at once carry out each job
// exactly once (each claim counts an attempt: any job claimed twice would
// show two), and that a claim whose lease ran out, or whose file changed
// meanwhile, can no longer end its job.
func TestExtractionClaimsAreExclusive(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		const n = 24
		var docs []int64
		for i := range n {
			d := f.incoming(t, "Thông báo", authz.Unclassified, &Content{Filename: "t.txt", MediaType: "text/plain", Data: []byte("lịch trực số " + strconv.Itoa(i))})
			docs = append(docs, d.ID)
		}
		var wg sync.WaitGroup
		for node := range 4 {
			w, _ := f.svc.NewExtractWorker(ExtractOptions{Extractor: &Extractor{}, Name: "node-" + strconv.Itoa(node)})
			wg.Go(func() {
				for {
					worked, err := w.Work(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					if !worked {
						return
					}
				}
			})
		}
		wg.Wait()
		for _, id := range docs {
			v, err := f.svc.Get(f.as(f.officer), f.officer, id)
			if err != nil || v.Extraction == nil || v.Extraction.State != ExtractDone || v.Extraction.Attempts != 1 {
				t.Errorf("document %d: %+v, %v; want done at one attempt", id, v.Extraction, err)
			}
		}

		// A lease that ran out: another node takes the job over; the
		// first one's result is refused. Then the file changes under the
		// second: its result is refused too.
		ctx := context.Background()
		d := f.incoming(t, "Thông báo muộn", authz.Unclassified, &Content{Filename: "t.txt", MediaType: "text/plain", Data: []byte("muộn")})
		claimAt := func(worker string) claim {
			var c claim
			err := db.InTx(ctx, func(tx *store.Tx) error {
				var ok bool
				var err error
				now := f.clock.now()
				if c, ok, err = claimJob(ctx, tx, worker, now, now.Add(time.Minute)); err == nil && !ok {
					err = errors.New("nothing to claim")
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		end := func(c claim) bool {
			var held bool
			if err := db.InTx(ctx, func(tx *store.Tx) (err error) {
				held, err = endJob(ctx, tx, c, ExtractDone, f.clock.now(), SourcePlain, "", "", f.clock.now())
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return held
		}
		first := claimAt("a")
		if first.docID != d.ID {
			t.Fatalf("claimed document %d, want %d", first.docID, d.ID)
		}
		f.clock.advance(time.Minute)
		second := claimAt("b")
		if end(first) {
			t.Error("a claim whose lease ran out ended the job")
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return queueExtraction(ctx, tx, d.ID, f.clock.now()) }); err != nil {
			t.Fatal(err)
		}
		if end(second) {
			t.Error("a claim of the old file ended the job of the new one")
		}
		if third := claimAt("c"); !end(third) {
			t.Error("the claim of the new file could not end its job")
		}
	})
}

// FuzzExtractOffice pins that any bytes given as an office file either
// yield valid UTF-8 text within the limit, or an *ExtractError, never a
// panic, a hang or another error. The seeds are a DOCX, an ODT, a ZIP of
// neither, broken XML and a small zip bomb.
func FuzzExtractOffice(f *testing.F) {
	f.Add(docxOf(f, "Quyết định", "số 15/QĐ-BNG"))
	f.Add(odtOf(f, "Báo cáo <text:s/>công tác<text:tab/>năm"))
	f.Add(zipOf(f, "a.txt", "x"))
	f.Add(zipOf(f, "word/document.xml", "<w:document><w:t>x</w:p>"))
	f.Add(zipOf(f, "content.xml", strings.Repeat("<a>", 300)))
	f.Add(zipOf(f, "word/document.xml", "<w:t>"+strings.Repeat("đ", 5000)+"</w:t>"))
	f.Add([]byte("PK\x03\x04"))
	const limit = 4096
	f.Fuzz(func(t *testing.T, data []byte) {
		text, err := ExtractOffice(data, limit)
		if err != nil {
			var xe *ExtractError
			if !errors.As(err, &xe) || xe.Code == "" {
				t.Fatalf("ExtractOffice: %v, not an *ExtractError", err)
			}
			return
		}
		if len(text) > limit || !utf8.ValidString(text) {
			t.Fatalf("ExtractOffice returned %d bytes (valid UTF-8: %v), limit %d", len(text), utf8.ValidString(text), limit)
		}
	})
}
