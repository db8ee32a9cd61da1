package app

import (
	"context"
	"sort"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/auth"
	"chancery/internal/authz"
	"chancery/internal/demo"
	"chancery/internal/identity"
)

// demoCaller is a signed-in caller of the route test: a bearer token and
// the subject authz decides for.
type demoCaller struct {
	name    string
	token   string
	subject authz.Subject
}

// demoCallers signs in one demo staff member for every set of roles the
// demo ministry gives (the first with the lowest clearance), a staff
// member without roles, a citizen, and an information system holding an
// exchange client token.
func demoCallers(t *testing.T, a *App, base string) []demoCaller {
	t.Helper()
	ctx := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("test")})
	staff, _, err := a.Identity.ListStaff(ctx, identity.StaffFilter{Limit: identity.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	best := map[authz.Roles]identity.StaffMember{}
	for _, m := range staff {
		if b, ok := best[m.Roles]; !ok || m.Clearance < b.Clearance {
			best[m.Roles] = m
		}
	}
	var out []demoCaller
	for roles, m := range best {
		if roles == 0 {
			continue // staffWithoutRoles below, signed in without TOTP
		}
		totp := ""
		if m.Subject().NeedsSecondFactor() {
			totp = demoTOTP(t, a, m.Username) // the demo enrols every second factor it needs
		}
		name := m.Username + " (" + m.Roles.String() + ")"
		if m.Roles == 0 {
			name = m.Username + " (no roles)"
		}
		// A session works at the clearance unless a lower level is asked
		// for at sign-in.
		subject := m.Subject()
		subject.Session = m.Clearance
		out = append(out, demoCaller{name: name, token: mustLogin(t, base, m.Username, a.cfg.DemoPassword, totp), subject: subject})
	}
	root, err := a.Identity.UnitByCode(ctx, "000.00.00.G12")
	if err != nil {
		t.Fatal(err)
	}
	nobody, err := a.Identity.CreateStaff(ctx, "test",
		identity.NewStaff{Username: "no.roles", FullName: "Không Vai Trò", UnitID: root.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Auth.SetPassword(ctx, authz.Staff, nobody.ID, a.cfg.DemoPassword, false); err != nil {
		t.Fatal(err)
	}
	out = append(out, demoCaller{name: "no.roles (no roles)", token: mustLogin(t, base, "no.roles", a.cfg.DemoPassword, ""), subject: nobody.Subject()})
	citizen, err := a.Identity.CitizenByEmail(ctx, "citizen@example.com")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := a.Auth.Login(ctx, auth.LoginRequest{Kind: authz.Citizen, Username: citizen.Email, Password: a.cfg.DemoPassword})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, demoCaller{name: "citizen", token: sess.Token, subject: citizen.Subject()})
	client := demo.Clients()[0]
	token, err := a.Node.IssueToken(ctx, client, "route test")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, demoCaller{name: "information system " + client.String(), token: token,
		subject: authz.Subject{Kind: authz.Client, Subsystem: client.String()}})
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// demoTOTP returns the current TOTP code of the secret the demo
// enrolled for username, as saved in the demo accounts file.
func demoTOTP(t *testing.T, a *App, username string) string {
	t.Helper()
	secret := demoSecret(t, a.cfg.DataDir, username)
	if secret == "" {
		t.Fatalf("no TOTP secret for %s in the demo accounts", username)
	}
	return totpNow(t, secret)
}

// demoSecret returns the TOTP secret the demo in dataDir enrolled for
// username, as saved in the demo accounts file; empty when it enrolled
// none.
func demoSecret(tb testing.TB, dataDir, username string) string {
	tb.Helper()
	secret, err := readDemoSecret(dataDir, username)
	if err != nil {
		tb.Fatal(err)
	}
	return secret
}

// totpNow returns the current TOTP code of a base32 secret.
func totpNow(tb testing.TB, secret string) string {
	tb.Helper()
	code, err := auth.TOTPCode(secret, time.Now())
	if err != nil {
		tb.Fatalf("TOTP secret %q: %v", secret, err)
	}
	return code
}
