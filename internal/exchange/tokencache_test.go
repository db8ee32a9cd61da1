package exchange

import (
	"crypto/sha256"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"chancery/internal/store/storetest"
)

func TestClientTokensAreCachedBrieflyAndRevokedAtOnce(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			tn := newTestNet(t, d)
			ctx := testCtx()
			var clock atomic.Int64
			tn.mission.now = func() time.Time { return time.Now().Add(time.Duration(clock.Load())) }
			token, err := tn.mission.IssueToken(ctx, consular, "test")
			if err != nil {
				t.Fatal(err)
			}
			if id, err := tn.mission.Client(ctx, token); err != nil || id != consular {
				t.Fatalf("Client: %s %v", id, err)
			}

			// Revoked by another process: this one trusts its cache
			// for at most tokenCacheTTL.
			if _, err := tn.mission.db.ExecContext(ctx, `UPDATE exchange_tokens SET revoked_us = 1`); err != nil {
				t.Fatal(err)
			}
			if _, err := tn.mission.Client(ctx, token); err != nil {
				t.Fatalf("Client within the cache's time: %v", err)
			}
			clock.Store(int64(tokenCacheTTL))
			if _, err := tn.mission.Client(ctx, token); !errors.Is(err, ErrBadClientToken) {
				t.Fatalf("Client past the cache's time: %v, want ErrBadClientToken", err)
			}

			// Revoked in this process: at once.
			token, err = tn.mission.IssueToken(ctx, consular, "second")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tn.mission.Client(ctx, token); err != nil {
				t.Fatal(err)
			}
			if _, err := tn.mission.RevokeTokens(ctx, consular); err != nil {
				t.Fatal(err)
			}
			if _, err := tn.mission.Client(ctx, token); !errors.Is(err, ErrBadClientToken) {
				t.Fatalf("Client after RevokeTokens: %v, want ErrBadClientToken", err)
			}
		})
	}
}

func TestTokenCacheDropsLookupsThatRacedARevocation(t *testing.T) {
	c := newTokenCache()
	now := time.Now()
	h := sha256.Sum256([]byte("chx_a"))
	_, gen, _ := c.get(h, now) // a lookup starts
	c.revoked()                // the token is revoked while it reads
	c.put(h, consular, gen, now)
	if _, _, ok := c.get(h, now); ok {
		t.Error("a lookup that raced a revocation was cached")
	}
	_, gen, _ = c.get(h, now)
	c.put(h, consular, gen, now)
	if id, _, ok := c.get(h, now); !ok || id != consular {
		t.Error("a lookup was not cached")
	}
	if _, _, ok := c.get(h, now.Add(tokenCacheTTL)); ok {
		t.Error("a lookup was trusted past tokenCacheTTL")
	}
}
