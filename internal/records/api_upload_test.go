package records

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// multipartCreate is a POST /api/v1/documents body: a metadata part (if
// meta is not nil) and a file part (if name is not empty).
func multipartCreate(t testing.TB, meta any, name, contentType string, data []byte) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if meta != nil {
		raw, err := json.Marshal(meta)
		if err != nil {
			t.Fatal(err)
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="metadata"`)
		h.Set("Content-Type", "application/json")
		w, _ := mw.CreatePart(h)
		w.Write(raw)
	}
	if name != "" {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
		h.Set("Content-Type", contentType)
		w, _ := mw.CreatePart(h)
		w.Write(data)
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

// TestAPICreatesFromMultipart pins issue 18's "multipart with the file"
// on POST /api/v1/documents: a metadata part and a file part register a
// document with its file, checked by its bytes; a lying file or a broken
// body is a 400 problem, an oversized file a 413 problem, and nothing is
// stored by a refusal. The JSON route checks its base64 file the same
// way.
func TestAPICreatesFromMultipart(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		h, err := NewHandler(webtest.Shell(t, Texts()), HandlerOptions{Service: f.svc, MaxUpload: 1024})
		if err != nil {
			t.Fatal(err)
		}
		rt := web.NewRouter()
		h.Register(rt)
		post := func(body *bytes.Buffer, contentType string) *httptest.ResponseRecorder {
			r := httptest.NewRequest(http.MethodPost, "/api/v1/documents", body)
			r.Header.Set("Content-Type", contentType)
			r = r.WithContext(web.WithPrincipal(f.as(f.clerk), web.Principal{Subject: f.clerk, Stage: "full", Bearer: true}))
			w := httptest.NewRecorder()
			rt.ServeHTTP(w, r)
			return w
		}
		meta := map[string]any{"direction": "incoming", "type": "cong_van", "sender": "Bộ Công an", "number": "318/BCA-A08",
			"subject": "Về việc phối hợp cấp hộ chiếu ngoại giao", "classification": "none", "channel": "email"}
		w := post(multipartCreate(t, meta, "cv.pdf", "application/pdf", testPDF()))
		if w.Code != http.StatusCreated {
			t.Fatalf("multipart create = %d %s", w.Code, w.Body)
		}
		var d Document
		json.Unmarshal(w.Body.Bytes(), &d)
		info, data, err := f.svc.ContentOf(f.as(f.clerk), f.clerk, d.ID)
		if err != nil || !bytes.Equal(data, testPDF()) || info.MediaType != MediaPDF || info.Filename != "cv.pdf" {
			t.Errorf("stored file %+v %q %v", info, data, err)
		}
		if c, _ := f.svc.ChannelOf(f.as(f.clerk), d.ID); c != ChannelEmail {
			t.Errorf("channel %q, want email", c)
		}

		for _, c := range []struct {
			why    string
			status int
			body   func() (*bytes.Buffer, string)
			says   string
		}{
			{"a PNG declared as PDF", 400, func() (*bytes.Buffer, string) { return multipartCreate(t, meta, "a.pdf", "application/pdf", testPNG()) },
				"declared as application/pdf but its content is PNG"},
			{"a file over the limit", 413, func() (*bytes.Buffer, string) {
				return multipartCreate(t, meta, "a.pdf", "application/pdf", append(testPDF(), make([]byte, 2048)...))
			}, "over 1 KiB"},
			{"no metadata", 400, func() (*bytes.Buffer, string) { return multipartCreate(t, nil, "a.pdf", "application/pdf", testPDF()) }, "metadata"},
			{"content inside the metadata", 400, func() (*bytes.Buffer, string) {
				m := map[string]any{"direction": "incoming", "type": "cong_van", "sender": "x", "subject": "x",
					"content": map[string]any{"filename": "a.pdf", "media_type": "application/pdf", "data": testPDF()}}
				return multipartCreate(t, m, "", "", nil)
			}, "file"},
			{"a truncated body", 400, func() (*bytes.Buffer, string) {
				b, ct := multipartCreate(t, meta, "a.pdf", "application/pdf", testPDF())
				return bytes.NewBuffer(b.Bytes()[:b.Len()-20]), ct
			}, "could not be read"},
			{"a lying file in JSON", 400, func() (*bytes.Buffer, string) {
				m := map[string]any{"direction": "incoming", "type": "cong_van", "sender": "x", "subject": "x",
					"content": map[string]any{"filename": "a.pdf", "media_type": "application/pdf", "data": testJPEG()}}
				raw, _ := json.Marshal(m)
				return bytes.NewBuffer(raw), "application/json"
			}, "its content is JPEG"},
			{"a form", 400, func() (*bytes.Buffer, string) {
				return bytes.NewBufferString("a=b"), "application/x-www-form-urlencoded"
			}, "multipart/form-data"},
		} {
			w := post(c.body())
			if w.Code != c.status || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json") || !strings.Contains(w.Body.String(), c.says) {
				t.Errorf("%s: %d %s; want a %d problem saying %q", c.why, w.Code, w.Body, c.status, c.says)
			}
		}
		if n, _ := countDocuments(f.as(f.clerk), db, "1=1", nil); n != 1 {
			t.Errorf("%d documents, want only the one accepted", n)
		}
	})
}

// TestIsUploadNamesTheRecordsUploadRoutes pins the routes the app lifts
// its general body limit for.
func TestIsUploadNamesTheRecordsUploadRoutes(t *testing.T) {
	for path, want := range map[string]bool{"/api/v1/documents": true, "/console/documents/incoming/new": true,
		"/api/v1/documents/1/actions": false, "/console/documents/1/actions": false} {
		if got := IsUpload(httptest.NewRequest(http.MethodPost, path, nil)); got != want {
			t.Errorf("IsUpload(POST %s) = %v, want %v", path, got, want)
		}
	}
	if IsUpload(httptest.NewRequest(http.MethodGet, "/api/v1/documents", nil)) {
		t.Error("a search is an upload")
	}
}

// TestAPISearchFiltersAsThePageDoes pins the API's search filters by
// urgency, level and unit, and that a level above the caller's clearance
// finds nothing (rather than telling such documents exist).
func TestAPISearchFiltersAsThePageDoes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		a.incoming(t, "Công điện khẩn", authz.Unclassified, nil)
		a.incoming(t, "Công điện tối mật", authz.Secret, nil)
		for q, want := range map[string]map[authz.Subject]int{
			"level=secret":                           {a.clerk: 1, a.lowOfficer: 0},
			"urgency=urgent":                         {a.clerk: 2, a.lowOfficer: 1},
			"unit=" + itoa(a.units["000.00.03.G12"]): {a.clerk: 2, a.lowOfficer: 1},
			"unit=" + itoa(a.units["000.00.01.G12"]): {a.clerk: 0},
		} {
			for sub, n := range want {
				rec := a.call(t, sub, "GET", "/api/v1/documents?"+q, nil)
				if page := decode[apiSearchPage](t, rec); rec.Code != 200 || page.Total != n || len(page.Items) != n {
					t.Errorf("%s as %d: %d %+v, want %d", q, sub.ID, rec.Code, page, n)
				}
			}
		}
		if rec := a.call(t, a.clerk, "GET", "/api/v1/documents?urgency=soon", nil); rec.Code != http.StatusBadRequest {
			t.Errorf("a bad urgency = %d, want 400", rec.Code)
		}
	})
}
