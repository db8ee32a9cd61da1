package procedures

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/identity"
	"chancery/internal/payment"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// apiFixture is the API over a fixture's service, with the payment
// gateway's callback secret.
type apiFixture struct {
	*fixture
	h      http.Handler
	secret []byte
}

func newAPIFixture(t testing.TB, db *store.DB) *apiFixture {
	t.Helper()
	f := newFixture(t, db)
	secret := payment.NewSecret()
	h, err := NewHandler(webtest.Shell(t, Texts(), identity.Texts()), HandlerOptions{Service: f.svc, PaymentSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	rt := web.NewRouter()
	h.Register(rt)
	return &apiFixture{fixture: f, h: rt, secret: secret}
}

// apiAnonymous is the subject of a request nobody signed.
var apiAnonymous authz.Subject

// call sends a request as sub, signed in with a bearer token as the app's
// middleware would put it, or apiAnonymously for the zero subject.
func (a *apiFixture) call(t testing.TB, sub authz.Subject, method, path, contentType string, body io.Reader) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	ctx := context.Background()
	if sub.Authenticated() {
		ctx = web.WithPrincipal(a.as(sub), web.Principal{Subject: sub, Stage: "full", Bearer: true})
	}
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req.WithContext(ctx))
	return rec
}

// callJSON sends v as a JSON body.
func (a *apiFixture) callJSON(t testing.TB, sub authz.Subject, method, path string, v any) *httptest.ResponseRecorder {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return a.call(t, sub, method, path, "application/json", bytes.NewReader(b))
}

// apiPart is one part of a multipart body.
type apiPart struct {
	name, filename, contentType string
	content                     []byte
}

// apiMultipart encodes parts as multipart/form-data.
func apiMultipart(t testing.TB, parts ...apiPart) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.filename != "" {
			disp += fmt.Sprintf(`; filename=%q`, p.filename)
		}
		h.Set("Content-Disposition", disp)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.content)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), &buf
}

// apiDossierJSON is the "dossier" part of a submission.
func apiDossierJSON(t testing.TB, v any) apiPart {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return apiPart{name: "dossier", contentType: "application/json", content: b}
}

// apiClerkEntry is a clerk's in-person legalization dossier.
func apiClerkEntry() map[string]any {
	return map[string]any{"procedure_code": "1.900001", "agency_code": consularCode, "channel": 1, "form": legalizationForm()}
}

// apiPDF returns a valid PDF of exactly n bytes.
func apiPDF(n int) []byte {
	head, tail := "%PDF-1.7\n", "\n%%EOF\n"
	body := bytes.Repeat([]byte("%"), n-len(head)-len(tail))
	return append(append([]byte(head), body...), tail...)
}

func apiDecode[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("response %d is not the JSON expected: %v\n%s", rec.Code, err, rec.Body)
	}
	return v
}

// apiProblem decodes a problem document, failing if rec is not one.
func apiProblem(t testing.TB, rec *httptest.ResponseRecorder) web.ProblemDetails {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d with Content-Type %q, want a problem document: %s", rec.Code, ct, rec.Body)
	}
	return apiDecode[web.ProblemDetails](t, rec)
}

func TestAPICatalogueListsSearchesAndDescribesProcedures(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		all := len(a.svc.Catalogue().Procedures())
		tests := []struct {
			query string
			want  func(ProcedureSummary) bool
			min   int
		}{
			{"", func(ProcedureSummary) bool { return true }, all},
			{"q=ho+chieu", func(p ProcedureSummary) bool {
				return strings.Contains(p.NameVI, "hộ chiếu") || strings.Contains(p.NameVI, "Hộ chiếu")
			}, 3},
			{"field=" + a.svc.Catalogue().Fields()[0].Code, func(p ProcedureSummary) bool { return p.Field == a.svc.Catalogue().Fields()[0] }, 1},
			{"unit=" + url.QueryEscape(parisCode), func(p ProcedureSummary) bool {
				q, _ := a.svc.Catalogue().Procedure(p.Code)
				return q.AtMissions
			}, 1},
		}
		for _, tt := range tests {
			rec := a.call(t, apiAnonymous, "GET", "/api/v1/procedures?"+tt.query, "", nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: %d %s", tt.query, rec.Code, rec.Body)
			}
			page := apiDecode[web.List[ProcedureSummary]](t, rec)
			if len(page.Items) < tt.min || (tt.query == "" && len(page.Items) != all) {
				t.Errorf("%q lists %d procedures, want at least %d", tt.query, len(page.Items), tt.min)
			}
			for _, p := range page.Items {
				if !tt.want(p) || p.TimeLimit < 1 || p.Online == "" {
					t.Errorf("%q lists %+v", tt.query, p)
				}
			}
		}
		for _, bad := range []string{"field=astrology", "unit=999.99.99.Z99", "q=" + url.QueryEscape("a\x00b")} {
			if rec := a.call(t, apiAnonymous, "GET", "/api/v1/procedures?"+bad, "", nil); rec.Code != http.StatusBadRequest {
				t.Errorf("%s = %d, want 400", bad, rec.Code)
			}
		}

		rec := a.call(t, apiAnonymous, "GET", "/api/v1/procedures/1.900001", "", nil)
		p, err := ParseProcedure(rec.Body.Bytes())
		if rec.Code != http.StatusOK || err != nil || p.Code != "1.900001" || len(p.Form.Fields()) == 0 {
			t.Errorf("GET a procedure = %d, %v: it must parse as its catalogue file, with its form", rec.Code, err)
		}
		if rec := a.call(t, apiAnonymous, "GET", "/api/v1/procedures/9.999999", "", nil); rec.Code != http.StatusNotFound {
			t.Errorf("an unknown procedure = %d, want 404", rec.Code)
		}
	})
}

