package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/identity"
	"chancery/internal/mail"
	"chancery/internal/payment"
	"chancery/internal/procedures"
	"chancery/internal/store"
	"chancery/internal/web"
)

// openProcedures builds e-mail (the configured SMTP server, or in --demo
// the mailbox simulator) and the administrative procedure resolution
// system, which looks citizens up in the National Population Database and
// reports statuses to the National Public Service Portal through this
// node's exchange.
func (a *App) openProcedures(ctx context.Context) error {
	var send mail.Sender
	var err error
	switch {
	case a.cfg.SMTPAddr != "":
		send, err = mail.NewSMTP(mail.SMTPConfig{Addr: a.cfg.SMTPAddr, From: a.cfg.MailFrom, Username: a.cfg.SMTPUsername,
			Password: a.cfg.SMTPPassword, ImplicitTLS: a.cfg.SMTPImplicitTLS, NoTLS: a.cfg.SMTPNoTLS})
	case a.cfg.Demo:
		if a.mailbox, err = mail.StartServer(context.WithoutCancel(ctx), "127.0.0.1:0", mail.ServerConfig{Log: a.log}); err != nil {
			return err
		}
		send, err = mail.NewSMTP(mail.SMTPConfig{Addr: a.mailbox.Addr(), From: a.cfg.MailFrom, NoTLS: true})
	}
	if err != nil {
		return err
	}
	if send != nil {
		a.Mail = mail.NewOutbox(a.DB, send, mail.OutboxConfig{Log: a.log})
	}
	cat, err := procedures.BuiltinCatalogue()
	if a.cfg.Catalogue != "" {
		cat, err = procedures.LoadCatalogueDir(a.cfg.Catalogue)
	}
	if err != nil {
		return fmt.Errorf("the catalogue of procedures: %w", err)
	}
	link := &exchangeLink{node: a.Node, dir: a.Identity}
	opts := procedures.Options{DB: a.DB, Catalogue: cat, Ring: a.Keys, Bucket: a.Blobs, Directory: a.Identity, Recorder: a.Audit,
		Population: link, Portal: link, Log: a.log}
	if a.Mail != nil {
		opts.Notifier = notifier{a.Mail}
	}
	if a.Procedures, err = procedures.NewService(opts); err != nil {
		return err
	}
	// A merger moves the absorbed unit's open dossiers in the merger's
	// own transaction, so no dossier is left with a unit that no longer
	// works.
	a.Identity.OnMerge(func(ctx context.Context, tx *store.Tx, from, into identity.Unit) error {
		_, err := a.Procedures.TransferOpenTx(ctx, tx, from.ID, into.ID, into.Code)
		return err
	})
	// A mission in a country without calendar data is created, and its
	// administrator warned that deadlines there use Viet Nam's holidays.
	a.Identity.OnCreate(a.Procedures.CheckNewUnitTx)
	return nil
}

// notifier queues the procedures' notices in the mail outbox.
type notifier struct{ out *mail.Outbox }

func (n notifier) NotifyTx(ctx context.Context, tx *store.Tx, m procedures.Notice) error {
	return n.out.EnqueueTx(ctx, tx, mail.Message{To: []string{m.To}, Subject: m.Subject, Text: m.Text})
}

func (n notifier) Nudge() { n.out.Nudge() }

// exchangeLink is how the procedures reach outside agencies: through this
// node's exchange, as its procedures subsystem (at headquarters) or its
// consular subsystem (at a mission).
type exchangeLink struct {
	node *exchange.Node
	dir  *identity.Service
	// hq is headquarters' client once found: the ministry's code does
	// not change, so it is looked up once, not on every report.
	hq atomic.Pointer[exchange.ClientID]
}

// The outside services the procedures use.
var (
	citizenLookup = exchange.ServiceID{ClientID: demoPopulation, Service: "citizen-lookup", Version: "v1"}
	dossierStatus = exchange.ServiceID{ClientID: demoPortal, Service: "dossier-status", Version: "v1"}
)

// client returns the subsystem the procedures act as.
func (l *exchangeLink) client(ctx context.Context) (exchange.ClientID, error) {
	c := exchange.ClientID{Instance: exchange.DefaultInstance, Class: exchange.ClassGOV}
	if l.node.Role() == exchange.RoleMission {
		conf, err := l.node.Conf()
		if err != nil {
			return c, err
		}
		info, ok := conf.Node(l.node.ID())
		if !ok {
			return c, fmt.Errorf("%w: this node is not in the exchange's configuration", errs.ErrUnavailable)
		}
		c.Member, c.Subsystem = info.Member, "consular"
		return c, nil
	}
	if hq := l.hq.Load(); hq != nil {
		return *hq, nil
	}
	units, err := l.dir.AllUnits(ctx)
	if err != nil {
		return c, err
	}
	for _, u := range units {
		if u.ParentID == 0 {
			c.Member, c.Subsystem = u.Code, "procedures"
			l.hq.Store(&c)
			return c, nil
		}
	}
	return c, fmt.Errorf("%w: the directory has no ministry", errs.ErrUnavailable)
}

