package app

import (
	"chancery/internal/dlp"
	"context"
	"fmt"
	"slices"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/demo"
	"chancery/internal/exchange"
	"chancery/internal/identity"
	"chancery/internal/mail"
	"chancery/internal/payment"
	"chancery/internal/procedures"
	"chancery/internal/store"
	"chancery/internal/web"
)

// openMail builds e-mail: the outbox sending through the configured SMTP
// server, or in --demo through the mailbox simulator; none otherwise.
func (a *App) openMail(ctx context.Context) error {
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
		a.Mail = mail.NewOutbox(a.DB, send, mail.OutboxConfig{Log: a.log, Egress: a.DLP.Gate(dlp.WayMail)})
	}
	return nil
}

// openProcedures builds the administrative procedure resolution system,
// which looks citizens up in the National Population Database and
// reports statuses to the National Public Service Portal through this
// node's exchange, and mails its notices through the outbox (openMail).
func (a *App) openProcedures() error {
	cat, err := procedures.BuiltinCatalogue()
	if a.cfg.Catalogue != "" {
		cat, err = procedures.LoadCatalogueDir(a.cfg.Catalogue)
	}
	if err != nil {
		return fmt.Errorf("the catalogue of procedures: %w", err)
	}
	population, statuses, err := a.outsideServices()
	if err != nil {
		return err
	}
	link := procedures.NewExchangeClient(a.Node, a.Identity, population, statuses)
	opts := procedures.Options{DB: a.DB, Catalogue: cat, Ring: a.Keys, Bucket: a.Blobs, Directory: a.Identity, Recorder: a.Audit,
		Population: link, NationalPortal: link, Log: a.log, SiteURL: a.publicURL()}
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

// proceduresRoutes registers the procedures' pages and API, the payment
// callback, and in --demo the mailbox simulator's page.
func (a *App) proceduresRoutes(rt *web.Router, shell *web.Shell) error {
	opts := procedures.HandlerOptions{Service: a.Procedures, Staff: staffDirectory{directoryNames{a.Identity}}}
	gw, secret, err := a.paymentGateway()
	if err != nil {
		return err
	}
	if gw != nil {
		opts.Checkout, opts.PaymentSecret = checkout(gw), secret
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
			if err := demo.SeedDossiers(ctx, a.DB, a.Identity, a.Procedures); err != nil && ctx.Err() == nil {
				a.log.Error("procedures: seed the demo dossiers", "err", err)
			}
		})
	}
	if a.Mail != nil {
		spawn(func(ctx context.Context) { a.Mail.Run(ctx) }) //nolint:errcheck // Run logs its own errors
	}
	spawn(a.onOne("procedures.portal-sync", func(ctx context.Context) {
		a.Procedures.RunNationalPortalSync(audit.WithOrigin(ctx, audit.Origin{Actor: audit.System("portal-sync")})) //nolint:errcheck // logs its own errors
	}))
}

// paymentGateway returns the client of the configured payment gateway,
// in --demo of the simulator, with the key its callbacks are signed with;
// nil when online payment is off.
func (a *App) paymentGateway() (*payment.Client, []byte, error) {
	callback := func() string { return a.publicURL() + "/payments/v1/callback" }
	switch {
	case a.cfg.PaymentGateway != "":
		secret, err := payment.ParseSecret(a.cfg.PaymentSecret)
		if err != nil {
			return nil, nil, fmt.Errorf("--payment-secret: %w", err)
		}
		return payment.NewClient(a.cfg.PaymentGateway, a.cfg.PaymentMerchantKey, callback), secret, nil
	case a.sims != nil:
		return payment.NewClient(a.sims.PaymentURL(), a.sims.PaymentMerchantKey(), callback), a.sims.PaymentSecret(), nil
	}
	return nil, nil, nil
}

// checkout starts a dossier's payment at gw.
func checkout(gw *payment.Client) func(ctx context.Context, o procedures.PaymentOrder, returnURL string) (string, error) {
	return func(ctx context.Context, o procedures.PaymentOrder, returnURL string) (string, error) {
		return gw.Checkout(ctx, payment.Order{OrderID: o.ID, Amount: o.Amount, Currency: o.Currency,
			Description: o.Description, ReturnURL: returnURL})
	}
}

// staffDirectory gives the procedures' pages staff names and whom a
// dossier may be assigned to.
// It names staff as the pages do (directoryNames).
type staffDirectory struct{ directoryNames }

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

// outsideServices are the exchange services the procedures use, from the
// configuration (--population-service, --dossier-status-service).
func (a *App) outsideServices() (population, statuses exchange.ServiceID, err error) {
	if population, err = exchange.ParseServiceID(a.cfg.PopulationService); err != nil {
		return population, statuses, fmt.Errorf("--population-service: %w", err)
	}
	if statuses, err = exchange.ParseServiceID(a.cfg.DossierStatusService); err != nil {
		return population, statuses, fmt.Errorf("--dossier-status-service: %w", err)
	}
	return population, statuses, nil
}
