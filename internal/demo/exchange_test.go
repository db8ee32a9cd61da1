package demo

import (
	"context"
	"strings"
	"testing"

	"chancery/internal/exchange"
)

// tokenLog is a TokenIssuer that remembers whom it issued tokens to.
type tokenLog []exchange.ClientID

func (l *tokenLog) IssueToken(_ context.Context, c exchange.ClientID, _ string) (string, error) {
	*l = append(*l, c)
	return "chx_" + c.Subsystem, nil
}

// TestClientTokensGoToSeededUnitsAndShowTheConfiguredLookup checks that
// the demo's client tokens are issued to subsystems of seeded units and
// that the banner's example calls the configured population service for
// a seeded citizen.
func TestClientTokensGoToSeededUnitsAndShowTheConfiguredLookup(t *testing.T) {
	var issued tokenLog
	population, err := exchange.ParseServiceID("VN/GOV/000.00.00.G98/cd/lookup/v2")
	if err != nil {
		t.Fatal(err)
	}
	banner, err := ClientTokens(context.Background(), &issued, "https://hq.example", population)
	if err != nil {
		t.Fatal(err)
	}
	if len(issued) != 2 || issued[0].Member != RootCode || issued[1].Member != unitCode("consular") {
		t.Errorf("tokens issued to %v; want headquarters' procedures and the Consular Department", issued)
	}
	want := "https://hq.example/exchange/v1/VN/GOV/000.00.00.G98/cd/lookup/v2/v1/citizens/" + citizens[0].idNumber
	if !strings.Contains(banner, want) || !strings.Contains(banner, "chx_procedures") {
		t.Errorf("banner:\n%s\nwant the example %s and the tokens", banner, want)
	}
}
