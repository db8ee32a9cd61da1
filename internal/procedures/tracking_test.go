package procedures

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// track asks the public status route for code with pin, from addr.
func (a *apiFixture) track(t testing.TB, code, pin, addr string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", "/api/v1/dossiers/"+url.PathEscape(code)+"/status", nil)
	req.RemoteAddr = addr + ":40000"
	if pin != "" {
		req.Header.Set(TrackingPINHeader, pin)
	}
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	return rec
}

var receiptPIN = regexp.MustCompile(`<code id="tracking-pin">([0-9 ]+)</code>`)

// pinOnReceipt returns the tracking PIN a receipt page prints.
func pinOnReceipt(t testing.TB, body string) string {
	t.Helper()
	m := receiptPIN.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the receipt shows no tracking PIN")
	}
	return m[1]
}

// TestTrackNeedsTheCodeAndThePIN pins issue 10's item 12: dossier codes
// are sequential, so the code alone no longer tells a stranger where a
// dossier stands; the PIN printed on the receipt must go with it, and a
// wrong code and a wrong PIN get the same answer.
func TestTrackNeedsTheCodeAndThePIN(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d := f.submitOnline(t)
		if len(d.TrackingPIN) != trackingPINDigits || strings.Trim(d.TrackingPIN, "0123456789") != "" {
			t.Fatalf("tracking PIN = %q, want %d digits", d.TrackingPIN, trackingPINDigits)
		}
		got, err := f.svc.Get(f.as(f.citizen), f.citizen, d.Code)
		if err != nil || got.TrackingPIN != d.TrackingPIN {
			t.Fatalf("the applicant reads PIN %q (%v), want the receipt's %q", got.TrackingPIN, err, d.TrackingPIN)
		}
		other, err := f.svc.Submit(f.as(f.clerk), f.clerk, Submission{Procedure: "1.900001", UnitCode: consularCode, Channel: ChannelInPerson, Form: legalizationForm()})
		if err != nil {
			t.Fatal(err)
		}
		if other.TrackingPIN == d.TrackingPIN || other.TrackingPIN == "" {
			t.Errorf("two dossiers got PINs %q and %q", d.TrackingPIN, other.TrackingPIN)
		}
		ctx := context.Background()
		for _, pin := range []string{d.TrackingPIN, groupPIN(d.TrackingPIN), " " + d.TrackingPIN[:4] + "-" + d.TrackingPIN[4:] + " "} {
			if tr, err := f.svc.Track(ctx, d.Code, pin); err != nil || tr.Code != d.Code || tr.Status != StatusRegistered {
				t.Errorf("Track(%s, %q) = %+v, %v", d.Code, pin, tr, err)
			}
		}
		_, wrongCode := f.svc.Track(ctx, consularCode+"-250310-999999", d.TrackingPIN)
		refusals := map[string]error{"an unknown code": wrongCode}
		_, refusals["another dossier's PIN"] = f.svc.Track(ctx, d.Code, other.TrackingPIN)
		_, refusals["no PIN"] = f.svc.Track(ctx, d.Code, "")
		_, refusals["a malformed code"] = f.svc.Track(ctx, "not-a-code", d.TrackingPIN)
		_, refusals["a PIN with a NUL"] = f.svc.Track(ctx, d.Code, d.TrackingPIN+"\x00")
		for what, err := range refusals {
			if !errors.Is(err, errs.ErrNotFound) || err.Error() != wrongCode.Error() {
				t.Errorf("tracking with %s = %v, want the same not-found as an unknown code (%v)", what, err, wrongCode)
			}
		}
	})
}

