package govsim

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"chancery/internal/errs"
	"chancery/internal/web"
)

func startServer(tb testing.TB) *Server {
	tb.Helper()
	srv, err := Start(context.Background(), "127.0.0.1:0", discard)
	if err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() { srv.Close() })
	return srv
}

func TestStartRefusesAddressesOffThisHost(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0", "localhost:0", "example.com:80", "127.0.0.1", ""} {
		srv, err := Start(context.Background(), addr, discard)
		if err == nil {
			srv.Close()
			t.Errorf("Start(%q) served; want a refusal", addr)
			continue
		}
		if !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("Start(%q) = %v, want an ErrInvalid error", addr, err)
		}
	}
}

func TestStartServesBothSimulatorsOnOneLoopbackListener(t *testing.T) {
	srv := startServer(t)
	pop, err1 := url.Parse(srv.PopulationURL())
	portal, err2 := url.Parse(srv.NationalPortalURL())
	if err1 != nil || err2 != nil || pop.Host != portal.Host || pop.Path != "/population" || portal.Path != "/portal" ||
		!strings.HasPrefix(pop.Host, "127.0.0.1:") || pop.Port() == "0" {
		t.Fatalf("PopulationURL %q, NationalPortalURL %q", srv.PopulationURL(), srv.NationalPortalURL())
	}

	resp := get(t, srv.PopulationURL()+"/v1/citizens/036079001187")
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Server"), "population") {
		t.Errorf("population lookup = %d, Server %q", resp.StatusCode, resp.Header.Get("Server"))
	}

	// Start runs the portal on the real clock: a dossier received today.
	now := time.Now().In(web.MinistryZone())
	code := "000.00.03.G12-" + now.Format("060102") + "-0001"
	body := encode(t, validUpdate(set("dossier_code", code), set("updated_at", now.Format(time.RFC3339))))
	resp, err := http.Post(srv.NationalPortalURL()+"/v1/dossier-statuses", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status update = %d, want 204", resp.StatusCode)
	}
	if got := srv.NationalPortal().Updates(code); len(got) != 1 || got[0].Status != 4 {
		t.Errorf("NationalPortal().Updates(%q) = %+v", code, got)
	}

	for _, path := range []string{"/", "/api/v1/units", "/population", "/portal/v2/dossier-statuses"} {
		readProblem(t, get(t, srv.PopulationURL()[:len(srv.PopulationURL())-len("/population")]+path), http.StatusNotFound)
	}
}

func TestCloseStopsServingAndMayBeCalledAgain(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	byClose, err := Start(ctx, "127.0.0.1:0", discard)
	if err != nil {
		t.Fatal(err)
	}
	byContext, err := Start(ctx, "127.0.0.1:0", discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := byClose.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := byClose.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	cancel()
	// Close after the context ended waits for the shutdown it started.
	if err := byContext.Close(); err != nil {
		t.Errorf("Close after the context ended: %v", err)
	}
	for _, srv := range []*Server{byClose, byContext} {
		if resp, err := http.Get(srv.PopulationURL() + "/v1/openapi.json"); err == nil {
			resp.Body.Close()
			t.Errorf("%s still serves after it was closed", srv.PopulationURL())
		}
	}
}

// TestPopulationLogsWhoAskedAndWhy pins issue 10's item 5 at the
// provider: a lookup must say for whom and why (X-Road-UserId and
// X-Road-Issue), and the database's access log keeps the calling system,
// the end user, the purpose and whose record was read.
func TestPopulationLogsWhoAskedAndWhy(t *testing.T) {
	srv, err := Start(context.Background(), "127.0.0.1:0", discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	anonymous, err := http.Get(srv.PopulationURL() + "/v1/citizens/001188004215")
	if err != nil {
		t.Fatal(err)
	}
	readProblem(t, anonymous, http.StatusBadRequest)
	req, _ := http.NewRequest(http.MethodGet, srv.PopulationURL()+"/v1/citizens/001188004215", nil)
	req.Header.Set(HeaderUserID, "staff:consular.clerk\u202e")
	req.Header.Set(HeaderIssue, "counter check of dossier 000.00.03.G12-250310-000001")
	req.Header.Set("X-Chancery-Client", "VN/GOV/000.00.00.G12/procedures")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a stated lookup = %d", resp.StatusCode)
	}
	log := srv.PopulationLookups()
	if len(log) != 1 {
		t.Fatalf("the access log holds %d lookups, want the stated one only: %+v", len(log), log)
	}
	got := log[0]
	if got.EndUser != "staff:consular.clerk" || got.Purpose != "counter check of dossier 000.00.03.G12-250310-000001" ||
		got.Client != "VN/GOV/000.00.00.G12/procedures" || got.IDNumber != "001188004215" || !got.Found || got.At.IsZero() {
		t.Errorf("logged lookup = %+v", got)
	}
}
