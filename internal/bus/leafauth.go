package bus

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"

	"github.com/nats-io/nats-server/v2/server"
)

// A leaf link carries another organisation's server into this one, so it
// is never open: the hub's listener takes TLS only, admits only the leaf
// nodes its LeafHub.Admit vouches for, and binds each to an account of its
// own, named after the leaf, which starts empty. The leaf then reaches
// nothing of the hub's, neither its subjects nor its JetStream API, but
// what GrantLeaf routes into its account, subject by subject.

// LeafHub secures the embedded server's leaf listener. Open requires it
// when Options.LeafListenPort is set.
type LeafHub struct {
	// TLS is the listener's TLS configuration, with the hub's
	// certificate. A leaf that does not speak TLS is refused.
	TLS *tls.Config

	// Admit decides whether a connecting leaf node may join: name is the
	// identity it claims (its server name, Options.ServerName) and sig
	// its signature of the server's nonce. A
	// nil error admits it, bound to the account named name. Admit runs
	// for every connection, so a leaf refused once stays out.
	Admit func(name string, nonce, sig []byte) error
}

// LeafDial is how the embedded server proves itself to the hubs of
// Options.LeafRemotes. Open requires it when LeafRemotes is set.
type LeafDial struct {
	// TLS verifies the hub; it must not be nil.
	TLS *tls.Config
	// Sign signs the hub's nonce, as LeafHub.Admit checks it.
	Sign func(nonce []byte) ([]byte, error)
	// User and Password, when User is set, are the mission's leaf user
	// on a stock nats-server cluster (deploy/nats: leafnodes
	// authorization, one user per mission, bound to its account), which
	// cannot check Sign's signature. They go in the leaf CONNECT beside
	// the signature, over TLS; Chancery's own hub ignores them.
	User, Password string
}

// HubAccount names the hub's own account in a LeafService or LeafFeed:
// where the hub's own connection, and its JetStream, live.
const HubAccount = ""

// A LeafService routes requests between two accounts of the hub:
// what Caller publishes on Subject reaches Provider's account on Target,
// and the answers come back. Caller and Provider are leaf names, or
// HubAccount.
type LeafService struct {
	Caller, Provider string
	Subject          string
	// Target is the subject in Provider's account; empty is Subject.
	Target string
	// Streamed says that one request is answered by many messages (a
	// JetStream pull), not by one.
	Streamed bool
}

// A LeafFeed delivers what Publisher publishes on Subject to Reader's
// account.
type LeafFeed struct {
	Reader, Publisher string
	Subject           string
}

// leafAuth is the server's client authentication: leaf nodes must pass
// the hub's Admit; local clients (the bus's in-process connection, and
// the client port, which listens on the operator's own interface) pass
// as before, in the global account.
type leafAuth struct {
	hub *LeafHub
	log *slog.Logger
	ns  *server.Server // set before the server starts

	mu    sync.Mutex
	known map[string]bool // accounts created for leaves; guarded by mu
}

var _ server.Authentication = (*leafAuth)(nil)

// Check implements server.Authentication.
func (a *leafAuth) Check(c server.ClientAuthentication) bool {
	switch c.Kind() {
	case server.CLIENT:
		return true
	case server.LEAF:
	default:
		return false
	}
	// The leaf's server name is who it claims to be; the signature
	// proves it.
	o := c.GetOpts()
	name := o.Name
	sig, err := base64.RawURLEncoding.DecodeString(o.Sig)
	if err != nil || name == "" || a.hub.Admit == nil {
		return false
	}
	if err := a.hub.Admit(name, c.GetNonce(), sig); err != nil {
		a.log.Warn("leaf node refused", "name", name, "addr", c.RemoteAddress().String(), "err", err)
		return false
	}
	acc, err := a.account(name)
	if err != nil {
		return false
	}
	c.RegisterUser(&server.User{Username: name, Account: acc})
	return true
}

// account returns the account of a leaf, creating it empty.
func (a *leafAuth) account(name string) (*server.Account, error) {
	if name == HubAccount || name == server.DEFAULT_GLOBAL_ACCOUNT || name == server.DEFAULT_SYSTEM_ACCOUNT {
		return nil, fmt.Errorf("bus: %q cannot name a leaf node", name)
	}
	acc, _ := a.ns.LookupOrRegisterAccount(name)
	return acc, nil
}