func TestAPIMultipartSubmissionStoresA100KiBPDF(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		file := apiPDF(100 << 10)
		ct, body := apiMultipart(t, apiDossierJSON(t, apiClerkEntry()),
			apiPart{name: "attachment.paper", filename: `C:\scans\Bằng tốt nghiệp.pdf`, contentType: "application/octet-stream", content: file})
		rec := a.call(t, a.clerk, "POST", "/api/v1/dossiers", ct, body)
		if rec.Code != http.StatusCreated {
			t.Fatalf("submission = %d %s", rec.Code, rec.Body)
		}
		d := apiDecode[Dossier](t, rec)
		if rec.Header().Get("Location") != "/api/v1/dossiers/"+d.Code || d.Status != StatusReceived || d.Channel != ChannelInPerson || len(d.Attachments) != 1 {
			t.Fatalf("dossier %s at %q: status %d channel %d, %d attachments", d.Code, rec.Header().Get("Location"), d.Status, d.Channel, len(d.Attachments))
		}
		att := d.Attachments[0]
		if att.Filename != "Bằng tốt nghiệp.pdf" || att.MediaType != MediaPDF || att.Size != int64(len(file)) {
			t.Errorf("attachment = %+v", att)
		}
		rec = a.call(t, a.officer, "GET", fmt.Sprintf("/api/v1/dossiers/%s/attachments/%d", d.Code, att.ID), "", nil)
		if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), file) {
			t.Fatalf("download = %d, %d bytes", rec.Code, rec.Body.Len())
		}
		for h, want := range map[string]string{"Content-Type": MediaPDF, "X-Content-Type-Options": "nosniff",
			"Content-Disposition": `attachment; filename*=utf-8''B%E1%BA%B1ng%20t%E1%BB%91t%20nghi%E1%BB%87p.pdf`} {
			if got := rec.Header().Get(h); got != want {
				t.Errorf("download %s = %q, want %q", h, got, want)
			}
		}
		if rec := a.call(t, a.far, "GET", fmt.Sprintf("/api/v1/dossiers/%s/attachments/%d", d.Code, att.ID), "", nil); rec.Code != http.StatusNotFound {
			t.Errorf("another unit downloads the file: %d", rec.Code)
		}

		// A citizen submits online; the dossier is theirs to read.
		entry := map[string]any{"procedure_code": "1.900014", "agency_code": consularCode, "form": protectionForm()}
		ct, body = apiMultipart(t, apiDossierJSON(t, entry), apiPart{name: "attachment.identity", filename: "cccd.png", content: pngFile})
		rec = a.call(t, a.citizen, "POST", "/api/v1/dossiers", ct, body)
		if rec.Code != http.StatusCreated {
			t.Fatalf("a citizen's submission = %d %s", rec.Code, rec.Body)
		}
		mine := apiDecode[Dossier](t, rec)
		if mine.Status != StatusRegistered || mine.Channel != ChannelOnline {
			t.Errorf("a citizen's dossier: status %d channel %d", mine.Status, mine.Channel)
		}
		reads := []struct {
			who  authz.Subject
			path string
			want int
		}{
			{a.citizen, "/api/v1/dossiers/" + mine.Code, http.StatusOK},
			{a.clerk, "/api/v1/dossiers/" + mine.Code, http.StatusOK},
			{a.other, "/api/v1/dossiers/" + mine.Code, http.StatusNotFound},
			{a.far, "/api/v1/dossiers/" + mine.Code, http.StatusNotFound},
			{apiAnonymous, "/api/v1/dossiers/" + mine.Code, http.StatusUnauthorized},
			{apiAnonymous, "/api/v1/dossiers/" + mine.Code + "/status", http.StatusNotFound}, // no tracking PIN
			{apiAnonymous, "/api/v1/dossiers/not-a-code/status", http.StatusNotFound},
			{a.citizen, "/api/v1/dossiers/" + d.Code, http.StatusNotFound},
		}
		for _, r := range reads {
			if rec := a.call(t, r.who, "GET", r.path, "", nil); rec.Code != r.want {
				t.Errorf("GET %s as %v = %d, want %d", r.path, r.who.Kind, rec.Code, r.want)
			}
		}
		tr := apiDecode[Tracking](t, a.track(t, mine.Code, mine.TrackingPIN, "192.0.2.1"))
		if tr.Code != mine.Code || tr.Status != StatusRegistered {
			t.Errorf("tracking = %+v", tr)
		}
	})
}

