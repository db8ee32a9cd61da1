package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/exchange/registry"
	"chancery/internal/identity"
	"chancery/internal/sentinel"
	"chancery/internal/sentinel/detect"
	"chancery/internal/web"
)

// Sentinel on every node: the ledger publishes its integrated events to
// its JetStream stream; the watcher scores them (one replica of a
// headquarters at a time, by the lease in the database) and stores its
// alerts; the notifier mails security officers and feeds the syslog
// collector; a mission forwards its alerts to headquarters through the
// exchange: its subsystem "sentinel" sends to headquarters' asynchronous
// service sentinel/alerts/v1, which headquarters registers for every
// mission node it knows (sentinelProvision, part of provisionPlan).

const (
	sentinelSubsystem = "sentinel"
	sentinelService   = "alerts"
	sentinelVersion   = "v1"
)

func sentinelClient(member string) exchange.ClientID {
	return exchange.ClientID{Instance: exchange.DefaultInstance, Class: exchange.ClassGOV, Member: member, Subsystem: sentinelSubsystem}
}

// sentinelMembers are, from conf, the member that receives missions'
// alerts (the ministry's own, served by headquarters) and the member
// whose subsystem sends this node's (its own unit's: the ministry at
// headquarters, the mission at a mission); empty when conf names none.
func sentinelMembers(conf *exchange.GlobalConf, node string) (hq, self string) {
	for _, m := range conf.Members {
		if m.Kind == string(identity.KindMinistry) && m.Node == conf.HQ {
			hq = m.Code
		}
	}
	for _, n := range conf.Nodes {
		if n.ID == node {
			self = n.Member
		}
	}
	if self == "" && node == conf.HQ {
		self = hq
	}
	return hq, self
}

// sentinelActor names the system in the events of Sentinel's own work.
var sentinelActor = audit.Origin{Actor: audit.System("sentinel")}

// openSentinel builds the alerts' service.
func (a *App) openSentinel() error {
	var err error
	a.Sentinel, err = sentinel.NewService(sentinel.Options{DB: a.DB, Recorder: a.Audit})
	return err
}

// sentinelRoutes adds the alerts' API and the triage console.
func (a *App) sentinelRoutes(rt *web.Router, shell *web.Shell) error {
	h, err := sentinel.NewHandler(a.Sentinel, shell)
	if err != nil {
		return err
	}
	h.Register(rt)
	return nil
}

// newScorer is the scorer every watcher drives: the detection engine with
// its defaults.
func newScorer() (detect.Scorer, error) { return detect.New(detect.Config{}), nil }

// runSentinel starts the ledger's stream, the watcher, the notifier and,
// on a mission, the forwarder; at headquarters, the intake of missions'
// alerts.
func (a *App) runSentinel(spawn func(func(context.Context))) error {
	node := a.Node.ID()
	spawn(func(ctx context.Context) {
		a.Audit.PublishStream(ctx, a.Bus.JetStream(), node) //nolint:errcheck // logs its own errors and returns nil
	})
	nopts := sentinel.NotifierOptions{DB: a.DB, Mail: a.Mail, MailRisk: float64(a.cfg.SentinelMailRisk),
		Link: sentinel.AlertLink(a.publicURL()), Logger: a.log, Recipients: a.securityOfficers}
	if a.cfg.SentinelSyslog != "" {
		feed, err := sentinel.NewSyslog(a.cfg.SentinelSyslog, node)
		if err != nil {
			return err
		}
		nopts.Syslog = feed
	}
	notifier := sentinel.NewNotifier(nopts)
	var forwarder *sentinel.Forwarder
	if a.Node.Role() == exchange.RoleMission {
		forwarder = sentinel.NewForwarder(a.DB, sentinelCourier{a}, node, a.missionName(), a.log)
		spawn(forwarder.Run)
	} else {
		spawn(a.onOne("sentinel.mission-alerts", a.receiveMissionAlerts))
	}
	w, err := sentinel.NewWatcher(sentinel.WatcherOptions{DB: a.DB, Ledger: a.Audit, JetStream: a.Bus.JetStream(), Node: node,
		NewScorer: newScorer, Logger: a.log,
		OnAlerts: func(context.Context, []sentinel.Alert) {
			notifier.Nudge()
			if forwarder != nil {
				forwarder.Nudge()
			}
		}})
	if err != nil {
		return err
	}
	spawn(func(ctx context.Context) { w.Run(ctx) }) //nolint:errcheck // logs its own errors and returns nil
	spawn(a.onOne("sentinel.notify", notifier.Run))
	return nil
}

