package exchange

import (
	"crypto/sha256"
	"sync"
	"time"
)

// Client-token lookups are cached for tokenCacheTTL: a token is checked
// on every gateway call, and its database read cost more than the rest
// of the caller's work. RevokeTokens empties this process's cache at
// once; another process serving the same node (a replica) keeps a revoked
// token working for at most tokenCacheTTL.

const (
	// tokenCacheTTL is how long a looked-up token is trusted.
	tokenCacheTTL = 2 * time.Second
	// tokenCacheSize bounds the cached tokens.
	tokenCacheSize = 1024
)

// tokenCache maps the hashes of valid client tokens to their subsystems.
type tokenCache struct {
	mu  sync.Mutex
	gen uint64                         // bumped by each revocation; guarded by mu
	m   map[[sha256.Size]byte]tokenHit // guarded by mu
}

type tokenHit struct {
	client  ClientID
	expires time.Time
}

func newTokenCache() *tokenCache { return &tokenCache{m: map[[sha256.Size]byte]tokenHit{}} }

// get returns the subsystem of the token hashing to h, if cached, and
// the generation to pass to put after a database lookup.
func (c *tokenCache) get(h [sha256.Size]byte, now time.Time) (ClientID, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	hit, ok := c.m[h]
	if ok && now.Before(hit.expires) {
		return hit.client, c.gen, true
	}
	return ClientID{}, c.gen, false
}

// put caches a lookup that started at generation gen, unless a
// revocation came since: the lookup may have read the token before it
// was revoked.
func (c *tokenCache) put(h [sha256.Size]byte, client ClientID, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.m) >= tokenCacheSize {
		for k, hit := range c.m {
			if !now.Before(hit.expires) || len(c.m) >= tokenCacheSize {
				delete(c.m, k)
			}
		}
	}
	c.m[h] = tokenHit{client: client, expires: now.Add(tokenCacheTTL)}
}

// revoked forgets every cached token; revocations are rare.
func (c *tokenCache) revoked() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.m)
}