// protectionForm is a valid form of procedure 1.900014 (citizen
// protection), which charges no fee.
func protectionForm() map[string]any {
	return map[string]any{
		"requester": map[string]any{"full_name": "Nguyễn Thị Lan", "phone": "+33 6 12 34 56 78", "email": "lan@example.vn"},
		"country":   "Pháp", "location": "Paris", "situation": "lost_documents",
		"description": "Mất hộ chiếu trên tàu điện ngầm.", "consent": true,
	}
}

func TestAPISubmissionRefusalsChangeNothing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		bad := apiClerkEntry()
		form := legalizationForm()
		delete(form, "document_name")
		form["copies"] = "many"
		bad["form"] = form
		unknown := apiClerkEntry()
		unknown["procedure_code"] = "9.999999"
		extra := apiClerkEntry()
		extra["priority"] = "high"
		html := []byte("<html><script>alert(1)</script></html>")
		tests := []struct {
			name   string
			sub    authz.Subject
			parts  []apiPart
			want   int
			fields []string // the problem's errors must name these
		}{
			{"an invalid form names each field", a.clerk, []apiPart{apiDossierJSON(t, bad)}, http.StatusBadRequest, []string{"/form/document_name", "/form/copies"}},
			{"a forged file type", a.clerk, []apiPart{apiDossierJSON(t, apiClerkEntry()), {name: "attachment.paper", filename: "paper.pdf", contentType: MediaPDF, content: html}}, http.StatusBadRequest, []string{"attachment.paper"}},
			{"a PNG named as a PDF", a.clerk, []apiPart{apiDossierJSON(t, apiClerkEntry()), {name: "attachment.paper", filename: "paper.pdf", content: pngFile}}, http.StatusBadRequest, []string{"attachment.paper"}},
			{"an oversized upload", a.clerk, []apiPart{apiDossierJSON(t, apiClerkEntry()), {name: "attachment.paper", filename: "big.pdf", content: apiPDF(MaxAttachmentBytes + 1)}}, http.StatusRequestEntityTooLarge, []string{"attachment.paper"}},
			{"an unknown procedure", a.clerk, []apiPart{apiDossierJSON(t, unknown)}, http.StatusNotFound, nil},
			{"a document the procedure does not list", a.clerk, []apiPart{apiDossierJSON(t, apiClerkEntry()), {name: "attachment.selfie", filename: "me.png", content: pngFile}}, http.StatusBadRequest, []string{"document"}},
			{"an unknown field", a.clerk, []apiPart{apiDossierJSON(t, extra)}, http.StatusBadRequest, []string{"priority"}},
			{"no dossier part", a.clerk, []apiPart{{name: "attachment.paper", filename: "a.pdf", content: pdf}}, http.StatusBadRequest, []string{"dossier"}},
			{"an unexpected part", a.clerk, []apiPart{apiDossierJSON(t, apiClerkEntry()), {name: "comment", content: []byte("hi")}}, http.StatusBadRequest, []string{"comment"}},
			{"an officer enters a dossier", a.officer, []apiPart{apiDossierJSON(t, apiClerkEntry())}, http.StatusForbidden, nil},
			{"apiAnonymous", apiAnonymous, []apiPart{apiDossierJSON(t, apiClerkEntry())}, http.StatusUnauthorized, nil},
		}
		for _, tt := range tests {
			ct, body := apiMultipart(t, tt.parts...)
			rec := a.call(t, tt.sub, "POST", "/api/v1/dossiers", ct, body)
			if rec.Code != tt.want {
				t.Errorf("%s: %d, want %d: %s", tt.name, rec.Code, tt.want, rec.Body)
				continue
			}
			p := apiProblem(t, rec)
			for _, f := range tt.fields {
				if p.Errors[f] == "" {
					t.Errorf("%s: errors %v do not name %s", tt.name, p.Errors, f)
				}
			}
		}
		// Refused before reading: a body declared over the limit, and one
		// in neither of the two shapes.
		req := httptest.NewRequest("POST", "/api/v1/dossiers", strings.NewReader("x"))
		req.ContentLength = MaxSubmissionBytes + 1
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		req = req.WithContext(web.WithPrincipal(a.as(a.clerk), web.Principal{Subject: a.clerk, Bearer: true}))
		rec := httptest.NewRecorder()
		a.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("a body declared over %d bytes = %d, want 413", MaxSubmissionBytes, rec.Code)
		}
		if rec := a.call(t, a.clerk, "POST", "/api/v1/dossiers", "text/plain", strings.NewReader("dossier")); rec.Code != http.StatusBadRequest {
			t.Errorf("a text body = %d, want 400", rec.Code)
		}
		// A body cut short, in the dossier's JSON or in a file, is the
		// client's failure.
		ct, whole := apiMultipart(t, apiDossierJSON(t, apiClerkEntry()), apiPart{name: "attachment.paper", filename: "paper.pdf", content: apiPDF(50 << 10)})
		for _, n := range []int{100, whole.Len() / 2, whole.Len() - 10} {
			if rec := a.call(t, a.clerk, "POST", "/api/v1/dossiers", ct, bytes.NewReader(whole.Bytes()[:n])); rec.Code != http.StatusBadRequest {
				t.Errorf("a body cut at %d of %d bytes = %d, want 400: %s", n, whole.Len(), rec.Code, rec.Body)
			}
		}
		if n, m, b := a.count(t, "dossiers"), a.count(t, "dossier_attachments"), a.blobCount(t); n != 0 || m != 0 || b != 0 {
			t.Errorf("refused submissions left %d dossiers, %d attachments and %d stored files", n, m, b)
		}
	})
}

