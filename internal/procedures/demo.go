package procedures

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
)

// DemoPeople are who the demo's dossiers are filed and worked by: the
// demo citizens, and the Consular Department's clerk, officer and
// approver.
type DemoPeople struct {
	Citizens                 []DemoCitizen
	Clerk, Officer, Approver DemoStaff
	// UnitCode is the Consular Department's agency code.
	UnitCode string
}

// DemoCitizen is a demo citizen account.
type DemoCitizen struct {
	Subject            authz.Subject
	Name, Email        string
	IDNumber, DOB, Sex string // as the population database holds them
}

// DemoStaff is a demo staff member.
type DemoStaff struct {
	Subject  authz.Subject
	Username string
}

// SeedDemo fills a new demo database with a half-year of consular
// dossiers, so that the queues, the dashboard's trends and the
// reconciliation page have something to show: most finished (a few late,
// a few refused, rated by their applicants), some open at every stage. It
// runs the real service on a clock stepped through the past months, so
// every dossier has its true history, audit events and national portal reports.
// The fee of online applications is recorded as paid through the gateway.
// The history is recorded by a service like live but for its clock.
func SeedDemo(ctx context.Context, live *Service, people DemoPeople, now time.Time) error {
	clock := &steppedClock{t: now.AddDate(0, -6, 0)}
	opts := live.opts
	opts.Now, opts.Notifier = clock.now, nil // no mail for history
	svc, err := NewService(opts)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(766, 2026))
	as := func(s DemoStaff) context.Context {
		return audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(s.Subject.ID, s.Username), UnitID: s.Subject.Unit})
	}
	act := func(d *Dossier, s DemoStaff, a Action, reason string) error {
		_, err := svc.Act(as(s), s.Subject, d.Code, ActionRequest{Action: a, Reason: reason})
		return err
	}
	for day := 0; clock.now().Before(now.Add(-36 * time.Hour)); day++ {
		clock.set(clock.now().Add(time.Duration(20+rng.IntN(40)) * time.Hour))
		c := people.Citizens[rng.IntN(len(people.Citizens))]
		procedure := []string{"1.900001", "1.900002", "1.900005"}[rng.IntN(3)]
		form := demoForm(procedure, c)
		var d *Dossier
		if rng.IntN(10) < 7 {
			cctx := audit.WithOrigin(ctx, audit.Origin{Actor: audit.Citizen(c.Subject.ID, "")})
			draft, err := svc.CreateDraft(cctx, c.Subject, NewDraft{Procedure: procedure, UnitCode: people.UnitCode, Form: form, Prefilled: c.IDNumber != ""})
			if err != nil {
				return fmt.Errorf("demo dossier %d: %w", day, err)
			}
			if err := attachDemoScans(cctx, svc, c.Subject, draft); err != nil {
				return err
			}
			if draft.FeeAmount > 0 {
				if err := svc.RecordPayment(ctx, PaymentReport{TransactionID: "DEMO-" + draft.ID, OrderID: draft.ID, Amount: draft.FeeAmount,
					Currency: draft.FeeCurrency, PaidAt: clock.now()}); err != nil {
					return err
				}
			}
			if d, err = svc.SubmitDraft(cctx, c.Subject, draft.ID); err != nil {
				return err
			}
			if now.Sub(clock.now()) < 72*time.Hour {
				continue // the newest applications wait to be received
			}
			clock.set(clock.now().Add(2 * time.Hour))
			if err := act(d, people.Clerk, ActReceive, ""); err != nil {
				return err
			}
		} else if d, err = svc.Submit(as(people.Clerk), people.Clerk.Subject, Submission{Procedure: procedure, UnitCode: people.UnitCode,
			Channel: ChannelInPerson, Form: form, Receipt: fmt.Sprintf("DEMO-%d", day)}); err != nil {
			return err
		}
		age := now.Sub(clock.now())
		if age < 14*24*time.Hour && rng.IntN(4) > 0 {
			continue // recent dossiers wait in the queues
		}
		returned, err := demoProcess(d, people, clock, now, rng, act)
		if errors.Is(err, errPresent) {
			continue // its next step would be in the future: it waits in a queue
		} else if err != nil {
			return fmt.Errorf("demo dossier %s: %w", d.Code, err)
		}
		if d.CitizenID != 0 && rng.IntN(4) > 0 {
			stars := 3 + rng.IntN(3)
			// The applicant rates the result a day after it came back,
			// never before it; a result returned in the last day is not
			// rated yet.
			if at := returned.Add(26 * time.Hour); at.Before(now) {
				arrived := clock.now()
				clock.set(at)
				cctx := audit.WithOrigin(ctx, audit.Origin{Actor: audit.Citizen(d.CitizenID, "")})
				err := svc.Rate(cctx, authz.Subject{Kind: authz.Citizen, ID: d.CitizenID}, d.Code, stars)
				clock.set(arrived) // the next dossier arrives after this one did
				if err != nil && !strings.Contains(err.Error(), "returned") {
					return err
				}
			}
		}
	}
	return nil
}

