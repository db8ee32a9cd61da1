package exchange

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// Information systems authenticate to their own node with a client token,
// a bearer token bound to one subsystem. Tokens are node-local: a mission
// issues tokens for the systems it serves and checks them with no call to
// headquarters, so its systems keep working while the link is down.

// ClientTokenPrefix starts every client token, which tells them apart from
// staff API tokens in the same Authorization header.
const ClientTokenPrefix = "chx_"

// ErrBadClientToken is returned for a missing, unknown or revoked client
// token.
var ErrBadClientToken = fmt.Errorf("exchange: the client token is missing, unknown or revoked "+
	"(send \"Authorization: Bearer chx_…\" with a token issued for your subsystem on this node): %w", errs.ErrUnauthenticated)

// ClientToken returns the client token of r's Authorization header, if it
// carries one.
func ClientToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(token, ClientTokenPrefix) {
		return "", false
	}
	return token, true
}

// Authenticate resolves the client token of r's Authorization header, if
// it carries one (ok), into the principal of the subsystem the token was
// issued for: an authz.Client subject, a bearer. This is the one place a
// client token is checked; the router then admits the principal on the
// exchange's client routes only (web.Client). An unknown, revoked or
// foreign token is ErrBadClientToken, so the request is refused before
// anything reads its body.
func (n *Node) Authenticate(r *http.Request) (p web.Principal, ok bool, err error) {
	token, ok := ClientToken(r)
	if !ok {
		return web.Principal{}, false, nil
	}
	c, err := n.Client(r.Context(), token)
	if errors.Is(err, ErrBadClientToken) {
		return web.Principal{}, true, web.WithCode(err, "unauthenticated")
	}
	if err != nil {
		return web.Principal{}, true, err
	}
	id := c.String()
	return web.Principal{Subject: authz.Subject{Kind: authz.Client, Subsystem: id}, Username: id, Name: id, Stage: "full", Bearer: true}, true, nil
}

// clientOf returns the subsystem of the request's client principal, which
// the router admitted on a web.Client route.
func clientOf(r *http.Request) (ClientID, error) {
	s := web.SubjectFrom(r.Context())
	if s.Kind != authz.Client {
		return ClientID{}, ErrBadClientToken
	}
	return ParseClientID(s.Subsystem)
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// IssueToken issues a client token for a subsystem this node serves, and
// returns it; only its hash is kept, so it is shown once. It returns an
// error wrapping errs.ErrNotFound if the configuration lists no such
// subsystem on this node.
func (n *Node) IssueToken(ctx context.Context, client ClientID, label string) (string, error) {
	conf, err := n.Conf()
	if err != nil {
		return "", err
	}
	if _, ok := conf.Subsystem(client); !ok {
		return "", fmt.Errorf("exchange: subsystem %s is not in the global configuration (register it at headquarters first): %w", client, errs.ErrNotFound)
	}
	if node, _ := conf.NodeOf(client); node != n.id {
		return "", fmt.Errorf("exchange: subsystem %s is served by node %s, not this node %s; issue its token there: %w", client, node, n.id, errs.ErrInvalid)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	token := ClientTokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	_, err = n.db.ExecContext(ctx, n.db.Rebind(`INSERT INTO exchange_tokens (token_hash, client, label, created_us) VALUES (?, ?, ?, ?)`),
		tokenHash(token), client.String(), label, n.now().UnixMicro())
	if err != nil {
		return "", fmt.Errorf("exchange: save client token: %w", err)
	}
	return token, nil
}

// Client returns the subsystem a client token was issued for. It returns
// ErrBadClientToken for an unknown or revoked token, or one whose
// subsystem this node no longer serves. Valid tokens are cached for
// tokenCacheTTL (see tokenCache).
func (n *Node) Client(ctx context.Context, token string) (ClientID, error) {
	if !strings.HasPrefix(token, ClientTokenPrefix) {
		return ClientID{}, ErrBadClientToken
	}
	h := sha256.Sum256([]byte(token))
	id, gen, ok := n.gateway().tokens.get(h, n.now())
	if !ok {
		var (
			client  string
			revoked sql.NullInt64
		)
		err := n.db.QueryRowContext(ctx, n.db.Rebind(`SELECT client, revoked_us FROM exchange_tokens WHERE token_hash = ?`), h[:]).Scan(&client, &revoked)
		if errors.Is(err, sql.ErrNoRows) || revoked.Valid {
			return ClientID{}, ErrBadClientToken
		}
		if err != nil {
			return ClientID{}, fmt.Errorf("exchange: check client token: %w", err)
		}
		if id, err = ParseClientID(client); err != nil {
			return ClientID{}, fmt.Errorf("exchange: stored token names a malformed client: %w", err)
		}
		n.gateway().tokens.put(h, id, gen, n.now())
	}
	if conf, err := n.Conf(); err == nil {
		if node, ok := conf.NodeOf(id); !ok || node != n.id {
			return ClientID{}, ErrBadClientToken
		}
	}
	return id, nil
}

// RevokeTokens revokes every token of client and reports how many. The
// tokens stop working in this process at once, and in other processes
// serving the node within tokenCacheTTL.
func (n *Node) RevokeTokens(ctx context.Context, client ClientID) (int64, error) {
	res, err := n.db.ExecContext(ctx, n.db.Rebind(`UPDATE exchange_tokens SET revoked_us = ? WHERE client = ? AND revoked_us IS NULL`),
		n.now().UnixMicro(), client.String())
	// After the update, even a failed one: a lookup that read the token
	// before it may not cache it.
	n.gateway().tokens.revoked()
	if err != nil {
		return 0, fmt.Errorf("exchange: revoke tokens of %s: %w", client, err)
	}
	return res.RowsAffected()
}
