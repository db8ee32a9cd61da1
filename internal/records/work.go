package records

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// This file holds what the console's daily pages ask of the service
// beyond the core's use cases: a member of staff's work ("my work"), the
// duplicate warning before an incoming document is registered, search
// facets, a document's history and case files, and the actions a viewer
// may take. Every query keeps to the documents the caller may know of
// (visibleClause), so nothing here counts or lists a concealed one.

// Channel is how an incoming document arrived.
type Channel string

// The channels a records office registers documents from.
const (
	ChannelPaper    Channel = "paper"    // on paper, registered with its scan
	ChannelEmail    Channel = "email"    // by e-mail
	ChannelExchange Channel = "exchange" // an edXML package through the exchange
	ChannelOther    Channel = "other"    // by fax, by hand, …
)

// ParseChannel parses a channel's name; "" is none recorded.
func ParseChannel(s string) (Channel, error) {
	switch c := Channel(s); c {
	case "", ChannelPaper, ChannelEmail, ChannelExchange, ChannelOther:
		return c, nil
	}
	return "", errs.Invalid("channel", fmt.Sprintf("unknown channel %q: use paper, email, exchange or other", s))
}

// workLimit bounds each list of a member of staff's work; the counts
// count them all.
const workLimit = 50

// WorkItem is an incoming document assigned to the caller (or to the
// caller's unit as a whole), with the role of the assignment.
type WorkItem struct {
	*Document
	// Role is lead or support.
	Role string
	// Overdue reports a due date passed while the document is not done.
	Overdue bool
}

// Work is what waits for a member of staff: each list the most urgent
// first, with the count of all.
type Work struct {
	// Assigned are the incoming documents assigned to the caller or to
	// the caller's unit and not yet done: overdue first, then by due
	// date.
	Assigned      []WorkItem
	AssignedCount int
	OverdueCount  int
	// ToInstruct are the unit's incoming documents awaiting the leader's
	// instruction, for those who may give it.
	ToInstruct      []*Document
	ToInstructCount int
	// Unread are the documents the caller may read and has never opened.
	Unread      []*Document
	UnreadCount int
	// ToApprove are the unit's drafts awaiting approval or signature, for
	// those who may give them.
	ToApprove      []*Document
	ToApproveCount int
}

// MyWork returns sub's work. It returns an *authz.Refusal for a caller
// whose roles give no reading of documents.
func (s *Service) MyWork(ctx context.Context, sub authz.Subject) (*Work, error) {
	if err := decide(sub, authz.Read, authz.Resource{Kind: authz.KindDocument}, "", errNotFound); err != nil {
		return nil, err
	}
	now := s.now()
	vis, vargs := visibleClause(sub, now)
	w := &Work{}
	mine := `EXISTS (SELECT 1 FROM record_assignments a WHERE a.document_id = d.id AND (a.staff_id = ? OR (a.staff_id IS NULL AND a.unit_id = ?)))`
	open := `d.direction = 'incoming' AND d.status NOT IN ('done')`
	where := vis + ` AND ` + open + ` AND ` + mine
	args := append(slices.Clone(vargs), sub.ID, sub.Unit)
	overdue := `d.due_us > 0 AND d.due_us < ` + fmt.Sprint(store.Micros(now))
	order := `CASE WHEN ` + overdue + ` THEN 0 ELSE 1 END, CASE WHEN d.due_us = 0 THEN 1 ELSE 0 END, d.due_us, d.id`
	rows, err := queryDocuments(ctx, s.db, `SELECT `+prefixed(documentColumns, "d.")+` FROM record_documents d WHERE `+where+
		` ORDER BY `+order+` LIMIT `+fmt.Sprint(workLimit), args)
	if err != nil {
		return nil, err
	}
	roles, err := assignedRoles(ctx, s.db, rows, sub)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		w.Assigned = append(w.Assigned, WorkItem{Document: &r.Document, Role: roles[r.ID], Overdue: !r.DueAt.IsZero() && r.DueAt.Before(now)})
	}
	if w.AssignedCount, err = countDocuments(ctx, s.db, where, args); err != nil {
		return nil, err
	}
	if w.OverdueCount, err = countDocuments(ctx, s.db, where+` AND `+overdue, args); err != nil {
		return nil, err
	}

	// The leader's share: what waits for an instruction or an approval
	// in the leader's own unit.
	if IsLeader(sub) {
		where := vis + ` AND d.unit_id = ? AND d.direction = 'incoming' AND d.status = 'registered'`
		args := append(slices.Clone(vargs), sub.Unit)
		if w.ToInstruct, w.ToInstructCount, err = s.workList(ctx, where, args, `CASE WHEN d.due_us = 0 THEN 1 ELSE 0 END, d.due_us, d.urgency DESC, d.id`); err != nil {
			return nil, err
		}
		where = vis + ` AND d.unit_id = ? AND d.direction = 'outgoing' AND d.status IN ('draft', 'approved')`
		if w.ToApprove, w.ToApproveCount, err = s.workList(ctx, where, args, `d.urgency DESC, d.id`); err != nil {
			return nil, err
		}
	}
	where = vis + ` AND d.status NOT IN ('done', 'recalled') AND NOT EXISTS (SELECT 1 FROM record_reads x WHERE x.document_id = d.id AND x.staff_id = ?)`
	if w.Unread, w.UnreadCount, err = s.workList(ctx, where, append(slices.Clone(vargs), sub.ID), `d.urgency DESC, d.id DESC`); err != nil {
		return nil, err
	}
	return w, nil
}