// Lookup asks the National Population Database for a citizen, saying for
// whom and why (the exchange carries both to the database's log).
func (l *exchangeLink) Lookup(ctx context.Context, q procedures.PopulationQuery) (procedures.Person, error) {
	client, err := l.client(ctx)
	if err != nil {
		return procedures.Person{}, err
	}
	id := q.IDNumber
	h := http.Header{}
	h.Set("Accept", "application/json")
	h.Set(exchange.HeaderUserID, q.EndUser)
	h.Set(exchange.HeaderIssue, q.Purpose)
	resp, err := l.node.Call(ctx, client, &exchange.Request{Service: citizenLookup, Method: http.MethodGet,
		Path: "/v1/citizens/" + url.PathEscape(id), Header: h, Level: authz.Unclassified})
	if err != nil {
		return procedures.Person{}, fmt.Errorf("%w: the National Population Database cannot be reached: %v", errs.ErrUnavailable, err)
	}
	switch {
	case resp.Status == http.StatusNotFound:
		return procedures.Person{}, fmt.Errorf("%w: the National Population Database has no citizen with number %s", errs.ErrNotFound, id)
	case resp.Status != http.StatusOK:
		return procedures.Person{}, fmt.Errorf("%w: the National Population Database answered %d", errs.ErrUnavailable, resp.Status)
	}
	var p procedures.Person
	if err := json.Unmarshal(resp.Body, &p); err != nil {
		return procedures.Person{}, fmt.Errorf("%w: the National Population Database's answer is not understood: %v", errs.ErrUnavailable, err)
	}
	return p, nil
}

// SendStatus hands a status report to the exchange for the portal.
func (l *exchangeLink) SendStatus(ctx context.Context, payload []byte) (string, error) {
	client, err := l.client(ctx)
	if err != nil {
		return "", err
	}
	return l.node.Send(ctx, exchange.Outgoing{From: client, To: dossierStatus, Level: authz.Unclassified,
		ContentType: "application/json", Payload: payload})
}

// proceduresRoutes registers the procedures' pages and API, the payment
// callback, and in --demo the mailbox simulator's page.
func (a *App) proceduresRoutes(rt *web.Router, shell *web.Shell) error {
	opts := procedures.HandlerOptions{Service: a.Procedures, Staff: staffDirectory{a.Identity}}
	gw, err := a.paymentGateway()
	if err != nil {
		return err
	}
	if gw != nil {
		opts.Checkout, opts.PaymentSecret = gw.checkout, gw.secret
	}
	h, err := procedures.NewHandler(shell, opts)
	if err != nil {
		return err
	}
	h.Register(rt)
	if a.mailbox != nil {
		mh, err := mail.NewMailboxHandler(a.mailbox, shell)
		if err != nil {
			return err
		}
		mh.Register(rt)
	}
	return nil
}

// runProcedures sends queued mail and status reports until ctx ends, and
// on a demo headquarters' first serve records the demo's history of
// dossiers.
func (a *App) runProcedures(spawn func(func(context.Context))) {
	if a.cfg.Demo && a.sims != nil {
		spawn(func(ctx context.Context) {
			if err := a.seedDemoDossiers(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("procedures: seed the demo dossiers", "err", err)
			}
		})
	}
	if a.Mail != nil {
		spawn(func(ctx context.Context) { a.Mail.Run(ctx) }) //nolint:errcheck // Run logs its own errors
	}
	spawn(func(ctx context.Context) {
		a.Procedures.RunPortalSync(audit.WithOrigin(ctx, audit.Origin{Actor: audit.System("portal-sync")})) //nolint:errcheck // logs its own errors
	})
}

// gateway is the payment gateway Chancery's orders go to.
type gateway struct {
	api, key string
	secret   []byte
	callback func() string // the callback URL, known once the server listens
	client   *http.Client
}

// paymentGateway returns the configured payment gateway, in --demo the
// simulator, or nil when online payment is off.
func (a *App) paymentGateway() (*gateway, error) {
	gw := &gateway{client: &http.Client{Timeout: 15 * time.Second},
		callback: func() string { return a.publicURL() + "/payments/v1/callback" }}
	switch {
	case a.cfg.PaymentGateway != "":
		secret, err := payment.ParseSecret(a.cfg.PaymentSecret)
		if err != nil {
			return nil, fmt.Errorf("--payment-secret: %w", err)
		}
		gw.api, gw.key, gw.secret = strings.TrimSuffix(a.cfg.PaymentGateway, "/"), a.cfg.PaymentMerchantKey, secret
	case a.sims != nil:
		gw.api, gw.key, gw.secret = a.sims.PaymentURL(), a.sims.PaymentMerchantKey(), a.sims.PaymentSecret()
	default:
		return nil, nil
	}
	return gw, nil
}