// draftFor makes a citizen's application of 1.900001 through the API and
// returns it.
func (a *apiFixture) draftFor(t testing.TB, sub authz.Subject) Draft {
	t.Helper()
	rec := a.callJSON(t, sub, "POST", "/api/v1/drafts", map[string]any{"procedure_code": "1.900001", "agency_code": consularCode, "form": legalizationForm()})
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST /api/v1/drafts = %d %s", rec.Code, rec.Body)
	}
	d := apiDecode[Draft](t, rec)
	if !payment.ValidID(d.ID) {
		t.Fatalf("draft id %q is not an order id the payment gateway takes", d.ID)
	}
	return d
}

// callback sends the gateway's callback for c, signed with secret at the
// fixture's time.
func (a *apiFixture) callback(t testing.TB, c payment.Callback, sign func(body []byte) string) *httptest.ResponseRecorder {
	t.Helper()
	body, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/payments/v1/callback", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if h := sign(body); h != "" {
		req.Header.Set(payment.SignatureHeader, h)
	}
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	return rec
}

func TestAPIDraftIsPaidThroughTheSignedCallbackAndSubmitted(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		d := a.draftFor(t, a.citizen)
		if d.FeeAmount == 0 || len(d.Attachments) != 0 {
			t.Fatalf("draft = %+v", d)
		}
		ct, body := apiMultipart(t, apiPart{name: "document_key", content: []byte("paper")}, apiPart{name: "file", filename: "paper.pdf", content: pdf})
		rec := a.call(t, a.citizen, "POST", "/api/v1/drafts/"+d.ID+"/attachments", ct, body)
		if rec.Code != http.StatusCreated {
			t.Fatalf("attach = %d %s", rec.Code, rec.Body)
		}
		att := apiDecode[Attachment](t, rec)
		for _, tt := range []struct {
			name  string
			parts []apiPart
			want  int
		}{
			{"a forged file", []apiPart{{name: "file", filename: "x.pdf", content: []byte("MZ\x90\x00")}, {name: "document_key", content: []byte("paper")}}, http.StatusBadRequest},
			{"no document key", []apiPart{{name: "file", filename: "x.pdf", content: pdf}}, http.StatusBadRequest},
			{"an unlisted document", []apiPart{{name: "file", filename: "x.pdf", content: pdf}, {name: "document_key", content: []byte("selfie")}}, http.StatusBadRequest},
		} {
			ct, body := apiMultipart(t, tt.parts...)
			if rec := a.call(t, a.citizen, "POST", "/api/v1/drafts/"+d.ID+"/attachments", ct, body); rec.Code != tt.want {
				t.Errorf("attach %s = %d, want %d: %s", tt.name, rec.Code, tt.want, rec.Body)
			}
		}
		ct, body = apiMultipart(t, apiPart{name: "document_key", content: []byte("paper")}, apiPart{name: "file", filename: "x.pdf", content: pdf})
		if rec := a.call(t, a.other, "POST", "/api/v1/drafts/"+d.ID+"/attachments", ct, body); rec.Code != http.StatusNotFound {
			t.Errorf("another citizen attaches to the draft: %d", rec.Code)
		}
		got := apiDecode[Draft](t, a.call(t, a.citizen, "GET", "/api/v1/drafts/"+d.ID, "", nil))
		if len(got.Attachments) != 1 || got.Attachments[0].ID != att.ID {
			t.Errorf("the draft holds %+v", got.Attachments)
		}
		for _, c := range []struct {
			sub  authz.Subject
			want int
		}{{a.other, http.StatusNotFound}, {a.clerk, http.StatusForbidden}, {apiAnonymous, http.StatusUnauthorized}} {
			if rec := a.call(t, c.sub, "GET", "/api/v1/drafts/"+d.ID, "", nil); rec.Code != c.want {
				t.Errorf("GET the draft as %v = %d, want %d", c.sub.Kind, rec.Code, c.want)
			}
		}
		bad := legalizationForm()
		bad["issue_date"] = "yesterday"
		rec = a.callJSON(t, a.citizen, "POST", "/api/v1/drafts", map[string]any{"procedure_code": "1.900001", "agency_code": consularCode, "form": bad})
		if rec.Code != http.StatusBadRequest || apiProblem(t, rec).Errors["/form/issue_date"] == "" {
			t.Errorf("a draft with a bad date = %d %s", rec.Code, rec.Body)
		}

		submit := map[string]string{"draft": d.ID}
		if rec := a.callJSON(t, a.citizen, "POST", "/api/v1/dossiers", submit); rec.Code != http.StatusConflict {
			t.Fatalf("submitting before paying = %d, want 409: %s", rec.Code, rec.Body)
		}
		paid := payment.Callback{TransactionID: "TX-1", OrderID: d.ID, Amount: d.FeeAmount, Currency: d.FeeCurrency, Status: payment.StatusPaid, PaidAt: a.clock.Now()}
		genuine := func(body []byte) string { return payment.Sign(a.secret, body, a.clock.Now()) }
		if rec := a.callback(t, paid, genuine); rec.Code != http.StatusOK || apiDecode[map[string]bool](t, rec)["recorded"] != true {
			t.Fatalf("the payment callback = %d %s", rec.Code, rec.Body)
		}
		before := apiDecode[Draft](t, a.call(t, a.citizen, "GET", "/api/v1/drafts/"+d.ID, "", nil))
		replay := paid
		replay.PaidAt = paid.PaidAt.Add(time.Minute)
		refusals := []struct {
			name string
			c    payment.Callback
			sign func([]byte) string
			want int
		}{
			{"a replayed callback", replay, genuine, http.StatusConflict},
			{"a bad signature", paid, func(body []byte) string { return payment.Sign(payment.NewSecret(), body, a.clock.Now()) }, http.StatusForbidden},
			{"no signature", paid, func([]byte) string { return "" }, http.StatusBadRequest},
			{"a stale signature", paid, func(body []byte) string { return payment.Sign(a.secret, body, a.clock.Now().Add(-time.Hour)) }, http.StatusForbidden},
			{"an unknown order", payment.Callback{TransactionID: "TX-2", OrderID: "nothing", Amount: 1, Currency: payment.VND, Status: payment.StatusPaid, PaidAt: a.clock.Now()}, genuine, http.StatusNotFound},
		}
		for _, tt := range refusals {
			if rec := a.callback(t, tt.c, tt.sign); rec.Code != tt.want {
				t.Errorf("%s = %d, want %d: %s", tt.name, rec.Code, tt.want, rec.Body)
			}
		}
		after := apiDecode[Draft](t, a.call(t, a.citizen, "GET", "/api/v1/drafts/"+d.ID, "", nil))
		if !after.PaidAt.Equal(before.PaidAt) || a.count(t, "procedure_payments") != 1 {
			t.Errorf("refused callbacks changed the payment: paid at %v → %v, %d payments", before.PaidAt, after.PaidAt, a.count(t, "procedure_payments"))
		}
		cancelled := payment.Callback{TransactionID: "TX-3", OrderID: d.ID, Amount: d.FeeAmount, Currency: d.FeeCurrency, Status: payment.StatusCancelled, PaidAt: a.clock.Now()}
		if rec := a.callback(t, cancelled, genuine); rec.Code != http.StatusOK || apiDecode[map[string]bool](t, rec)["recorded"] != false {
			t.Errorf("a cancellation = %d %s", rec.Code, rec.Body)
		}

		rec = a.callJSON(t, a.citizen, "POST", "/api/v1/dossiers", submit)
		if rec.Code != http.StatusCreated {
			t.Fatalf("submitting the paid draft = %d %s", rec.Code, rec.Body)
		}
		ds := apiDecode[Dossier](t, rec)
		if !ds.Paid || !ds.PaidOnline || ds.Status != StatusRegistered || len(ds.Attachments) != 1 {
			t.Errorf("the submitted draft: paid %v online %v status %d, %d attachments", ds.Paid, ds.PaidOnline, ds.Status, len(ds.Attachments))
		}
		if rec := a.callJSON(t, a.citizen, "POST", "/api/v1/dossiers", submit); rec.Code != http.StatusNotFound {
			t.Errorf("submitting the draft again = %d, want 404", rec.Code)
		}
		if rec := a.callJSON(t, a.citizen, "POST", "/api/v1/dossiers", map[string]string{}); rec.Code != http.StatusBadRequest {
			t.Errorf("submitting no draft = %d, want 400", rec.Code)
		}
	})
}