// IsLeader reports whether sub gives instructions and approvals on the
// documents of sub's unit, at the level sub's session works at (a session
// at a higher level acts only on documents at least as high: no write
// down).
func IsLeader(sub authz.Subject) bool {
	dec, _ := authz.Decide(sub, authz.Approve, authz.Resource{Kind: authz.KindDocument, Unit: sub.Unit, Level: sub.Session})
	return dec == authz.Allowed
}

// workList returns the first workLimit documents matching where, in
// order, and how many match.
func (s *Service) workList(ctx context.Context, where string, args []any, order string) ([]*Document, int, error) {
	rows, err := queryDocuments(ctx, s.db, `SELECT `+prefixed(documentColumns, "d.")+` FROM record_documents d WHERE `+where+
		` ORDER BY `+order+` LIMIT `+fmt.Sprint(workLimit), args)
	if err != nil {
		return nil, 0, err
	}
	n, err := countDocuments(ctx, s.db, where, args)
	docs := make([]*Document, len(rows))
	for i, r := range rows {
		docs[i] = &r.Document
	}
	return docs, n, err
}

// Duplicates returns the incoming documents the caller may know of that
// were registered from the same sender with the same number and symbol
// and date (the day, in the ministry's zone): what a records office is
// warned of before registering a document twice (Decree 30's "duplicate
// warning"). A document the caller may not know of is never reported,
// so the warning reveals nothing.
func (s *Service) Duplicates(ctx context.Context, sub authz.Subject, sender, number string, date time.Time) ([]*Document, error) {
	sender, number = strings.TrimSpace(sender), strings.TrimSpace(number)
	if sender == "" || number == "" || date.IsZero() {
		return nil, nil
	}
	if err := decide(sub, authz.Read, authz.Resource{Kind: authz.KindDocument}, "", errNotFound); err != nil {
		return nil, err
	}
	z := registerZone()
	d := date.In(z)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, z)
	vis, args := visibleClause(sub, s.now())
	rows, err := queryDocuments(ctx, s.db, `SELECT `+prefixed(documentColumns, "d.")+` FROM record_documents d WHERE `+vis+
		` AND d.direction = 'incoming' AND d.sender = ? AND d.number_symbol = ? AND d.doc_date_us >= ? AND d.doc_date_us < ? ORDER BY d.id LIMIT 10`,
		append(args, sender, number, store.Micros(day), store.Micros(day.AddDate(0, 0, 1))))
	out := make([]*Document, len(rows))
	for i, r := range rows {
		out[i] = &r.Document
	}
	return out, err
}