// TestAPITrackingIsRateLimitedPerAddress pins the public status route:
// the PIN travels in a header, a wrong code and a wrong PIN read the same,
// and an address that keeps guessing is told to wait (429, Retry-After)
// while other addresses are not.
func TestAPITrackingIsRateLimitedPerAddress(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		d := a.submitOnline(t)
		wrongPIN := a.track(t, d.Code, "00000000", "198.51.100.7")
		wrongCode := a.track(t, consularCode+"-250310-000099", d.TrackingPIN, "198.51.100.7")
		if wrongPIN.Code != http.StatusNotFound || wrongCode.Code != http.StatusNotFound {
			t.Fatalf("a wrong PIN = %d, a wrong code = %d, want 404 both", wrongPIN.Code, wrongCode.Code)
		}
		if p, q := apiProblem(t, wrongPIN), apiProblem(t, wrongCode); p.Detail != q.Detail || p.Title != q.Title {
			t.Errorf("a wrong PIN answers %q, a wrong code %q: they must not differ", p.Detail, q.Detail)
		}
		for range trackBurst - 2 {
			a.track(t, d.Code, "11111111", "198.51.100.7")
		}
		rec := a.track(t, d.Code, d.TrackingPIN, "198.51.100.7")
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
			t.Errorf("attempt %d from one address = %d (Retry-After %q), want 429 with Retry-After", trackBurst+1, rec.Code, rec.Header().Get("Retry-After"))
		}
		if rec := a.track(t, d.Code, d.TrackingPIN, "203.0.113.9"); rec.Code != http.StatusOK {
			t.Errorf("another address with the right PIN = %d, want 200", rec.Code)
		}
		a.clock.Advance(trackEvery)
		if rec := a.track(t, d.Code, d.TrackingPIN, "198.51.100.7"); rec.Code != http.StatusOK {
			t.Errorf("the limited address after waiting = %d, want 200", rec.Code)
		}
	})
}

// TestTrackingPageAsksForTheCodeAndThePIN pins the /track page: the
// receipt prints the PIN, the form posts it (never in the address), a
// wrong PIN reads like an unknown code, and a limited address gets an
// HTML page, not a JSON problem.
func TestTrackingPageAsksForTheCodeAndThePIN(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		ds := s.submitOnline(t)
		pin := pinOnReceipt(t, page(s.get(t, "citizen", "/dossiers/"+ds.Code+"/receipt")))
		form := page(s.get(t, "", "/track?code="+url.QueryEscape(ds.Code)))
		if !strings.Contains(form, `method="post" action="/track"`) || !strings.Contains(form, `name="pin"`) || !strings.Contains(form, `value="`+ds.Code+`"`) ||
			strings.Contains(form, texts.T(i18n.VI, StatusRegistered.Key())) {
			t.Error("GET /track?code= must draw the form with the code filled in, a PIN field, and no status")
		}
		if rec := s.post(t, "", "/track", url.Values{"code": {ds.Code}, "pin": {pin}}); rec.Code != http.StatusOK || !strings.Contains(page(rec), texts.T(i18n.VI, StatusRegistered.Key())) {
			t.Errorf("tracking with the receipt's PIN = %d", rec.Code)
		}
		unknown := texts.T(i18n.VI, "procedures.public.track.unknown")
		for _, v := range []url.Values{
			{"code": {ds.Code}, "pin": {"00000000"}},
			{"code": {consularCode + "-250310-999999"}, "pin": {pin}},
			{"code": {"not-a-code"}, "pin": {pin}},
		} {
			if rec := s.post(t, "", "/track", v); rec.Code != http.StatusNotFound || !strings.Contains(page(rec), unknown) {
				t.Errorf("tracking %v = %d, want 404 with the one message", v, rec.Code)
			}
		}
		var rec *httptest.ResponseRecorder
		for range trackBurst {
			rec = s.post(t, "", "/track", url.Values{"code": {ds.Code}, "pin": {pin}})
		}
		if rec.Code != http.StatusTooManyRequests || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
			!strings.Contains(page(rec), texts.T(i18n.VI, "procedures.public.track.limited")) {
			t.Errorf("tracking past the limit = %d %s, want a 429 HTML page saying so", rec.Code, rec.Header().Get("Content-Type"))
		}
		s.clock.Advance(time.Minute)
		if rec := s.post(t, "", "/track", url.Values{"code": {ds.Code}, "pin": {pin}}); rec.Code != http.StatusOK {
			t.Errorf("tracking after a minute = %d, want 200", rec.Code)
		}
	})
}