// checkout creates an order at the gateway and returns the gateway's
// checkout page.
func (g *gateway) checkout(ctx context.Context, o procedures.PaymentOrder, returnURL string) (string, error) {
	body, err := json.Marshal(payment.Order{OrderID: o.ID, Amount: o.Amount, Currency: o.Currency,
		Description: o.Description, ReturnURL: returnURL, CallbackURL: g.callback()})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.api+"/v1/orders", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+g.key)
	resp, err := g.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: the payment gateway cannot be reached: %v", errs.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w: the payment gateway refused the order (%d): %s", errs.ErrUnavailable, resp.StatusCode, bytes.TrimSpace(raw))
	}
	var created payment.Created
	if err := json.Unmarshal(raw, &created); err != nil || created.PaymentURL == "" {
		return "", errors.Join(fmt.Errorf("%w: the payment gateway's answer has no payment address", errs.ErrUnavailable), err)
	}
	return created.PaymentURL, nil
}

// staffDirectory gives the procedures' pages staff names and whom a
// dossier may be assigned to.
type staffDirectory struct{ dir *identity.Service }

func (s staffDirectory) StaffName(ctx context.Context, id int64) (string, error) {
	m, err := s.dir.Staff(ctx, id)
	return m.FullName, err
}

func (s staffDirectory) Assignable(ctx context.Context, unitID int64) ([]procedures.StaffChoice, error) {
	var out []procedures.StaffChoice
	for _, role := range []authz.Role{authz.Officer, authz.Approver} {
		list, _, err := s.dir.ListStaff(ctx, identity.StaffFilter{UnitID: unitID, Roles: authz.RolesOf(role), Limit: identity.MaxLimit})
		if err != nil {
			return nil, err
		}
		for _, m := range list {
			if !slices.ContainsFunc(out, func(c procedures.StaffChoice) bool { return c.ID == m.ID }) {
				out = append(out, procedures.StaffChoice{ID: m.ID, Name: m.FullName})
			}
		}
	}
	return out, nil
}

// demoDossiersKey marks a database whose demo dossiers are recorded.
const demoDossiersKey = "procedures.demo_dossiers"

// seedDemoDossiers verifies the demo citizens' identity numbers and
// records half a year of the Consular Department's dossiers, once. It runs in the background of the first serve, when the
// exchange is up, so that applications are prefilled from the population
// simulator as they would be.
func (a *App) seedDemoDossiers(ctx context.Context) error {
	people := procedures.DemoPeople{UnitCode: "000.00.03.G12"}
	// The demo's citizens have their identity numbers verified (as a
	// clerk does at the counter), so their forms may be prefilled: on
	// every serve, for an account that has none yet.
	sys := audit.WithOrigin(ctx, audit.Origin{Actor: audit.System("demo")})
	for _, c := range []struct{ email, id, dob, sex string }{
		{"citizen@example.com", "001188004215", "1988-03-14", "female"},
		{"tran.van.minh@example.com", "036079001187", "1979-11-02", "male"},
	} {
		citizen, err := a.Identity.CitizenByEmail(ctx, c.email)
		if err != nil {
			return err
		}
		_, err = a.Procedures.VerifiedIDNumber(ctx, citizen.ID)
		if errors.Is(err, errs.ErrNotFound) {
			err = a.Procedures.VerifyIdentity(sys, authz.Subject{Kind: authz.System}, citizen.ID, c.id)
		}
		if err != nil {
			return fmt.Errorf("verify the demo citizen %s's identity number: %w", c.email, err)
		}
		people.Citizens = append(people.Citizens, procedures.DemoCitizen{Subject: citizen.Subject(), Name: citizen.FullName, Email: citizen.Email,
			IDNumber: c.id, DOB: c.dob, Sex: c.sex})
	}
	if _, err := a.DB.Meta(ctx, demoDossiersKey); err == nil {
		return nil
	} else if !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	for username, into := range map[string]*procedures.DemoStaff{"consular.clerk": &people.Clerk, "consular.officer": &people.Officer, "consular.approver": &people.Approver} {
		m, err := a.Identity.StaffByUsername(ctx, username)
		if err != nil {
			return err
		}
		*into = procedures.DemoStaff{Subject: m.Subject(), Username: m.Username}
	}
	// The exchange's gateway starts beside this; wait until a lookup
	// goes through (or give up on prefilling after a while).
	first := people.Citizens[0]
	cctx := audit.WithOrigin(ctx, audit.Origin{Actor: audit.Citizen(first.Subject.ID, "")})
	for range 50 {
		if _, err := a.Procedures.Prefill(cctx, first.Subject, "1.900001"); err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := procedures.SeedDemo(ctx, a.Procedures, people, time.Now()); err != nil {
		return err
	}
	return store.SetMeta(ctx, a.DB, demoDossiersKey, time.Now().UTC().Format(time.RFC3339))
}