// AcceptsLeafs reports whether the embedded server has a leaf listener,
// whose accounts GrantLeaf routes.
func (b *Bus) AcceptsLeafs() bool { return b.auth != nil }

// resolvePair returns the hub accounts a LeafService or LeafFeed names:
// the one that imports, and the one that exports.
func (b *Bus) resolvePair(importer, exporter string) (imp, exp *server.Account, err error) {
	resolve := func(name string) (*server.Account, error) {
		if name == HubAccount {
			return b.ns.GlobalAccount(), nil
		}
		return b.auth.account(name)
	}
	if imp, err = resolve(importer); err == nil {
		exp, err = resolve(exporter)
	}
	return imp, exp, err
}

// GrantLeaf adds routes between the hub's accounts: services and feeds.
// Routes already granted are left as they are, so the caller may pass
// the whole set each time. It fails on a bus without a leaf listener.
func (b *Bus) GrantLeaf(services []LeafService, feeds []LeafFeed) error {
	if b.ns == nil || b.auth == nil {
		return errors.New("bus: only an embedded server with a leaf listener grants leaf routes")
	}
	b.auth.mu.Lock()
	defer b.auth.mu.Unlock()
	if b.auth.known == nil {
		b.auth.known = map[string]bool{}
	}
	for _, s := range services {
		target := s.Target
		if target == "" {
			target = s.Subject
		}
		key := fmt.Sprintf("s\x00%s\x00%s\x00%s\x00%s", s.Caller, s.Provider, s.Subject, target)
		if b.auth.known[key] {
			continue
		}
		caller, provider, err := b.resolvePair(s.Caller, s.Provider)
		if err != nil {
			return err
		}
		rt := server.Singleton
		if s.Streamed {
			rt = server.Streamed
		}
		if err := provider.AddServiceExportWithResponse(target, rt, []*server.Account{caller}); err != nil {
			return fmt.Errorf("bus: export %s from %q to %q: %w", target, s.Provider, s.Caller, err)
		}
		if err := caller.AddServiceImport(provider, s.Subject, target); err != nil {
			return fmt.Errorf("bus: import %s into %q from %q: %w", s.Subject, s.Caller, s.Provider, err)
		}
		b.auth.known[key] = true
	}
	for _, f := range feeds {
		key := fmt.Sprintf("f\x00%s\x00%s\x00%s", f.Reader, f.Publisher, f.Subject)
		if b.auth.known[key] {
			continue
		}
		reader, publisher, err := b.resolvePair(f.Reader, f.Publisher)
		if err != nil {
			return err
		}
		if err := publisher.AddStreamExport(f.Subject, []*server.Account{reader}); err != nil {
			return fmt.Errorf("bus: export feed %s from %q to %q: %w", f.Subject, f.Publisher, f.Reader, err)
		}
		if err := reader.AddStreamImport(publisher, f.Subject, ""); err != nil {
			return fmt.Errorf("bus: import feed %s into %q from %q: %w", f.Subject, f.Reader, f.Publisher, err)
		}
		b.auth.known[key] = true
	}
	return nil
}

// DisconnectLeaf closes the links of the leaf node name, and reports how
// many it closed. Whether it may come back is its Admit's to say.
func (b *Bus) DisconnectLeaf(name string) (int, error) {
	if b.ns == nil || b.auth == nil || name == HubAccount {
		return 0, nil
	}
	lz, err := b.ns.Leafz(&server.LeafzOptions{Account: name})
	if err != nil {
		return 0, fmt.Errorf("bus: list the links of leaf %s: %w", name, err)
	}
	n := 0
	for _, l := range lz.Leafs {
		if l.Account != name || l.IsSpoke {
			continue
		}
		if err := b.ns.DisconnectClientByID(l.ID); err == nil {
			n++
		}
	}
	return n, nil
}

// leafRemoteAuth sets the TLS and the signature of a remote.
func leafRemoteAuth(r *server.RemoteLeafOpts, d *LeafDial) {
	r.TLS = true
	r.TLSConfig = d.TLS.Clone()
	if d.User != "" {
		// nats-server sends a remote URL's userinfo in the leaf CONNECT
		// (and redacts it in its logs). The URLs are leafRemote's own.
		for _, u := range r.URLs {
			u.User = url.UserPassword(d.User, d.Password)
		}
	}
	sign := d.Sign
	r.SignatureCB = func(nonce []byte) (string, []byte, error) {
		sig, err := sign(nonce)
		return "", sig, err
	}
}
