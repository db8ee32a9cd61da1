package auth

import (
	"context"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// BenchmarkSignIn measures a whole staff sign-in with a password and a
// TOTP code on SQLite, through Login: the account lookup, the argon2id
// verification, the code check and its claimed time step, the session
// and its audit event. "default" hashes with DefaultParams, as a node
// does; "cheap-hash" with the tests' parameters, which shows what
// everything but the hash costs.
func BenchmarkSignIn(b *testing.B) {
	for _, bc := range []struct {
		name string
		p    Params
	}{
		{"default", DefaultParams},
		{"cheap-hash", testParams},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := newFixture(b, storetest.MustOpen(b, store.SQLite), Options{Params: bc.p})
			secret := f.enroll(b, f.cleared)
			ctx := context.Background()
			for b.Loop() {
				// Each sign-in takes the next time step: a code is good once.
				f.clock.Advance(totpPeriod * time.Second)
				sess, err := f.svc.Login(ctx, LoginRequest{Kind: authz.Staff, Username: f.cleared.Username, Password: testPassword,
					TOTP: f.code(b, secret), Address: "192.0.2.1"})
				if err != nil || sess.Stage != StageFull {
					b.Fatalf("sign-in: stage %q, %v", sess.Stage, err)
				}
			}
		})
	}
}
