package records

// The outgoing side's drafting (Decree 30/2020/NĐ-CP: drafts, comments,
// approvals and views logged; recall and replacement): a draft's
// versions, comments on each version, the review chain, the distribution
// list taken at issuance, and replacement documents. Every change runs
// through change (act.go): in one transaction with its step and its audit
// event, in the capacity the steps table names.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
)

// Limits of the drafting.
const (
	// maxReviewers bounds the approvers one review round names.
	maxReviewers = 10
	// maxRecipients bounds an issued document's distribution list.
	maxRecipients = 200
)

// Version is one version of a document's file.
type Version struct {
	No        int       `json:"version"`
	Filename  string    `json:"filename"`
	MediaType string    `json:"media_type"`
	Size      int64     `json:"size"`
	SHA256    []byte    `json:"sha256"`
	AuthorID  int64     `json:"author_id"`
	Note      string    `json:"note,omitempty"`
	At        time.Time `json:"at"`
	// Current marks the version the document's file is now.
	Current bool `json:"current"`
}

// Comment is a comment on a version of a draft; ReplyTo threads it.
type Comment struct {
	ID        int64     `json:"id"`
	VersionNo int       `json:"version"`
	ReplyTo   int64     `json:"reply_to,omitempty"`
	AuthorID  int64     `json:"author_id"`
	Body      string    `json:"body"`
	At        time.Time `json:"at"`
}

// Review decisions.
const (
	ReviewPending   = ""
	ReviewApproved  = "approved"
	ReviewReturned  = "returned"
	ReviewWithdrawn = "withdrawn"
)

// Review is one reviewer's part of a review round.
type Review struct {
	ID          int64     `json:"id"`
	Round       int       `json:"round"`
	ReviewerID  int64     `json:"reviewer_id"`
	RequestedBy int64     `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
	// Decision is "" while pending, then approved, returned (sent back,
	// with Reason) or withdrawn (another reviewer sent the draft back).
	Decision  string    `json:"decision"`
	Reason    string    `json:"reason,omitempty"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
}

// RecipientKind is who an issued document goes to.
type RecipientKind string

// The kinds of recipient: a unit of the ministry, a mission abroad (both
// units of the directory), another agency (by name and identifier code).
const (
	RecipientUnit    RecipientKind = "unit"
	RecipientMission RecipientKind = "mission"
	RecipientAgency  RecipientKind = "agency"
)

// Recipient is one entry of an issued document's distribution list. The
// exchange's code reads the missions and agencies of the list to send
// them the document as edXML packages (QCVN 102); internal units join the
// document's distribution and read it here.
type Recipient struct {
	Kind   RecipientKind `json:"kind"`
	UnitID int64         `json:"unit_id,omitempty"`
	Name   string        `json:"name"`
	// Code is an agency's identifier code (mã định danh, QCVN 102).
	Code string `json:"code,omitempty"`
	// Exchange sends the document to Code's document system as an edXML
	// package through the exchange (edxml_send.go); else the list only
	// records it (sent on paper or otherwise).
	Exchange bool `json:"exchange,omitempty"`
}

// UnmarshalJSON reads a recipient as an object, or as an identifier code
// alone: an agency or mission whose document system the document goes to
// through the exchange.
func (rc *Recipient) UnmarshalJSON(b []byte) error {
	var code string
	if err := json.Unmarshal(b, &code); err == nil {
		*rc = Recipient{Kind: RecipientAgency, Name: code, Code: code, Exchange: true}
		return nil
	}
	type plain Recipient // without this method
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*rc = Recipient(p)
	return nil
}

// Drafting is an outgoing document's drafting record.
type Drafting struct {
	Versions   []Version   `json:"versions"`
	Comments   []Comment   `json:"comments"`
	Reviews    []Review    `json:"reviews"`
	Recipients []Recipient `json:"recipients"`
	// Replaces is the document this one replaces; ReplacedBy the one
	// replacing it (0: none) — only when the caller may know of it.
	Replaces   int64 `json:"replaces,omitempty"`
	ReplacedBy int64 `json:"replaced_by,omitempty"`
}