func TestAPIPaymentCallbackWithoutSecretIsUnavailable(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		h, err := NewHandler(webtest.Shell(t, Texts(), identity.Texts()), HandlerOptions{Service: f.svc})
		if err != nil {
			t.Fatal(err)
		}
		rt := web.NewRouter()
		h.Register(rt)
		rec := httptest.NewRecorder()
		rt.ServeHTTP(rec, httptest.NewRequest("POST", "/payments/v1/callback", strings.NewReader("{}")))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("a callback to a node without a secret = %d, want 503 (the gateway retries)", rec.Code)
		}
	})
}

func TestAPIActionsFollowTheLifecycle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		d := a.submitOnline(t)
		path := "/api/v1/dossiers/" + d.Code + "/actions"
		steps := []struct {
			name string
			sub  authz.Subject
			body string
			want int
		}{
			{"receive", a.clerk, `{"action":"receive"}`, http.StatusOK},
			{"a clerk may not approve", a.clerk, `{"action":"approve"}`, http.StatusForbidden},
			{"a request for documents needs a reason", a.officer, `{"action":"request-documents"}`, http.StatusBadRequest},
			{"request documents", a.officer, `{"action":"request-documents","note":"Thiếu bản sao hộ chiếu"}`, http.StatusOK},
			{"supplement", a.clerk, `{"action":"supplement"}`, http.StatusOK},
			{"a second request for documents", a.officer, `{"action":"request-documents","note":"again"}`, http.StatusConflict},
			{"return before completion", a.clerk, `{"action":"return-result"}`, http.StatusConflict},
			{"a stale version", a.officer, `{"action":"appraise","version":1}`, http.StatusConflict},
			{"an unknown action", a.officer, `{"action":"teleport"}`, http.StatusBadRequest},
			{"no action", a.officer, `{"note":"x"}`, http.StatusBadRequest},
			{"an unknown field", a.officer, `{"action":"appraise","urgent":true}`, http.StatusBadRequest},
			{"malformed JSON", a.officer, `{"action":`, http.StatusBadRequest},
			{"another unit", a.far, `{"action":"appraise"}`, http.StatusNotFound},
			{"another citizen", a.other, `{"action":"request-withdrawal"}`, http.StatusNotFound},
			{"apiAnonymous", apiAnonymous, `{"action":"appraise"}`, http.StatusUnauthorized},
		}
		version := 0
		for _, s := range steps {
			rec := a.call(t, s.sub, "POST", path, "application/json", strings.NewReader(s.body))
			if rec.Code != s.want {
				t.Errorf("%s = %d, want %d: %s", s.name, rec.Code, s.want, rec.Body)
				continue
			}
			if rec.Code == http.StatusOK {
				got := apiDecode[Dossier](t, rec)
				if got.Version <= version || len(got.History) < 2 || got.Form["document_name"] == nil {
					t.Errorf("%s answered version %d (was %d), %d history entries, form %v", s.name, got.Version, version, len(got.History), got.Form)
				}
				version = got.Version
				continue
			}
			apiProblem(t, rec)
			if now, err := a.svc.Get(a.as(a.clerk), a.clerk, d.Code); err != nil || now.Version != version {
				t.Errorf("%s changed the dossier: version %d → %d (%v)", s.name, version, now.Version, err)
			}
		}
		if rec := a.call(t, a.citizen, "GET", "/api/v1/dossiers/"+d.Code+"/result", "", nil); rec.Code != http.StatusNotFound {
			t.Errorf("the result before approval = %d, want 404", rec.Code)
		}
		for _, s := range []struct {
			sub    authz.Subject
			action string
		}{{a.officer, "assign"}, {a.officer, "appraise"}, {a.approver, "approve"}} {
			if rec := a.callJSON(t, s.sub, "POST", path, map[string]string{"action": s.action}); rec.Code != http.StatusOK {
				t.Fatalf("%s = %d %s", s.action, rec.Code, rec.Body)
			}
		}
		rec := a.call(t, a.citizen, "GET", "/api/v1/dossiers/"+d.Code+"/result", "", nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("the result = %d %s", rec.Code, rec.Body)
		}
		res := apiDecode[ResultFile](t, rec)
		if !strings.Contains(res.Document, d.Code) || res.KeyID == "" || res.Signature == "" {
			t.Errorf("result = %+v", res)
		}
		if rec := a.callJSON(t, apiAnonymous, "POST", "/api/v1/results/verify", res); rec.Code != http.StatusOK || !apiDecode[map[string]bool](t, rec)["valid"] {
			t.Errorf("verifying the genuine result = %d %s", rec.Code, rec.Body)
		}
		forged := res
		forged.Document = strings.Replace(res.Document, "Nguyễn", "Trần", 1)
		for name, v := range map[string]ResultFile{"forged": forged, "signature not base64": {Document: res.Document, KeyID: res.KeyID, Signature: "%%%"}} {
			rec := a.callJSON(t, apiAnonymous, "POST", "/api/v1/results/verify", v)
			if rec.Code != http.StatusUnprocessableEntity || apiProblem(t, rec).Errors["signature"] == "" {
				t.Errorf("verifying a %s result = %d %s, want 422 naming the signature", name, rec.Code, rec.Body)
			}
		}
	})
}

