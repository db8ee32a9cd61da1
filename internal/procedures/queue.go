package procedures

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
)

// QueueItem is a dossier as a work queue or a list shows it.
type QueueItem struct {
	Code          string    `json:"code"`
	Procedure     string    `json:"procedure_code"`
	ApplicantName string    `json:"applicant_name"`
	Channel       Channel   `json:"channel"`
	Status        Status    `json:"status"`
	AssigneeID    int64     `json:"assignee_id,omitempty"`
	SubmittedAt   time.Time `json:"submitted_at"`
	DueAt         time.Time `json:"due_at,omitzero"`
	AppointmentAt time.Time `json:"appointment_at,omitzero"`
	// DaysLeft is the working days to the deadline (negative: late by
	// that many), as of the queue's reading; meaningful when DueAt is set.
	DaysLeft int  `json:"days_left"`
	Overdue  bool `json:"overdue"`
}

// Queue selects a work queue.
type Queue struct {
	// Statuses, if any, select dossiers in those statuses; otherwise every
	// open one (not refused at intake, stopped or returned).
	Statuses []Status
	// Mine selects the dossiers assigned to the caller.
	Mine bool
	// Limit is the page size; 0 means DefaultQueueLimit.
	Limit int
	// After is the cursor of the next page, from a previous page.
	After string
}

// Queue page sizes.
const (
	DefaultQueueLimit = 50
	MaxQueueLimit     = 200
)

// NearingDays is how close to its deadline, in working days, a dossier is
// flagged for staff.
const NearingDays = 1

// Queue returns a page of the caller's unit's work queue, soonest
// deadline first (dossiers not yet received, which have none, before
// all), and the cursor of the next page ("" at the end). Only staff have
// queues.
func (s *Service) Queue(ctx context.Context, sub authz.Subject, q Queue) ([]QueueItem, string, error) {
	if sub.Kind != authz.Staff {
		return nil, "", fmt.Errorf("%w: work queues are for staff", errs.ErrForbidden)
	}
	if dec, _ := authz.Decide(sub, authz.Read, authz.Resource{Kind: authz.KindDossier, Unit: sub.Unit}); dec != authz.Allowed {
		return nil, "", fmt.Errorf("%w: your roles do not include work on dossiers", errs.ErrForbidden)
	}
	for _, st := range q.Statuses {
		if !st.Valid() {
			return nil, "", errs.Invalid("status", fmt.Sprintf("%d is not a dossier status; use 1 to 10", int(st)))
		}
	}
	if q.Limit <= 0 {
		q.Limit = DefaultQueueLimit
	}
	q.Limit = min(q.Limit, MaxQueueLimit)
	after, err := parseCursor(q.After)
	if err != nil {
		return nil, "", err
	}
	assignee := int64(0)
	if q.Mine {
		assignee = sub.ID
	}
	rows, err := queueRows(ctx, s.db, sub.Unit, q.Statuses, assignee, after, q.Limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		last := rows[len(rows)-1]
		next = fmt.Sprintf("%d.%d", last.due, last.id)
	}
	cal, err := s.Calendar(ctx, sub.Unit)
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	out := make([]QueueItem, len(rows))
	for i, r := range rows {
		out[i] = r.item
		if !r.item.DueAt.IsZero() && !r.item.Status.Paused() && r.item.Status != StatusCompleted {
			out[i].Overdue = now.After(r.item.DueAt)
			if out[i].Overdue {
				out[i].DaysLeft = -cal.WorkingDaysBetween(r.item.DueAt, now)
			} else {
				out[i].DaysLeft = cal.WorkingDaysBetween(now, r.item.DueAt)
			}
		}
	}
	return out, next, nil
}

// cursor is a queue position: the deadline in microseconds and the id.
type cursor struct {
	due, id int64
}

func parseCursor(s string) (cursor, error) {
	if s == "" {
		return cursor{due: -1}, nil
	}
	a, b, ok := strings.Cut(s, ".")
	due, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return cursor{}, errs.Invalid("after", "is not a cursor this API gave; start from the first page")
	}
	return cursor{due: due, id: id}, nil
}

// ForCitizen returns the dossiers a citizen submitted, newest first.
func (s *Service) ForCitizen(ctx context.Context, sub authz.Subject) ([]QueueItem, error) {
	if sub.Kind != authz.Citizen {
		return nil, fmt.Errorf("%w: sign in as a citizen to see your dossiers", errs.ErrForbidden)
	}
	return citizenRows(ctx, s.db, sub.ID)
}

// queueRow is a queue item with its sort key.
type queueRow struct {
	item    QueueItem
	due, id int64
}