// demoProcess takes a received dossier to its end: processed within its
// time limit, or a little late, sometimes after a request for documents;
// refused now and then; the result returned, at the time it returns.
func demoProcess(d *Dossier, people DemoPeople, clock *steppedClock, now time.Time, rng *rand.Rand, act func(*Dossier, DemoStaff, Action, string) error) (returned time.Time, err error) {
	start := clock.now()
	defer clock.set(start) // the next dossier arrives while this one is processed
	step := func(h int, s DemoStaff, a Action, reason string) error {
		at := clock.now().Add(time.Duration(h) * time.Hour)
		if at.After(now) {
			return errPresent
		}
		clock.set(at)
		return act(d, s, a, reason)
	}
	if err := step(1, people.Officer, ActAssign, ""); err != nil {
		return time.Time{}, err
	}
	if rng.IntN(5) == 0 {
		if err := step(3, people.Officer, ActRequestDocuments, "Bổ sung bản sao giấy tờ tùy thân có chứng thực."); err != nil {
			return time.Time{}, err
		}
		if err := step(24+rng.IntN(48), people.Clerk, ActSupplement, ""); err != nil {
			return time.Time{}, err
		}
	}
	if err := step(2, people.Officer, ActAppraise, ""); err != nil {
		return time.Time{}, err
	}
	late := 0
	if rng.IntN(8) == 0 {
		late = 72 + rng.IntN(72)
	}
	if rng.IntN(12) == 0 {
		if err := step(2+late, people.Approver, ActRefuse, "Giấy tờ đề nghị hợp pháp hóa không thuộc diện được hợp pháp hóa lãnh sự."); err != nil {
			return time.Time{}, err
		}
	} else if err := step(2+late, people.Approver, ActApprove, ""); err != nil {
		return time.Time{}, err
	}
	if err := step(20, people.Clerk, ActReturnResult, ""); err != nil {
		return time.Time{}, err
	}
	return clock.now(), nil
}

// attachDemoScans attaches a one-page PDF for each document the draft's
// procedure requires, as a citizen's scans.
func attachDemoScans(ctx context.Context, svc *Service, sub authz.Subject, d Draft) error {
	p, err := svc.cat.Procedure(d.Procedure)
	if err != nil {
		return err
	}
	for _, doc := range p.Documents {
		if !doc.Required {
			continue
		}
		scan := fmt.Appendf(nil, "%%PDF-1.4\n%% %s\n1 0 obj<<>>endobj\ntrailer<<>>\n%%%%EOF\n", doc.NameEN)
		if _, err := svc.AttachToDraft(ctx, sub, d.ID, Upload{DocumentKey: doc.Key, Filename: doc.Key + ".pdf", MediaType: MediaPDF, Content: scan}); err != nil {
			return err
		}
	}
	return nil
}

// demoForm fills procedure's form for citizen c.
func demoForm(procedure string, c DemoCitizen) map[string]any {
	id, dob, sex := c.IDNumber, c.DOB, c.Sex
	var raw string
	switch procedure {
	case "1.900005":
		raw = fmt.Sprintf(`{"holder":{"full_name":%q,"date_of_birth":%q,"sex":%q,"place_of_birth":"Hà Nội","id_number":%q,"email":%q},
			"passport_type":"official","assignment":{"agency":"Bộ Ngoại giao","position":"Chuyên viên","decision_number":"45/QĐ-BNG","decision_date":"2025-01-15","destinations":"Pháp"},
			"departure_date":"2027-03-01","declaration":true}`, c.Name, dob, sex, id, c.Email)
	case "1.900002": // certification of a Vietnamese paper for use abroad
		raw = fmt.Sprintf(`{"applicant":{"full_name":%q,"id_type":"cccd","id_number":%q,"email":%q},
			"document_name":"Bằng tốt nghiệp đại học","issuing_authority":"Đại học Quốc gia Hà Nội","issue_date":"2012-06-30",
			"country_of_use":"FR","copies":2,"delivery":"counter","declaration":true}`, c.Name, id, c.Email)
	default: // legalization of a foreign paper for use in Viet Nam
		raw = fmt.Sprintf(`{"applicant":{"full_name":%q,"id_type":"cccd","id_number":%q,"email":%q},
			"document_name":"Diplôme de master","issuing_authority":"Université Paris 1 Panthéon-Sorbonne","issue_date":"2015-07-01",
			"issuing_country":"FR","copies":2,"delivery":"counter","declaration":true}`, c.Name, id, c.Email)
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		panic(err) // the demo's own literals
	}
	return m
}

// steppedClock is the demo's clock, stepped through the past.
type steppedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *steppedClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *steppedClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// errPresent stops a demo dossier's history at the present.
var errPresent = errors.New("procedures: the demo's history reached the present")