func TestAPIDossierListsAreQueuesForStaffAndOwnForCitizens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		online := a.submitOnline(t)
		var entered []string
		for range 2 {
			d, err := a.svc.Submit(a.as(a.clerk), a.clerk, Submission{Procedure: "1.900001", UnitCode: consularCode, Channel: ChannelInPerson, Form: legalizationForm()})
			if err != nil {
				t.Fatal(err)
			}
			entered = append(entered, d.Code)
		}
		var codes []string
		next := ""
		for pages := 0; ; pages++ {
			rec := a.call(t, a.clerk, "GET", "/api/v1/dossiers?limit=2&after="+url.QueryEscape(next), "", nil)
			if rec.Code != http.StatusOK || pages > 3 {
				t.Fatalf("queue page = %d %s", rec.Code, rec.Body)
			}
			page := apiDecode[web.List[QueueItem]](t, rec)
			for _, it := range page.Items {
				codes = append(codes, it.Code)
			}
			if next = page.Next; next == "" {
				break
			}
		}
		if len(codes) != 3 {
			t.Errorf("the queue pages through %v, want the three dossiers", codes)
		}
		received := apiDecode[web.List[QueueItem]](t, a.call(t, a.clerk, "GET", "/api/v1/dossiers?status=received", "", nil))
		if len(received.Items) != 2 || received.Items[0].Status != StatusReceived {
			t.Errorf("status=received lists %+v, want the two entered %v", received.Items, entered)
		}
		mine := apiDecode[web.List[QueueItem]](t, a.call(t, a.citizen, "GET", "/api/v1/dossiers?status=&mine=&after=&limit=", "", nil))
		if len(mine.Items) != 1 || mine.Items[0].Code != online.Code || mine.Next != "" {
			t.Errorf("the citizen's list = %+v, want only %s", mine, online.Code)
		}
		if got := apiDecode[web.List[QueueItem]](t, a.call(t, a.citizen, "GET", "/api/v1/dossiers?status=2", "", nil)); len(got.Items) != 0 {
			t.Errorf("the citizen's received dossiers = %+v, want none", got.Items)
		}
		for _, c := range []struct {
			sub   authz.Subject
			query string
			want  int
		}{
			{a.clerk, "status=11", http.StatusBadRequest},
			{a.clerk, "status=lost", http.StatusBadRequest},
			{a.clerk, "limit=-1", http.StatusBadRequest},
			{a.clerk, "mine=perhaps", http.StatusBadRequest},
			// A flag reads as every flag does (web.ParseBool): a checked
			// checkbox's "on" is true, as identity's lists took it.
			{a.clerk, "mine=on", http.StatusOK},
			{a.clerk, "after=garbage", http.StatusBadRequest},
			{a.citizen, "after=1.1", http.StatusBadRequest},
			{apiAnonymous, "", http.StatusUnauthorized},
		} {
			if rec := a.call(t, c.sub, "GET", "/api/v1/dossiers?"+c.query, "", nil); rec.Code != c.want {
				t.Errorf("GET /api/v1/dossiers?%s as %v = %d, want %d", c.query, c.sub.Kind, rec.Code, c.want)
			}
		}
	})
}

