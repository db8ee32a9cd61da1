package demo

import (
	"context"
	"fmt"
	"strings"

	"chancery/internal/exchange"
)

// TokenIssuer issues exchange client tokens; *exchange.Node implements
// it.
type TokenIssuer interface {
	IssueToken(ctx context.Context, client exchange.ClientID, label string) (string, error)
}

// Clients are the demo's information systems that get a client token on
// the first start, so that the exchange API can be tried at once:
// headquarters' procedures and the Consular Department's consular
// subsystem.
func Clients() []exchange.ClientID {
	return []exchange.ClientID{
		{Instance: exchange.DefaultInstance, Class: exchange.ClassGOV, Member: RootCode, Subsystem: "procedures"},
		{Instance: exchange.DefaultInstance, Class: exchange.ClassGOV, Member: unitCode(dossierUnit), Subsystem: "consular"},
	}
}

// ClientTokens issues the demo clients' tokens with node and says how to
// use them: a lookup of the first demo citizen through the population
// service, at the node's public address.
func ClientTokens(ctx context.Context, node TokenIssuer, publicURL string, population exchange.ServiceID) (string, error) {
	var b strings.Builder
	b.WriteString("\nExchange client tokens (Authorization: Bearer …; demo only):\n")
	for _, c := range Clients() {
		token, err := node.IssueToken(ctx, c, "demo")
		if err != nil {
			return "", fmt.Errorf("issue the demo token of %s: %w", c, err)
		}
		fmt.Fprintf(&b, "  %-40s %s\n", c, token)
	}
	fmt.Fprintf(&b, "Try: curl -H 'Authorization: Bearer <procedures token>' -H 'X-Road-UserId: <end user>' -H 'X-Road-Issue: <purpose>' %s/exchange/v1/%s/v1/citizens/%s\n",
		publicURL, population, citizens[0].idNumber)
	b.WriteString("Enrol a mission node: console → Exchange → Nodes (the page shows the command to run).\n")
	return b.String(), nil
}
