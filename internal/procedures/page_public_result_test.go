package procedures

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"chancery/internal/i18n"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// returnedDossier submits, decides and returns a dossier, whose signed
// result the citizen then holds.
func (s *publicSite) returnedDossier(t *testing.T) (*Dossier, SignedResult) {
	t.Helper()
	d := s.submitOnline(t)
	s.clock.Advance(time.Hour)
	s.act(t, s.clerk, d.Code, ActionRequest{Action: ActReceive})
	s.act(t, s.officer, d.Code, ActionRequest{Action: ActAssign})
	s.act(t, s.approver, d.Code, ActionRequest{Action: ActApprove})
	s.act(t, s.clerk, d.Code, ActionRequest{Action: ActReturnResult})
	res, err := s.svc.Result(s.as(s.citizen), s.citizen, d.Code)
	if err != nil {
		t.Fatal(err)
	}
	return d, res
}

func TestResultPrintsAsAPDFForItsApplicantOnly(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		d, _ := s.returnedDossier(t)
		if body := s.get(t, "citizen", "/my/dossiers/"+d.Code).Body.String(); !strings.Contains(body, `href="/my/dossiers/`+d.Code+`/result.pdf"`) {
			t.Error("the dossier page offers no printable result")
		}
		rec := s.get(t, "citizen", "/my/dossiers/"+d.Code+"/result.pdf")
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != MediaPDF || !bytes.HasPrefix(rec.Body.Bytes(), []byte("%PDF-")) ||
			!strings.Contains(rec.Header().Get("Content-Disposition"), "ket-qua-"+d.Code+".pdf") {
			t.Fatalf("result.pdf = %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Content-Disposition"))
		}
		if again := s.get(t, "citizen", "/my/dossiers/"+d.Code+"/result.pdf"); !bytes.Equal(again.Body.Bytes(), rec.Body.Bytes()) {
			t.Error("the same result printed twice gives different files")
		}
		if rec := s.get(t, "other", "/my/dossiers/"+d.Code+"/result.pdf"); rec.Code != http.StatusNotFound {
			t.Errorf("another citizen's result.pdf = %d, want 404", rec.Code)
		}
		open := s.submitOnline(t)
		if rec := s.get(t, "citizen", "/my/dossiers/"+open.Code+"/result.pdf"); rec.Code != http.StatusNotFound {
			t.Errorf("result.pdf of an undecided dossier = %d, want 404", rec.Code)
		}
	})
}

// TestVerifyPageSaysWhetherAResultIsGenuineAndHidesTheRest pins the
// public verification page: the QR code's address says genuine, with the
// issuer and date; a forged signature says so; every wrong address (a
// wrong token, an unknown code, a dossier without a result) reads alike,
// so that nobody learns which dossiers exist by walking codes.
func TestVerifyPageSaysWhetherAResultIsGenuineAndHidesTheRest(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		d, res := s.returnedDossier(t)
		rec := s.get(t, "", res.VerifyPath())
		body := page(rec)
		if rec.Code != http.StatusOK || !strings.Contains(body, texts.T(i18n.VI, "procedures.public.verify.genuine")) ||
			!strings.Contains(body, d.Code) || !strings.Contains(body, res.Document.Applicant) || !strings.Contains(body, consularCode) ||
			!strings.Contains(body, i18n.VI.FormatDate(res.Document.IssuedAt.In(mustZone("Asia/Ho_Chi_Minh")))) {
			t.Fatalf("verifying the genuine result = %d:\n%s", rec.Code, body)
		}
		for _, private := range []string{d.ApplicantEmail, "001188004215", res.Signature} {
			if private != "" && strings.Contains(body, private) {
				t.Errorf("the verification page shows %q", private)
			}
		}

		open := s.submitOnline(t)
		// The layout's language switch names the page's own address;
		// everything else must read the same.
		main := func(body string) string {
			a, b := strings.Index(body, "<main"), strings.Index(body, "</main>")
			if a < 0 || b < a {
				t.Fatalf("no <main> in %s", body)
			}
			return body[a:b]
		}
		notFound := main(page(s.get(t, "", "/verify/"+consularCode+"-250310-999999/"+res.VerifyToken())))
		for _, target := range []string{
			"/verify/" + d.Code + "/" + strings.Repeat("A", len(res.VerifyToken())),
			"/verify/" + d.Code + "/" + res.VerifyToken()[1:],
			"/verify/" + open.Code + "/" + res.VerifyToken(),
			"/verify/not-a-code/" + res.VerifyToken(),
		} {
			rec := s.get(t, "", target)
			if got := main(page(rec)); rec.Code != http.StatusNotFound || got != notFound {
				t.Errorf("GET %s = %d, want the one 404 page", target, rec.Code)
			}
		}
		if !strings.Contains(notFound, texts.T(i18n.VI, "procedures.public.verify.not_found")) {
			t.Error("the 404 page does not say that no result has this address")
		}

		// A result whose stored signature no longer verifies is not
		// called genuine.
		forged := strings.Replace(string(res.Raw), res.Document.Applicant, "Trần Văn Giả", 1)
		if _, err := db.ExecContext(context.Background(), db.Rebind("UPDATE dossiers SET result_blob = ? WHERE code = ?"), forged, d.Code); err != nil {
			t.Fatal(err)
		}
		body = page(s.get(t, "", res.VerifyPath()))
		if !strings.Contains(body, texts.T(i18n.VI, "procedures.public.verify.forged")) || strings.Contains(body, texts.T(i18n.VI, "procedures.public.verify.genuine")) {
			t.Errorf("a tampered result is not called forged:\n%s", body)
		}
	})
}

func TestReceiptHasAPrintButtonAndTheTrackingQRCode(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		d := s.submitOnline(t)
		body := s.get(t, "citizen", "/dossiers/"+d.Code+"/receipt").Body.String()
		for _, want := range []string{`<button type="button" class="button primary" data-print hidden>`, `<script src="/static/print.js" defer></script>`,
			`<svg xmlns="http://www.w3.org/2000/svg"`, `role="img"`, `href="https://dichvucong.test/track?code=` + d.Code + `"`} {
			if !strings.Contains(body, want) {
				t.Errorf("the receipt lacks %s", want)
			}
		}
	})
}