func TestAPIIndicesOfTheCallersUnit(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		d := a.submitOnline(t)
		rec := a.call(t, a.clerk, "GET", "/api/v1/indices?from=2025-03-01&to=2025-03-10", "", nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("indices = %d %s", rec.Code, rec.Body)
		}
		v := apiDecode[apiIndicesView](t, rec)
		if v.AgencyCode != consularCode || v.Counts.Submitted != 1 || v.Counts.Online != 1 || v.From != "2025-03-01" || v.To != "2025-03-10" || len(v.Indices.Groups) != 6 {
			t.Errorf("indices = %+v", v)
		}
		// The day after the submission counts nothing.
		v = apiDecode[apiIndicesView](t, a.call(t, a.clerk, "GET", "/api/v1/indices?from=2025-03-11&to=2025-03-31&unit="+url.QueryEscape(consularCode), "", nil))
		if v.Counts.Submitted != 0 {
			t.Errorf("indices after %s's day count %d dossiers", d.Code, v.Counts.Submitted)
		}
		for _, c := range []struct {
			sub   authz.Subject
			query string
			want  int
		}{
			{a.clerk, "from=2025-03-10&to=2025-03-01", http.StatusBadRequest},
			{a.clerk, "from=10/03/2025", http.StatusBadRequest},
			{a.clerk, "scope=galaxy", http.StatusBadRequest},
			{a.clerk, "scope=ministry&unit=" + consularCode, http.StatusBadRequest},
			{a.clerk, "unit=999.99.99.Z99", http.StatusForbidden},
			{a.clerk, "scope=ministry", http.StatusForbidden},
			{a.clerk, "unit=" + protocolCode, http.StatusForbidden},
			{a.citizen, "", http.StatusForbidden},
			{apiAnonymous, "", http.StatusUnauthorized},
		} {
			if rec := a.call(t, c.sub, "GET", "/api/v1/indices?"+c.query, "", nil); rec.Code != c.want {
				t.Errorf("GET /api/v1/indices?%s as %v = %d, want %d: %s", c.query, c.sub.Kind, rec.Code, c.want, rec.Body)
			}
		}
	})
}