// PendingReview reports the round's review awaiting staffID, if any.
func (d *Drafting) PendingReview(staffID int64) *Review {
	for i := range d.Reviews {
		if rv := &d.Reviews[i]; rv.ReviewerID == staffID && rv.Decision == ReviewPending {
			return rv
		}
	}
	return nil
}

// Drafting returns document id's drafting record to a caller who may read
// the document (others: as Get). It records nothing: the document page
// that shows it records the reading (Get).
func (s *Service) Drafting(ctx context.Context, sub authz.Subject, id int64) (*Drafting, error) {
	now := s.now()
	r, err := loadDocument(ctx, s.db, id, now, false)
	if err != nil {
		return nil, err
	}
	if err := allow(sub, authz.Read, authz.KindDocument, r); err != nil {
		return nil, err
	}
	d := &Drafting{}
	if d.Versions, err = listVersions(ctx, s.db, r); err != nil {
		return nil, err
	}
	if d.Comments, err = listComments(ctx, s.db, id); err != nil {
		return nil, err
	}
	if d.Reviews, err = listReviews(ctx, s.db, id); err != nil {
		return nil, err
	}
	if d.Recipients, err = listRecipients(ctx, s.db, id); err != nil {
		return nil, err
	}
	replaces, replacedBy, err := loadReplacement(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	// A linked document is named only to whoever may know of it.
	for _, link := range []struct {
		id  int64
		dst *int64
	}{{replaces, &d.Replaces}, {replacedBy, &d.ReplacedBy}} {
		if link.id == 0 {
			continue
		}
		lr, err := loadDocument(ctx, s.db, link.id, now, false)
		if err != nil {
			return nil, err
		}
		if allow(sub, authz.Read, authz.KindDocument, lr) == nil {
			*link.dst = link.id
		}
	}
	return d, nil
}

// AddVersion uploads a new version of a draft's file, with a note saying
// what changed. The new version is sealed under the document's own data
// key, like the earlier ones, which stay readable (VersionContent). Only
// a draft takes new versions: once approved, the signer signs the file
// that was approved.
func (s *Service) AddVersion(ctx context.Context, sub authz.Subject, id int64, c *Content, note string) (*Document, error) {
	if c == nil {
		return nil, errs.Invalid("content", "choose the file of the new version")
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	if err := checkText("note", note, maxNote, false, true); err != nil {
		return nil, err
	}
	var no int
	doc, err := s.change(ctx, sub, id, "revise", note, nil, func(tx *store.Tx, r *row) error {
		now := s.now()
		old, ok, err := loadContent(ctx, tx, r.ID)
		switch {
		case err != nil:
			return err
		case !ok:
			// The draft's first file.
			if err := s.storeContent(ctx, tx, r, c); err != nil {
				return err
			}
			no = 1
		case !old.Shredded.IsZero():
			return fmt.Errorf("%w: the file of document %d was destroyed; it takes no new version", errs.ErrConflict, r.ID)
		default:
			if no, err = s.storeVersion(ctx, tx, r, &old, c); err != nil {
				return err
			}
		}
		if err := insertVersion(ctx, tx, r.ID, Version{No: no, Filename: c.Filename, MediaType: c.MediaType, Size: int64(len(c.Data)),
			SHA256: r.Content.SHA256, AuthorID: sub.ID, Note: note, At: now}, nil); err != nil {
			return err
		}
		t, _ := LookupType(r.Type)
		return indexDocument(ctx, tx, r.ID, indexText(t, r, c.Text))
	})
	if err != nil {
		return nil, err
	}
	doc.Version = no // the caller's "version" is the file's here
	return doc, nil
}

// storeVersion keeps the current file as an older version and seals c,
// under the same data key, as the current one; it returns c's version
// number.
func (s *Service) storeVersion(ctx context.Context, tx *store.Tx, r *row, old *sealedContent, c *Content) (int, error) {
	cur, err := currentVersionNo(ctx, tx, r.ID)
	if err != nil {
		return 0, err
	}
	if cur == 0 {
		// The file the draft was started with has no version row yet.
		cur = 1
		if err := insertVersion(ctx, tx, r.ID, Version{No: 1, Filename: old.Filename, MediaType: old.MediaType, Size: old.Size,
			SHA256: old.SHA256, AuthorID: r.AuthorID, At: r.CreatedAt}, old.sealed); err != nil {
			return 0, err
		}
	} else if err := keepVersionBytes(ctx, tx, r.ID, cur, old.sealed); err != nil {
		return 0, err
	}
	dek, err := unwrapKey(ctx, s.opts.Ring, r.ID, old.purpose, old.wrapped)
	if err != nil {
		return 0, err
	}
	aead, err := dataAEAD(dek)
	if err != nil {
		return 0, err
	}
	sealed := aead.Seal(nil, nil, c.Data, contentAD(r.ID))
	info := contentInfoOf(c)
	if err := replaceContent(ctx, tx, r.ID, info, sealed); err != nil {
		return 0, err
	}
	r.Content = &info
	return cur + 1, nil
}

// VersionContent returns version no of a document's file to a caller who
// may read the document (others: as Get); the download is recorded in
// the audit ledger with the document's level and the version.
func (s *Service) VersionContent(ctx context.Context, sub authz.Subject, id int64, no int) (ContentInfo, []byte, error) {
	r, c, err := s.readableContent(ctx, sub, id)
	if err != nil {
		return ContentInfo{}, nil, err
	}
	v, sealed, err := loadVersion(ctx, s.db, id, no)
	if err != nil {
		return ContentInfo{}, nil, err
	}
	info := c.ContentInfo
	if sealed != nil { // an older version: its own bytes, the document's key
		c.sealed = sealed
		info = ContentInfo{Filename: v.Filename, MediaType: v.MediaType, Size: v.Size, SHA256: v.SHA256}
	}
	data, err := openContent(ctx, s.opts.Ring, id, &c)
	if err != nil {
		return ContentInfo{}, nil, err
	}
	if o, ok := audit.OriginFrom(ctx); ok && !o.Anonymous() {
		if _, err := s.opts.Recorder.Append(ctx, event(o, "document.download", r, map[string]string{"version": strconv.Itoa(no)})); err != nil {
			return ContentInfo{}, nil, fmt.Errorf("records: record the download of document %d: %w", id, err)
		}
	}
	return info, data, nil
}

// readableContent loads document id and its stored content for a caller
// who may read the document (others: as Get). A document without a file
// answers errs.ErrNotFound; one whose data key was destroyed,
// errs.ErrConflict.
func (s *Service) readableContent(ctx context.Context, sub authz.Subject, id int64) (*row, sealedContent, error) {
	r, err := loadDocument(ctx, s.db, id, s.now(), false)
	if err != nil {
		return nil, sealedContent{}, err
	}
	if err := allow(sub, authz.Read, authz.KindDocument, r); err != nil {
		return nil, sealedContent{}, err
	}
	c, ok, err := loadContent(ctx, s.db, id)
	switch {
	case err != nil:
		return nil, sealedContent{}, err
	case !ok:
		return nil, sealedContent{}, fmt.Errorf("%w: document %d has no file", errs.ErrNotFound, id)
	case !c.Shredded.IsZero():
		return nil, sealedContent{}, fmt.Errorf("%w: the file of document %d was destroyed on %s; only its record remains",
			errs.ErrConflict, id, c.Shredded.Format("2006-01-02"))
	}
	return r, c, nil
}

// AddComment comments on version no of a draft (0: the current one),
// replying to comment replyTo (0: none). The body is plain text: control
// and direction-override characters are refused.
func (s *Service) AddComment(ctx context.Context, sub authz.Subject, id int64, no int, replyTo int64, body string) (*Comment, error) {
	cm := &Comment{VersionNo: no, ReplyTo: replyTo, AuthorID: sub.ID, Body: body}
	attrs := map[string]string{"version": strconv.Itoa(no)}
	_, err := s.change(ctx, sub, id, "comment", body, attrs, func(tx *store.Tx, r *row) error {
		cur, err := currentVersionNo(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		cur = max(cur, 1) // a draft without version rows is at its first

		if cm.VersionNo == 0 {
			cm.VersionNo = cur
		}
		if cm.VersionNo < 1 || cm.VersionNo > cur {
			return errs.Invalid("version", fmt.Sprintf("the document has versions 1 to %d", cur))
		}
		if cm.ReplyTo != 0 {
			if ok, err := commentOn(ctx, tx, r.ID, cm.ReplyTo); err != nil {
				return err
			} else if !ok {
				return errs.Invalid("reply_to", "answers a comment that is not on this document")
			}
		}
		cm.At = s.now()
		return insertComment(ctx, tx, r.ID, cm)
	})
	if err != nil {
		return nil, err
	}
	return cm, nil
}

// SendForReview sends a draft to the named reviewers, a new round of its
// review chain (a pending round is withdrawn). Each reviewer must be able
// to approve the document — authz decides, on the reviewer's own roles,
// unit and clearance — and nobody reviews their own request.
func (s *Service) SendForReview(ctx context.Context, sub authz.Subject, id int64, reviewers []int64, note string) (*Document, error) {
	if len(reviewers) == 0 || len(reviewers) > maxReviewers {
		return nil, errs.Invalid("reviewers", fmt.Sprintf("name 1 to %d approvers", maxReviewers))
	}
	seen := map[int64]bool{}
	for _, rv := range reviewers {
		switch {
		case rv <= 0:
			return nil, errs.Invalid("reviewers", "staff ids are positive")
		case rv == sub.ID:
			return nil, errs.Invalid("reviewers", "you cannot review your own request; name someone else")
		case seen[rv]:
			return nil, errs.Invalid("reviewers", "names an approver twice")
		}
		seen[rv] = true
	}
	attrs := map[string]string{"reviewers": joinIDs(reviewers)}
	return s.change(ctx, sub, id, "send_review", note, attrs, func(tx *store.Tx, r *row) error {
		for _, rv := range reviewers {
			who, ok, err := staffSubject(ctx, tx, rv)
			if err != nil {
				return err
			}
			if !ok || allow(who, authz.Approve, authz.KindDocument, r) != nil {
				return errs.Invalid("reviewers", fmt.Sprintf("staff %d cannot approve this document (an approver of its unit, cleared for its level)", rv))
			}
		}
		round, err := lastRound(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		now := s.now()
		if err := decidePending(ctx, tx, r.ID, round, 0, ReviewWithdrawn, "", now); err != nil {
			return err
		}
		for _, rv := range reviewers {
			if err := insertReview(ctx, tx, r.ID, Review{Round: round + 1, ReviewerID: rv, RequestedBy: sub.ID, RequestedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
}

// ReviewDraft records the caller's decision on a draft sent to them:
// approve, or send it back with a reason (which withdraws the round's
// other pending reviews). When the last reviewer of the round approves,
// the draft is approved, ready for the signer.
func (s *Service) ReviewDraft(ctx context.Context, sub authz.Subject, id int64, approve bool, reason string) (*Document, error) {
	decision := ReviewApproved
	if !approve {
		decision = ReviewReturned
		if err := checkText("reason", reason, maxNote, true, true); err != nil {
			return nil, err
		}
	}
	return s.change(ctx, sub, id, "review", reason, map[string]string{"decision": decision}, func(tx *store.Tx, r *row) error {
		round, err := lastRound(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		now := s.now()
		mine, err := decideMine(ctx, tx, r.ID, round, sub.ID, decision, reason, now)
		if err != nil {
			return err
		}
		if !mine {
			return fmt.Errorf("%w: no review of this draft awaits you", errs.ErrConflict)
		}
		if !approve {
			return decidePending(ctx, tx, r.ID, round, 0, ReviewWithdrawn, "", now)
		}
		left, err := pendingInRound(ctx, tx, r.ID, round)
		if err != nil {
			return err
		}
		if left == 0 {
			r.Status = StatusApproved
		}
		return nil
	})
}

// Distribute issues a signed outgoing document (as Issue) with its
// distribution list: internal units and missions (named by their unit id;
// they join the document's distribution) and other agencies (by name and
// identifier code). The list is stored with the document in the issuing
// transaction; the exchange's code sends it to missions and agencies.
func (s *Service) Distribute(ctx context.Context, sub authz.Subject, id int64, as IssueAs, to []Recipient) (*Document, error) {
	if len(to) > maxRecipients {
		return nil, errs.Invalid("recipients", fmt.Sprintf("at most %d recipients", maxRecipients))
	}
	for i := range to {
		rc := &to[i]
		switch {
		case rc.Kind != RecipientUnit && rc.Kind != RecipientMission && rc.Kind != RecipientAgency:
			return nil, errs.Invalid("recipients", fmt.Sprintf("unknown kind %q: use unit, mission or agency", rc.Kind))
		case rc.UnitID < 0 || rc.UnitID == 0 && rc.Kind != RecipientAgency && !rc.Exchange:
			// One reached through the exchange may be named by its code
			// alone: its own document system receives it, and it joins no
			// distribution here.
			return nil, errs.Invalid("recipients", "a unit or mission is named by its unit id")
		case rc.UnitID == 0:
			// An agency outside the directory, or a unit, mission or agency
			// reached through the exchange: by name and identifier code.
			if err := checkLine("recipients", rc.Name, maxLine, true); err != nil {
				return nil, err
			}
			if err := checkLine("recipients", rc.Code, 64, false); err != nil {
				return nil, err
			}
		}
	}
	for _, rc := range to {
		if rc.Exchange {
			if rc.Code == "" {
				return nil, errs.Invalid("recipients", "a recipient reached through the exchange is named by its identifier code")
			}
			as.Recipients = append(as.Recipients, rc.Code)
		}
	}
	return s.issue(ctx, sub, id, as, func(tx *store.Tx, r *row) error {
		var units []int64
		for _, rc := range to {
			if rc.UnitID != 0 {
				name, kind, ok, err := unitName(ctx, tx, rc.UnitID)
				if err != nil {
					return err
				}
				if !ok || rc.Kind != recipientKindOf(identity.UnitKind(kind)) {
					return errs.Invalid("recipients", fmt.Sprintf("no %s has id %d", rc.Kind, rc.UnitID))
				}
				rc.Name = name
				// The ministry's own units and missions read it here.
				if rc.Kind != RecipientAgency && rc.UnitID != r.UnitID && !slices.Contains(r.Shared, rc.UnitID) && !slices.Contains(units, rc.UnitID) {
					units = append(units, rc.UnitID)
				}
			}
			if err := insertRecipient(ctx, tx, r.ID, rc); err != nil {
				return err
			}
		}
		r.Shared = append(r.Shared, units...)
		return insertDistribution(ctx, tx, r.ID, units)
	})
}

// Replace starts the draft replacing an issued or recalled document: of
// the same type, subject, urgency, classification and distribution, in
// the same unit, linked to it; its file is uploaded as the draft's first
// version. A document is replaced once.
func (s *Service) Replace(ctx context.Context, sub authz.Subject, id int64) (*Document, error) {
	o, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	var nd *Document
	_, err = s.change(ctx, sub, id, "replace", "", nil, func(tx *store.Tx, old *row) error {
		now := s.now()
		nr := &row{Document: Document{Direction: Outgoing, UnitID: old.UnitID, Type: old.Type, Subject: old.Subject, Urgency: old.Urgency,
			Classification: old.Classification, Status: StatusDraft, AuthorID: sub.ID, CreatedAt: now, UpdatedAt: now, Version: 1}}
		// Decided without the distribution: only the owning unit's
		// staff draft its documents.
		if err := allow(sub, authz.Create, authz.KindDocument, nr); err != nil {
			return err
		}
		if _, by, err := loadReplacement(ctx, tx, old.ID); err != nil {
			return err
		} else if by != 0 {
			return fmt.Errorf("%w: document %d is already replaced by document %d", errs.ErrConflict, old.ID, by)
		}
		if nr.Classification > authz.Unclassified {
			nr.class = Classification{Level: nr.Classification, Reason: old.class.Reason, Source: old.class.Source, ClassifierID: sub.ID,
				ProtectUntil: old.class.ProtectUntil}
		}
		if err := insertDocument(ctx, tx, nr); err != nil {
			return fmt.Errorf("records: store the replacement: %w", err)
		}
		nr.Shared = old.Shared
		if err := insertDistribution(ctx, tx, nr.ID, nr.Shared); err != nil {
			return err
		}
		if nr.Classification > authz.Unclassified {
			if err := insertClassificationEvent(ctx, tx, nr.ID, ClassificationEvent{Kind: Classified, To: nr.Classification,
				Reason: nr.class.Reason, Source: nr.class.Source, ActorID: sub.ID, ProtectUntil: nr.class.ProtectUntil, At: now}); err != nil {
				return err
			}
		}
		t, _ := LookupType(nr.Type)
		if err := indexDocument(ctx, tx, nr.ID, indexText(t, nr, "")); err != nil {
			return err
		}
		if err := insertReplacement(ctx, tx, nr.ID, old.ID); err != nil {
			return err
		}
		nd = &nr.Document
		return s.opts.Recorder.AppendTx(ctx, tx, event(o, "document.draft", nr, map[string]string{"type": nr.Type,
			"replaces": strconv.FormatInt(old.ID, 10)}))
	})
	if err != nil {
		return nil, err
	}
	return nd, nil
}

// draftingUnit returns nil if sub may take the outgoing step name on r
// as staff of its drafting unit: the distribution list and explicit
// grants give need-to-know for reading (and commenting), not for
// revising, reviewing, approving, signing, issuing, recalling or
// replacing another unit's document. authz decides, on the document's
// labels without the list and the grants.
func draftingUnit(sub authz.Subject, name string, r *row) error {
	st := steps[name]
	res := authz.Resource{Kind: st.kind, Unit: r.UnitID, Level: r.Classification}
	if dec, _ := authz.Decide(sub, st.action, res); dec != authz.Allowed {
		return fmt.Errorf("%w: only the drafting unit's staff may %s", errs.ErrForbidden, strings.ReplaceAll(name, "_", " "))
	}
	return nil
}

// recipientKindOf is the kind of recipient a unit of the directory is.
func recipientKindOf(k identity.UnitKind) RecipientKind {
	switch {
	case k.Mission():
		return RecipientMission
	case k == identity.KindAgency:
		return RecipientAgency
	}
	return RecipientUnit
}

// contentInfoOf describes c as stored.
func contentInfoOf(c *Content) ContentInfo {
	sum := sha256Sum(c.Data)
	return ContentInfo{Filename: c.Filename, MediaType: c.MediaType, Size: int64(len(c.Data)), SHA256: sum}
}

// joinIDs formats ids for an audit attribute.
func joinIDs(ids []int64) string {
	out := make([]byte, 0, 8*len(ids))
	for i, id := range ids {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendInt(out, id, 10)
	}
	return string(out)
}