// securityOfficers are the addresses of the staff holding the security
// officer's role.
func (a *App) securityOfficers(ctx context.Context) ([]string, error) {
	staff, _, err := a.Identity.ListStaff(ctx, identity.StaffFilter{Roles: authz.RolesOf(authz.SecurityOfficer), Limit: 50})
	if err != nil {
		return nil, err
	}
	var to []string
	for _, m := range staff {
		if m.Email != "" {
			to = append(to, m.Email)
		}
	}
	return to, nil
}

// missionName is the name of the mission this node serves, from the
// global configuration; the node's id until it has one.
func (a *App) missionName() string {
	if conf, err := a.Node.Conf(); err == nil {
		if _, self := sentinelMembers(conf, a.Node.ID()); self != "" {
			if m, ok := conf.Member(exchange.Member{Instance: exchange.DefaultInstance, Class: exchange.ClassGOV, Code: self}.Key()); ok {
				return m.NameVI
			}
		}
	}
	return a.Node.ID()
}

// sentinelCourier sends a mission's alerts to headquarters' service.
type sentinelCourier struct{ a *App }

func (c sentinelCourier) Send(ctx context.Context, batch []byte) error {
	conf, err := c.a.Node.Conf()
	if err != nil {
		return err
	}
	hq, self := sentinelMembers(conf, c.a.Node.ID())
	if self == "" || hq == "" {
		return fmt.Errorf("%w: the global configuration names no headquarters or no member for this node yet", errs.ErrNotFound)
	}
	to := exchange.ServiceID{ClientID: sentinelClient(hq), Service: sentinelService, Version: sentinelVersion}
	_, err = c.a.Node.Send(ctx, exchange.Outgoing{From: sentinelClient(self), To: to, Level: authz.Confidential,
		ContentType: sentinel.ForwardContentType, Payload: batch})
	return err
}

// missionAlertsEvery is how often headquarters reads its inbox of
// missions' alerts when no arrival at this process woke it: for those
// another replica received, its receiver being on one replica only.
const missionAlertsEvery = 5 * time.Second

// receiveMissionAlerts, at headquarters, takes in the alerts missions
// forward, until ctx ends (runProvisioning registers their exchange).
func (a *App) receiveMissionAlerts(ctx context.Context) {
	ctx = audit.WithOrigin(ctx, sentinelActor)
	awaitArrivals(ctx, a.Node.Arrived, missionAlertsEvery, func() error {
		err := a.takeMissionAlerts(ctx)
		if err != nil && ctx.Err() == nil {
			a.log.Warn("sentinel: take in the missions' alerts (retried)", "err", err)
		}
		return err
	})
}

// sentinelProvision is Sentinel's part of a node's provisioning
// (provisionPlan): member's sentinel subsystem and, at headquarters, the
// service sentinel/alerts/v1 receiving missions' alerts, which a mission
// has the right to send to.
func sentinelProvision(hq, member string, mission bool) registry.Plan {
	p := registry.Plan{Subsystems: []registry.NewSubsystem{backgroundSubsystem(member, sentinelSubsystem, "Giám sát an ninh (Sentinel)", authz.Confidential)}}
	svc := exchange.ServiceID{ClientID: sentinelClient(hq), Service: sentinelService, Version: sentinelVersion}
	if !mission {
		p.Services = []registry.NewService{asyncService(svc, "Nhận cảnh báo an ninh của các cơ quan đại diện", "Sentinel: cảnh báo an ninh do cơ quan đại diện phát hiện, gửi về trụ sở.")}
		return p
	}
	p.Rights = []exchange.Right{{Service: svc, Client: sentinelClient(member)}}
	return p
}

// takeMissionAlerts stores what arrived on headquarters' sentinel
// subsystem, in order (takeInbox).
func (a *App) takeMissionAlerts(ctx context.Context) error {
	conf, err := a.Node.Conf()
	if err != nil {
		return nil
	}
	hq, _ := sentinelMembers(conf, a.Node.ID())
	if hq == "" {
		return nil
	}
	return a.takeInbox(ctx, sentinelClient(hq), "sentinel: a mission's batch of alerts", nil, func(d exchange.Delivered) error {
		from, _ := conf.NodeOf(d.Sender)
		n, err := a.Sentinel.Receive(ctx, from, d.Payload)
		if err == nil {
			a.log.Info("sentinel: alerts from a mission", "node", from, "new", n)
		}
		return err
	})
}

