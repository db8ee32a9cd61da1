package app

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

// TestRecordsUploadsHaveTheirOwnBodyLimit pins issue 18's upload limit
// as the app wires it: a document's file larger than the general body
// limit (--max-body) is taken on POST /api/v1/documents up to
// --max-document-bytes, a larger one is a 413 problem saying the limit,
// and every other route keeps the general limit.
func TestRecordsUploadsHaveTheirOwnBodyLimit(t *testing.T) {
	cfg := testConfig(t, true)
	cfg.MaxDocumentBytes = 3 << 20
	a, base := startDemo(t, cfg)
	token := mustLogin(t, base, "consular.clerk", a.cfg.DemoPassword, "")
	post := func(path string, file []byte) (int, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="metadata"`)
		w, _ := mw.CreatePart(h)
		json.NewEncoder(w).Encode(map[string]any{"direction": "incoming", "type": "cong_van", "sender": "Bộ Tư pháp",
			"subject": "Về việc góp ý dự thảo điều ước quốc tế", "classification": "none", "channel": "paper"})
		h = textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="file"; filename="scan.pdf"`)
		h.Set("Content-Type", "application/pdf")
		w, _ = mw.CreatePart(h)
		w.Write(file)
		mw.Close()
		req, _ := http.NewRequest(http.MethodPost, base+path, &b)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	pdf := func(size int) []byte {
		b := append([]byte("%PDF-1.4\n%"), bytes.Repeat([]byte("x"), size)...)
		return append(b, "\n%%EOF\n"...)
	}
	if code, body := post("/api/v1/documents", pdf(2<<20)); code != http.StatusCreated {
		t.Fatalf("a 2 MiB scan = %d %s, want 201", code, body)
	}
	if code, body := post("/api/v1/documents", pdf(4<<20)); code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "3 MiB") {
		t.Errorf("a 4 MiB scan with --max-document-bytes 3 MiB = %d %s, want 413 naming the limit", code, body)
	}
	if code, _ := post("/api/v1/documents/1/actions", pdf(2<<20)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB to another route = %d, want the general limit's 413", code)
	}
}