func TestAPIStartsPayingADraftAtTheGateway(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		d := a.draftFor(t, a.citizen)
		if rec := a.call(t, a.citizen, "POST", "/api/v1/drafts/"+d.ID+"/payment", "", nil); rec.Code != http.StatusServiceUnavailable {
			t.Errorf("paying on a node without a gateway = %d %s, want 503", rec.Code, rec.Body)
		}
		var ordered []string
		h, err := NewHandler(webtest.Shell(t, Texts(), identity.Texts()), HandlerOptions{Service: a.svc, PaymentSecret: a.secret,
			Checkout: func(_ context.Context, o PaymentOrder, returnURL string) (string, error) {
				ordered = append(ordered, o.ID+" "+returnURL)
				return "https://pay.example/v1/checkout/" + o.ID, nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		rt := web.NewRouter()
		h.Register(rt)
		a.h = rt
		rec := a.call(t, a.citizen, "POST", "/api/v1/drafts/"+d.ID+"/payment", "", nil)
		if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"payment_url":"https://pay.example/v1/checkout/`+d.ID) {
			t.Fatalf("pay = %d %s", rec.Code, rec.Body)
		}
		if len(ordered) != 1 || !strings.HasSuffix(ordered[0], "/applications/"+d.ID+"?paid=1") {
			t.Errorf("orders = %v", ordered)
		}
		if rec := a.call(t, a.other, "POST", "/api/v1/drafts/"+d.ID+"/payment", "", nil); rec.Code != http.StatusNotFound {
			t.Errorf("another citizen paying the draft = %d", rec.Code)
		}
		if err := a.svc.RecordPayment(context.Background(), PaymentReport{TransactionID: "T1", OrderID: d.ID, Amount: d.FeeAmount, Currency: d.FeeCurrency, PaidAt: a.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		if rec := a.call(t, a.citizen, "POST", "/api/v1/drafts/"+d.ID+"/payment", "", nil); rec.Code != http.StatusConflict {
			t.Errorf("paying a paid draft = %d, want 409", rec.Code)
		}
	})
}

func TestAPITakesAWholeDossierAsJSON(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		entry := map[string]any{"procedure_code": "1.900001", "agency_code": consularCode, "channel": 3, "receipt": "BL-0001", "form": legalizationForm()}
		rec := a.callJSON(t, a.clerk, "POST", "/api/v1/dossiers", entry)
		if rec.Code != http.StatusCreated {
			t.Fatalf("a postal entry as JSON = %d %s", rec.Code, rec.Body)
		}
		if d := apiDecode[Dossier](t, rec); d.Status != StatusReceived || d.Channel != ChannelPostal || len(d.Attachments) != 0 {
			t.Errorf("the entry: status %d channel %d files %d", d.Status, d.Channel, len(d.Attachments))
		}
		entry["draft"] = "0123456789abcdef0123456789abcdef"
		if rec := a.callJSON(t, a.clerk, "POST", "/api/v1/dossiers", entry); rec.Code != http.StatusBadRequest {
			t.Errorf("a draft and a whole dossier at once = %d, want 400", rec.Code)
		}
		delete(entry, "draft")
		delete(entry, "agency_code")
		if rec := a.callJSON(t, a.clerk, "POST", "/api/v1/dossiers", entry); rec.Code != http.StatusBadRequest {
			t.Errorf("a dossier without its unit = %d, want 400", rec.Code)
		}
	})
}
