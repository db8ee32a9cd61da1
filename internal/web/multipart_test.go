package web

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// multipartForm encodes fields in order, a field named "file:<name>"
// as a file part of size bytes.
func multipartForm(t *testing.T, fields [][2]string, fileSize int) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		if name, ok := strings.CutPrefix(f[0], "file:"); ok {
			w, err := mw.CreateFormFile(name, f[1])
			if err != nil {
				t.Fatal(err)
			}
			w.Write(bytes.Repeat([]byte("x"), fileSize))
			continue
		}
		mw.WriteField(f[0], f[1])
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), buf.Bytes()
}

// TestCSRFReadsAMultipartFormsTokenFromItsFirstPartOnly pins that the
// CSRF check no longer parses a multipart form whole (r.PostFormValue
// held up to 32 MiB of a form's files in memory, the rest in /tmp in
// plain): it reads the token from the first part, where the site's forms
// put it, and the handler streams the rest through MultipartReader,
// allocating a fraction of the file's size.
func TestCSRFReadsAMultipartFormsTokenFromItsFirstPartOnly(t *testing.T) {
	token := strings.Repeat("t", 43)
	const fileSize = 8 << 20
	var parts []string
	var read int64
	h := CSRF(testSessionCookie)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mr, err := MultipartReader(r)
		if err != nil {
			t.Error(err)
			return
		}
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			n, _ := io.Copy(io.Discard, p)
			parts, read = append(parts, p.FormName()), read+n
		}
	}))
	post := func(fields [][2]string) (*httptest.ResponseRecorder, uint64) {
		ct, body := multipartForm(t, fields, fileSize)
		r := httptest.NewRequest(http.MethodPost, "/applications/x/attachments", bytes.NewReader(body))
		r.Header.Set("Content-Type", ct)
		r.AddCookie(&http.Cookie{Name: CSRFCookie, Value: token})
		r.AddCookie(&http.Cookie{Name: testSessionCookie, Value: "s"})
		parts, read = nil, 0
		rec := httptest.NewRecorder()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		h.ServeHTTP(rec, r)
		runtime.ReadMemStats(&after)
		return rec, after.TotalAlloc - before.TotalAlloc
	}

	rec, alloc := post([][2]string{{CSRFField, token}, {"document", "paper"}, {"file:file", "scan.pdf"}})
	if rec.Code != http.StatusOK || strings.Join(parts, ",") != "document,file" || read != fileSize+int64(len("paper")) {
		t.Fatalf("a form with its token first: %d, the handler read parts %v, %d bytes; want 200, document and file whole", rec.Code, parts, read)
	}
	if alloc > 2<<20 {
		t.Errorf("a form with an %d MiB file allocated %d KiB; want it streamed, within 2 MiB", fileSize>>20, alloc>>10)
	}
	for name, fields := range map[string][][2]string{
		"the token after a field": {{"document", "paper"}, {CSRFField, token}, {"file:file", "scan.pdf"}},
		"the token after a file":  {{"file:file", "scan.pdf"}, {CSRFField, token}},
		"a forged token first":    {{CSRFField, strings.Repeat("f", 43)}, {"file:file", "scan.pdf"}},
		"the token as a file":     {{"file:" + CSRFField, token}},
		"no part at all":          {},
	} {
		if rec, _ := post(fields); rec.Code != http.StatusForbidden || parts != nil {
			t.Errorf("%s: %d, the handler read %v; want 403 before the handler", name, rec.Code, parts)
		}
	}
}

func TestLimitConcurrentAnswers503WithRetryAfterWhenFull(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	h := LimitConcurrent(2, 200*time.Millisecond)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/api/v1/dossiers", nil))
		})
	}
	<-entered
	<-entered
	rec := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/dossiers", nil))
	if waited := time.Since(start); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || waited < 200*time.Millisecond {
		t.Fatalf("a third upload while two run: %d, Retry-After %q after %v; want 503 with Retry-After after waiting 200ms",
			rec.Code, rec.Header().Get("Retry-After"), waited)
	}
	if !strings.Contains(rec.Body.String(), `"code":"busy"`) {
		t.Errorf("the 503's body %s has no code busy", rec.Body)
	}
	// One that waits gets the slot a finished one frees.
	done := make(chan int)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/dossiers", nil))
		done <- rec.Code
	}()
	time.Sleep(20 * time.Millisecond)
	release <- struct{}{}
	<-entered
	close(release)
	if code := <-done; code != http.StatusOK {
		t.Errorf("an upload that waited for a free slot = %d, want 200", code)
	}
	wg.Wait()
}