// HistoryEntry is one thing that happened to a document, as its page
// lists it.
type HistoryEntry struct {
	At      time.Time
	ActorID int64
	// Action is registered, drafted, a step's name (assign, comment,
	// complete, approve, …), a classification event's kind, or filed.
	Action string
	Note   string
}

// Filing is a case file a document is filed in.
type Filing struct {
	CaseFile CaseFile
	FiledBy  int64
	At       time.Time
}

// Trail returns a document's history, oldest first, and the case files
// it is filed in that sub may see, to a caller who may read it (others:
// as Get). It records no reading: the page that shows it has called Get.
func (s *Service) Trail(ctx context.Context, sub authz.Subject, id int64) ([]HistoryEntry, []Filing, error) {
	r, err := loadDocument(ctx, s.db, id, s.now(), false)
	if err != nil {
		return nil, nil, err
	}
	if err := allow(sub, authz.Read, authz.KindDocument, r); err != nil {
		return nil, nil, err
	}
	first := "drafted"
	if r.Direction == Incoming {
		first = "registered"
	}
	hist := []HistoryEntry{{At: r.CreatedAt, ActorID: r.AuthorID, Action: first}}
	steps, err := listSteps(ctx, s.db, id)
	if err != nil {
		return nil, nil, err
	}
	for _, st := range steps {
		hist = append(hist, HistoryEntry{At: st.At, ActorID: st.ActorID, Action: st.Action, Note: st.Note})
	}
	events, err := listClassificationEvents(ctx, s.db, id)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range events {
		if e.Kind == Classified {
			continue // the creation's own, shown as registered or drafted
		}
		hist = append(hist, HistoryEntry{At: e.At, ActorID: e.ActorID, Action: string(e.Kind), Note: e.Reason})
	}
	all, err := listFilings(ctx, s.db, id)
	if err != nil {
		return nil, nil, err
	}
	var filings []Filing
	for _, f := range all {
		if decideCaseFile(sub, authz.Read, &f.CaseFile) == nil {
			filings = append(filings, f)
			hist = append(hist, HistoryEntry{At: f.At, ActorID: f.FiledBy, Action: "filed", Note: f.CaseFile.Code + " " + f.CaseFile.Title})
		}
	}
	slices.SortStableFunc(hist, func(a, b HistoryEntry) int { return a.At.Compare(b.At) })
	return hist, filings, nil
}

// Allowed says which of the console's actions a viewer may take on a
// document now: each is asked of authz with the document's labels, and of
// the lifecycle (steps) with its direction and status.
type Allowed struct {
	Assign, Complete, Comment bool
	// Lower reports that an action refused would be allowed in a session
	// working at the document's level: the viewer signed in above it.
	Lower bool
	// Classification: the viewer may read the classification record.
	Classification bool
	// Hold: the viewer may place and lift legal holds on it (holds.go).
	Hold bool
}

// AllowedOn returns what sub may do to d (as Get returned it).
func AllowedOn(sub authz.Subject, d *Document) Allowed {
	can := func(name string) bool {
		st := steps[name]
		if st.dir != "" && (d.Direction != st.dir || !slices.Contains(st.from, d.Status)) {
			return false
		}
		res := d.resource()
		res.Kind = st.kind
		dec, _ := authz.Decide(sub, st.action, res)
		return dec == authz.Allowed
	}
	res := d.resource()
	res.Kind = authz.KindClassification
	dec, _ := authz.Decide(sub, authz.Read, res)
	a := Allowed{Assign: can("assign"), Complete: can("complete"), Comment: can("comment"), Classification: dec == authz.Allowed}
	res.Kind = authz.KindDisposition
	dec, _ = authz.Decide(sub, authz.Create, res)
	a.Hold = dec == authz.Allowed
	if sub.Session > d.Classification && !a.Assign && !a.Complete && !a.Comment {
		lower := sub
		lower.Session = d.Classification
		b := AllowedOn(lower, d)
		a.Lower = b.Assign || b.Complete || b.Comment
	}
	return a
}

// ChannelOf returns how an incoming document arrived, "" when not
// recorded. The caller has read the document (Get).
func (s *Service) ChannelOf(ctx context.Context, id int64) (Channel, error) {
	return loadChannel(ctx, s.db, id)
}
