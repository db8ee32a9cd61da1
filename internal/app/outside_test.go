package app

import (
	"context"
	"errors"
	"strings"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/auth"
	"chancery/internal/config"
	"chancery/internal/errs"
	"chancery/internal/i18n"
)

// TestOutsideServicesComeFromTheConfiguration checks that the procedures'
// outside services are the configured ones, and that a malformed one is
// refused naming its flag.
func TestOutsideServicesComeFromTheConfiguration(t *testing.T) {
	a := &App{cfg: config.Config{PopulationService: "VN/GOV/000.00.00.G98/cd/lookup/v2", DossierStatusService: "VN/GOV/000.00.00.G99/dvc/statuses"}}
	population, statuses, err := a.outsideServices()
	if err != nil {
		t.Fatal(err)
	}
	if population.String() != "VN/GOV/000.00.00.G98/cd/lookup/v2" || statuses.String() != "VN/GOV/000.00.00.G99/dvc/statuses" {
		t.Errorf("services = %s, %s", population, statuses)
	}
	for _, bad := range []config.Config{
		{PopulationService: "VN/GOV/population", DossierStatusService: config.DefaultDossierStatusService},
		{PopulationService: config.DefaultPopulationService, DossierStatusService: ""},
	} {
		a := &App{cfg: bad}
		_, _, err := a.outsideServices()
		flag := "--population-service"
		if bad.DossierStatusService == "" {
			flag = "--dossier-status-service"
		}
		if !errors.Is(err, errs.ErrInvalid) || !strings.HasPrefix(err.Error(), flag+": ") {
			t.Errorf("%+v: error %v; want an invalid-input error naming %s", bad, err, flag)
		}
	}
}

// TestDemoMailsRegistrationLinksToThePublicSite checks the wiring of the
// mail outbox into sign-in's constructor: on a demo node a citizen's
// registration is mailed, with a link to this node's public site.
func TestDemoMailsRegistrationLinksToThePublicSite(t *testing.T) {
	a, srv := MustStart(t, testConfig(t, true))
	a.bound.Store(srv.Listener.Addr().String())
	ctx := audit.WithOrigin(context.Background(), audit.Origin{RequestID: "req-1"})
	err := a.Auth.RegisterCitizen(ctx, auth.Registration{Email: "hoa.le@example.com", FullName: "Lê Thị Hoa",
		Password: "Một mật khẩu đủ dài 2026", Lang: i18n.EN, Address: "192.0.2.1"})
	if err != nil {
		t.Fatalf("RegisterCitizen on a demo node: %v", err)
	}
	var body string
	if err := a.DB.QueryRowContext(ctx, `SELECT body_text FROM mail_outbox ORDER BY id DESC LIMIT 1`).Scan(&body); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "http://"+srv.Listener.Addr().String()+"/account/") {
		t.Errorf("the registration mail links elsewhere than the public site:\n%s", body)
	}
}
