package app

import (
	"context"
	"fmt"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/identity"
	"chancery/internal/insight"
	"chancery/internal/mail"
	"chancery/internal/store"
	"chancery/internal/web"
)

// openInsight builds leadership tasks and periodic reports. Tasks from a
// Records document read it as the leader may (records.Get), and overdue
// tasks' notices go out by mail.
func (a *App) openInsight() error {
	opts := insight.Options{DB: a.DB, Recorder: a.Audit, Directory: a.Identity, Documents: insightDocuments{a}, Courier: insightCourier{a}}
	if a.Mail != nil {
		opts.Notifier = insightNotifier{a}
	}
	var err error
	a.Insight, err = insight.NewService(opts)
	return err
}

// insightRoutes adds insight's console pages and JSON API.
func (a *App) insightRoutes(rt *web.Router, shell *web.Shell) error {
	h, err := insight.NewHandler(shell, a.Insight)
	if err != nil {
		return err
	}
	h.Register(rt)
	return nil
}

// insightDocuments is Records as a task sees its document.
type insightDocuments struct{ a *App }

func (d insightDocuments) DocumentRef(ctx context.Context, sub authz.Subject, id int64) (insight.DocumentRef, error) {
	v, err := d.a.Records.Get(ctx, sub, id)
	if err != nil {
		return insight.DocumentRef{}, err
	}
	return insight.DocumentRef{Number: v.Number, Subject: v.Subject, Level: v.Classification}, nil
}

// insightNotifier mails an overdue task's notice to the leader who
// assigned it and the heads (approvers) of its lead unit.
type insightNotifier struct{ a *App }

func (n insightNotifier) NotifyTx(ctx context.Context, tx *store.Tx, x insight.Notice) error {
	var to []string
	if x.LeaderID != 0 {
		if m, err := n.a.Identity.Staff(ctx, x.LeaderID); err == nil && m.Email != "" {
			to = append(to, m.Email)
		}
	}
	heads, _, err := n.a.Identity.ListStaff(ctx, identity.StaffFilter{UnitID: x.Unit, Roles: authz.RolesOf(authz.Approver), Limit: identity.MaxLimit})
	if err != nil {
		return err
	}
	for _, h := range heads {
		if h.Email != "" {
			to = append(to, h.Email)
		}
	}
	if len(to) == 0 {
		return nil // the task's history and the ledger still say it
	}
	due := x.Task.Due.In(web.MinistryZone()).Format("02/01/2006")
	return n.a.Mail.EnqueueTx(ctx, tx, mail.Message{To: to,
		Subject: fmt.Sprintf("Nhiệm vụ quá hạn / Overdue task: %s", x.Task.Title),
		Text: fmt.Sprintf("Nhiệm vụ \"%s\" đã quá hạn %s mà chưa hoàn thành.\nThe task \"%s\" was due on %s and is not done.\n%s/console/insight/tasks/%d\n",
			x.Task.Title, due, x.Task.Title, due, n.a.publicURL(), x.Task.ID)})
}

// escalationInterval is how often overdue tasks are looked for.
const escalationInterval = time.Minute

// runInsight carries insight's parcels through the exchange and
// escalates overdue tasks until ctx ends.
func (a *App) runInsight(spawn func(func(context.Context))) {
	spawn(a.runInsightExchange)
	if a.Registry != nil {
		spawn(a.runProvisioning)
	}
	spawn(a.onOne("insight.escalations", func(ctx context.Context) {
		ctx = audit.WithOrigin(ctx, audit.Origin{Actor: audit.System("insight")})
		every(ctx, escalationInterval, func() {
			if _, err := a.Insight.Escalate(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("insight: escalate overdue tasks (retried)", "err", err)
			}
		})
	}))
}

// seedDemoInsight fills the demo's tasks and the quarterly report round.
func (a *App) seedDemoInsight(ctx context.Context) error {
	staff := func(username string) (insight.DemoStaff, error) {
		m, err := a.Identity.StaffByUsername(ctx, username)
		if err != nil {
			return insight.DemoStaff{}, fmt.Errorf("demo account %s: %w", username, err)
		}
		return insight.DemoStaff{Subject: m.Subject(), Username: m.Username}, nil
	}
	var p insight.DemoPeople
	var err error
	for _, x := range []struct {
		into *insight.DemoStaff
		name string
	}{{&p.Leader, "leader"}, {&p.Head, "consular.approver"}, {&p.Officer, "consular.officer"}} {
		if *x.into, err = staff(x.name); err != nil {
			return err
		}
	}
	for _, name := range []string{"paris.officer", "tokyo.officer", "moscow.officer", "washington.officer", "beijing.officer", "geneva.officer"} {
		m, err := staff(name)
		if err != nil {
			return err
		}
		p.Missions = append(p.Missions, m)
	}
	return insight.SeedDemo(ctx, a.Insight, p, time.Now())
}
