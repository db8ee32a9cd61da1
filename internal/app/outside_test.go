package app

import (
	"errors"
	"strings"
	"testing"

	"chancery/internal/config"
	"chancery/internal/errs"
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