// takeInbox gives what arrived on the exchange inbox of this node's
// subsystem inbox to the taker, in order, a page at a time, and
// acknowledges each page's messages together (one commit, not one per
// message). takeAll, if not nil, takes a whole page in one transaction,
// all or nothing; when it fails, or is nil, take takes the page one
// message at a time. Either acknowledges what it took in or refused for
// good (an error of take wrapping errs.ErrInvalid, logged as what was
// refused: the taker records its own refusals). Another error of take
// stops until the next call, so the order holds. A crash between taking
// in and acknowledging, or a replica taking the same page, gives the
// taker a page again: takers know each item they store by its id, so it
// changes nothing. An inbox not registered yet holds nothing.
func (a *App) takeInbox(ctx context.Context, inbox exchange.ClientID, what string, takeAll func([]exchange.Delivered) error,
	take func(exchange.Delivered) error) error {
	const page = 100
	for after := int64(0); ; {
		got, err := a.Node.Inbox(ctx, inbox, after, page)
		if errors.Is(err, errs.ErrNotFound) {
			return nil // not registered yet
		} else if err != nil {
			return err
		}
		if len(got) == 0 {
			return nil
		}
		ids := make([]string, 0, len(got))
		if takeAll != nil {
			if err := takeAll(got); err == nil {
				for _, d := range got {
					ids = append(ids, d.ID)
				}
			} else if ctx.Err() != nil {
				return ctx.Err()
			} else {
				a.log.Debug(what+": the page is taken one message at a time", "messages", len(got), "err", err)
			}
		}
		if len(ids) == 0 {
			for _, d := range got {
				switch err := take(d); {
				case err == nil:
				case errors.Is(err, errs.ErrInvalid):
					a.log.Warn(what+" was refused", "message", d.ID, "sender", d.Sender.String(), "err", err)
				default:
					if _, aerr := a.Node.Ack(ctx, inbox, ids...); aerr != nil {
						return aerr
					}
					return fmt.Errorf("message %s from %s: %w", d.ID, d.Sender, err)
				}
				ids = append(ids, d.ID)
			}
		}
		if _, err := a.Node.Ack(ctx, inbox, ids...); err != nil {
			return err
		}
		after = got[len(got)-1].Seq
		if len(got) < page {
			return nil
		}
	}
}

// seedDemoSentinel records, on a demo headquarters' first start, activity
// that a security officer should hear about, for the watcher to score as
// it runs: a clerk reading dozens of documents in minutes late in the
// evening, and a burst of failed sign-ins against several accounts from
// one address.
func (a *App) seedDemoSentinel(ctx context.Context) error {
	clerk, err := a.Identity.StaffByUsername(ctx, "consular.clerk")
	if err != nil {
		return err
	}
	at := time.Now().UTC().Add(-3 * time.Hour)
	for i := range 46 {
		e := audit.Event{Time: at.Add(time.Duration(i) * 25 * time.Second), Actor: audit.Staff(clerk.ID, clerk.Username), UnitID: clerk.UnitID,
			Action: "document.read", ResourceType: "document", ResourceID: strconv.Itoa(9000 + i), Level: authz.Level(i % 2), Outcome: audit.Allowed,
			Attrs: map[string]string{"address": "10.20.30.41"}}
		if _, err := a.Audit.Append(ctx, e); err != nil {
			return err
		}
	}
	// Twelve wrong passwords for admin, then one each for six other
	// accounts, from one address within minutes: as the sign-in records
	// them (the system acting, the account named).
	users := append(slices.Repeat([]string{"admin"}, 12), "office.clerk", "consular.officer", "cipher.clerk", "consular.approver", "office.approver", "records.clerk")
	for i, user := range users {
		e := audit.Event{Time: at.Add(time.Hour + time.Duration(i)*10*time.Second), Actor: audit.System("auth"), Action: "login", Outcome: audit.Failed,
			Reason: "wrong password", Attrs: map[string]string{"username": user, "address": "203.0.113.45", "method": "password"}}
		if _, err := a.Audit.Append(ctx, e); err != nil {
			return err
		}
	}
	return nil
}
