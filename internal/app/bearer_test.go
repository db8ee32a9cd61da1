package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/demo"
)

// countingBody is a request body of size bytes that counts how many of
// them the server read.
type countingBody struct {
	size, read int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	if b.read >= b.size {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > b.size-b.read {
		n = b.size - b.read
	}
	for i := range p[:n] {
		p[i] = 'a'
	}
	b.read += n
	return int(n), nil
}

func (b *countingBody) Close() error { return nil }

// TestClientTokenLiftsTheBodyLimitOnTheExchangesRoutesOnly pins issue 10
// item 7: a "Bearer chx_…" header, valid or not, used to skip the body
// limit and the CSRF check everywhere, so a 60 MB form posted to the
// sign-in page was read whole. Now a forged token is refused before the
// body is read, a valid one opens the exchange's client routes only, and
// there it still carries a message larger than the general limit.
func TestClientTokenLiftsTheBodyLimitOnTheExchangesRoutesOnly(t *testing.T) {
	a, _ := MustStart(t, testConfig(t, true))
	ctx := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("test")})
	token, err := a.Node.IssueToken(ctx, demo.Clients()[0], "test")
	if err != nil {
		t.Fatal(err)
	}
	const big = 60 << 20
	post := func(path, bearer, contentType string, size int64, headers ...string) (*httptest.ResponseRecorder, *countingBody) {
		body := &countingBody{size: size}
		req := httptest.NewRequest(http.MethodPost, path, nil)
		req.Body, req.ContentLength = body, size
		req.Header.Set("Authorization", "Bearer "+bearer)
		req.Header.Set("Content-Type", contentType)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)
		return rec, body
	}
	for _, c := range []struct {
		name, bearer string
		want         int
	}{
		{"a forged client token", "chx_forged", http.StatusUnauthorized},
		{"a valid client token off the exchange's routes", token, http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec, body := post("/console/login", c.bearer, "multipart/form-data; boundary=x", big)
			if rec.Code != c.want || rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Errorf("POST /console/login = %d %s, want %d problem", rec.Code, rec.Body, c.want)
			}
			if body.read > 0 {
				t.Errorf("the server read %d bytes of the body before refusing it", body.read)
			}
		})
	}
	t.Run("a valid client token on the message API", func(t *testing.T) {
		size := a.cfg.MaxBody + 1 // over the general limit, under the exchange's
		rec, body := post("/api/v1/exchange/messages", token, "application/octet-stream", size,
			"X-Chancery-Service", "VN/GOV/000.00.00.G22/portal/dossier-status/v1")
		if rec.Code == http.StatusRequestEntityTooLarge || body.read != size {
			t.Errorf("POST a %d-byte message = %d %s after reading %d bytes; the exchange's own limit applies", size, rec.Code, rec.Body, body.read)
		}
	})
	t.Run("a forged token on the message API", func(t *testing.T) {
		rec, body := post("/api/v1/exchange/messages", "chx_forged", "application/octet-stream", big)
		if rec.Code != http.StatusUnauthorized || body.read > 0 {
			t.Errorf("POST = %d after reading %d bytes, want 401 before reading", rec.Code, body.read)
		}
	})
}
