package procedures

import (
	"bytes"
	"net/http"
	"testing"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// FuzzUploadPath sends a clerk's multipart submission whose file part
// (name, declared type, content, document key) the fuzzer makes up, or a
// body made up whole. Whatever arrives, the answer is never a 5xx, a
// refusal stores nothing, and every file stored is a PDF, JPEG or PNG
// from its first byte to its last, with the media type it was stored as.
func FuzzUploadPath(f *testing.F) {
	a := newAPIFixture(f, storetest.MustOpen(f, store.SQLite))
	ct, valid := apiMultipart(f, apiDossierJSON(f, apiClerkEntry()), apiPart{name: "attachment.paper", filename: "paper.pdf", content: pdf})
	boundary := ct[len("multipart/form-data; boundary="):]
	f.Add("paper.pdf", "application/pdf", pdf, "paper", []byte(nil))
	f.Add("scan.png", "", pngFile, "identity_copy", []byte(nil))
	f.Add("photo.jpg", "image/jpeg", jpegFile, "paper_copy", []byte(nil))
	f.Add("paper.pdf", "application/pdf", []byte("<html><script>alert(1)</script></html>"), "paper", []byte(nil))
	f.Add("photo.jpg", "", append(bytes.Clone(jpegFile), "PK\x03\x04hidden"...), "paper", []byte(nil))
	f.Add("", "", []byte{}, "paper", []byte(nil))
	f.Add(`..\..\Windows\x.pdf`, "text/plain", []byte("%PDF-1.4\n%%EOF"), "translation", []byte(nil))
	f.Add("a\u202egpj.exe", "image/png", pngFile[:30], "nonsense", []byte(nil))
	f.Add("", "", []byte(nil), "", valid.Bytes())
	f.Add("", "", []byte(nil), "", valid.Bytes()[:valid.Len()-10])
	f.Fuzz(func(t *testing.T, filename, declared string, content []byte, key string, raw []byte) {
		contentType, body := apiMultipart(t, apiDossierJSON(t, apiClerkEntry()),
			apiPart{name: "attachment." + key, filename: filename, contentType: declared, content: content})
		if len(raw) > 0 {
			contentType, body = "multipart/form-data; boundary="+boundary, bytes.NewBuffer(raw)
		}
		stored := a.count(t, "dossier_attachments")
		rec := a.call(t, a.clerk, "POST", "/api/v1/dossiers", contentType, body)
		switch {
		case rec.Code >= http.StatusInternalServerError:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		case rec.Code != http.StatusCreated:
			apiProblem(t, rec)
			if n := a.count(t, "dossier_attachments"); n != stored {
				t.Fatalf("a refused submission (%d) stored %d files", rec.Code, n-stored)
			}
			return
		}
		d := apiDecode[Dossier](t, rec)
		for _, att := range d.Attachments {
			_, got, err := a.svc.Attachment(a.as(a.clerk), a.clerk, d.Code, att.ID)
			if err != nil {
				t.Fatal(err)
			}
			kind, ok := sniff(got)
			if !ok || kind.mediaType != att.MediaType || !kind.tail(got[max(0, len(got)-tailSize):]) || int64(len(got)) != att.Size {
				t.Fatalf("stored %q as %s (%d bytes), which is not a whole file of that type", got, att.MediaType, att.Size)
			}
		}
	})
}
