package procedures

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/calendar"
	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/store"
)

// ActionRequest is an action someone asks to take on a dossier.
type ActionRequest struct {
	Action Action `json:"action"`
	// Reason is why: required to refuse, stop or request documents.
	Reason string `json:"note"`
	// Assignee is the staff member an assign action hands the dossier to;
	// if zero, the actor takes it.
	Assignee int64 `json:"assignee,omitempty"`
	// Version, if not zero, is the version the actor saw: the action is
	// refused with errs.ErrConflict if the dossier changed since.
	Version int `json:"version,omitempty"`
	// Receipt is the number of the receipt a clerk handed over for a fee
	// taken at the counter: required to pay, and recorded with the
	// payment. Online fees are paid through the payment gateway, whose
	// signed callback records them.
	Receipt string `json:"receipt,omitempty"`
}

// Act takes an action on a dossier for sub and returns the dossier after
// it. Staff act on their own unit's dossiers in their roles; the citizen
// who submitted a dossier acts as its applicant. Errors wrap
// errs.ErrNotFound for a dossier sub may not see, and otherwise as
// Lifecycle.Apply says: errs.ErrForbidden for an action sub's roles do not
// allow, errs.ErrConflict for one the current status does not allow (or a
// second request for documents), errs.ErrInvalid for a missing reason.
// Nothing changes on error.
func (s *Service) Act(ctx context.Context, sub authz.Subject, code string, req ActionRequest) (*Dossier, error) {
	var out *Dossier
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := s.load(ctx, tx, code)
		if err != nil {
			return err
		}
		if err := s.mayRead(sub, d); err != nil {
			return err
		}
		if req.Version != 0 && req.Version != d.Version {
			return fmt.Errorf("%w: dossier %s changed since you opened it (version %d, now %d); reload it and try again", errs.ErrConflict, code, req.Version, d.Version)
		}
		if err := s.transition(ctx, tx, d, sub, req); err != nil {
			return err
		}
		out = d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("procedures: %s dossier %s: %w", req.Action, code, err)
	}
	s.nudge()
	return out, nil
}

// transition applies req to d inside tx: the lifecycle, the row, the
// history, the audit event, the national portal report and the notice.
func (s *Service) transition(ctx context.Context, tx *store.Tx, d *Dossier, sub authz.Subject, req ActionRequest) error {
	o, err := s.origin(ctx)
	if err != nil {
		return err
	}
	by := roles(sub, d)
	if sub.Kind == authz.Staff {
		if dec, _ := authz.Decide(sub, authz.Update, authz.Resource{Kind: authz.KindDossier, Unit: d.UnitID}); dec != authz.Allowed {
			return fmt.Errorf("%w: your roles do not allow changing dossiers", errs.ErrForbidden)
		}
	}
	cal, err := s.Calendar(ctx, d.UnitID)
	if err != nil {
		return err
	}
	now := s.now()
	if now.Before(d.Since) {
		now = d.Since // a clock stepped back must not refuse the action
	}
	next, err := d.Lifecycle.Apply(Event{Action: req.Action, By: by, At: now, Reason: req.Reason})
	if err != nil {
		var refused *authz.Refusal
		if errors.As(err, &refused) {
			refused.ResourceID = d.Code
		}
		return err
	}
	from := d.Status
	switch req.Action {
	case ActAssign:
		assignee := req.Assignee
		if assignee == 0 {
			assignee = sub.ID
		}
		if sub.Kind != authz.Staff {
			return fmt.Errorf("%w: only staff assign dossiers", errs.ErrForbidden)
		}
		if err := checkAssignee(ctx, tx, assignee, d.UnitID); err != nil {
			return err
		}
		d.AssigneeID = assignee
	case ActPay:
		// The gateway's callback (the system) has recorded its payment
		// row already; a clerk records the counter's here, with its
		// receipt, so that no fee is marked paid without a payment.
		if sub.Kind != authz.System {
			receipt, err := checkReceiptNumber(req.Receipt)
			if err != nil {
				return err
			}
			if err := s.recordCounterPayment(ctx, tx, o, sub.ID, d, receipt, now); err != nil {
				return err
			}
		}
		d.Paid = true
		d.PaidOnline = sub.Kind == authz.System
	case ActApprove:
		if err := s.signResult(ctx, d, now); err != nil {
			return err
		}
	}
	d.Lifecycle = next
	d.DueAt = next.Clock.Due(cal, now)
	// The receipt's appointment is the deadline at receipt; when the
	// applicant's time (documents, payment) moves the deadline on, the
	// appointment moves with it, and the notice of the change says so.
	if from == StatusRegistered && next.Status == StatusReceived || from.Paused() && d.DueAt.After(d.AppointmentAt) {
		d.AppointmentAt = d.DueAt
	}
	if !next.Clock.FinishedAt.IsZero() && from != next.Status && (next.Status == StatusCompleted || next.Status == StatusStopped) {
		d.Late = next.Clock.Overdue(cal, now)
	}
	if next.Status == StatusReturned {
		d.ReturnedAt = now
	}
	based := d.Version
	d.UpdatedAt, d.Version = now, d.Version+1
	if err := updateDossier(ctx, tx, d, based); err != nil {
		return err
	}
	e := entryBy(o, Entry{Action: string(req.Action), From: from, To: next.Status, UnitID: d.UnitID, Reason: strings.TrimSpace(req.Reason), At: now})
	if err := insertEntry(ctx, tx, d.ID, e); err != nil {
		return err
	}
	d.History = append(d.History, e)
	attrs := map[string]string{"action": string(req.Action), "from": strconv.Itoa(int(from)), "to": strconv.Itoa(int(next.Status))}
	if req.Action == ActAssign {
		attrs["assignee"] = strconv.FormatInt(d.AssigneeID, 10)
	}
	if err := s.record(ctx, tx, o, "dossier."+string(req.Action), d, attrs); err != nil {
		return err
	}
	if from != next.Status {
		if err := s.queueReport(ctx, tx, d, now); err != nil {
			return err
		}
		return s.notify(ctx, tx, d, string(req.Action), e.Reason)
	}
	return nil
}

// entryBy returns e as taken by o's actor: a staff member or a citizen by
// id (the staff's username names them too), the system by none.
func entryBy(o audit.Origin, e Entry) Entry {
	e.ActorKind, e.ActorName = string(o.Actor.Kind), o.Actor.Name
	if o.Actor.Kind == audit.ActorStaff || o.Actor.Kind == audit.ActorCitizen {
		e.ActorID, _ = strconv.ParseInt(o.Actor.ID, 10, 64)
	}
	return e
}

// Supplement brings the additional documents a unit requested (status 5)
// with their files, and resumes processing: the applicant online, or a
// clerk for papers brought to the counter. The files and the step commit
// together. It returns errors as Act does, and errs.ErrInvalid for a file
// of a document the procedure does not list.
//
// The uploads are Supplement's from the call on: on any error, the files
// StoreUpload stored are discarded.
func (s *Service) Supplement(ctx context.Context, sub authz.Subject, code, note string, ups []Upload) (_ *Dossier, err error) {
	ups = slices.Clone(ups) // putBlob marks them stored
	defer func() { s.discardOnError(ctx, err, ups) }()
	d, err := s.load(ctx, s.db, code)
	if err != nil {
		return nil, err
	}
	if err := s.mayRead(sub, d); err != nil {
		return nil, err
	}
	p, err := s.cat.Procedure(d.Procedure)
	if err != nil {
		return nil, err
	}
	for _, up := range ups {
		if err := checkDocument(p, up.DocumentKey); err != nil {
			return nil, err
		}
	}
	if err := checkDossierFiles(nil, len(ups), uploadsSize(ups)); err != nil {
		return nil, err
	}
	var added []Attachment
	for i := range ups {
		a, err := s.putBlob(ctx, &ups[i])
		if err != nil {
			return nil, err
		}
		added = append(added, a)
	}
	var out *Dossier
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := s.load(ctx, tx, code)
		if err != nil {
			return err
		}
		held, err := listAttachments(ctx, tx, "dossier_id", d.ID)
		if err != nil {
			return err
		}
		// Concurrent supplements cannot both pass: the step's version
		// check lets one of them commit.
		var addedBytes int64
		for _, a := range added {
			addedBytes += a.Size
		}
		if err := checkDossierFiles(held, len(added), addedBytes); err != nil {
			return err
		}
		for i := range added {
			if err := insertAttachment(ctx, tx, &added[i], "dossier_id", d.ID); err != nil {
				return err
			}
		}
		d.Digitised = digitised(p, append(held, added...))
		if err := s.transition(ctx, tx, d, sub, ActionRequest{Action: ActSupplement, Reason: note}); err != nil {
			return err
		}
		out = d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("procedures: supplement dossier %s: %w", code, err)
	}
	s.nudge()
	return out, nil
}

// checkAssignee refuses an assignee who is not an active officer or
// approver of the unit.
func checkAssignee(ctx context.Context, tx *store.Tx, staffID, unitID int64) error {
	unit, roleList, disabled, err := staffInfo(ctx, tx, staffID)
	if err != nil {
		return err
	}
	if unit != unitID || disabled {
		return errs.Invalid("assignee", fmt.Sprintf("staff member %d is not an active member of the dossier's unit", staffID))
	}
	roles, err := authz.ParseRoles(strings.Split(roleList, ","))
	if err != nil {
		return fmt.Errorf("procedures: the roles of staff member %d: %w", staffID, err)
	}
	// Dossiers are assigned to those who process them: staff who hold the
	// casework or the decision capacity in the unit.
	assignee := authz.Subject{Kind: authz.Staff, ID: staffID, Unit: unit, Roles: roles}
	for _, k := range []authz.Kind{authz.KindCasework, authz.KindDecision} {
		if dec, _ := authz.Decide(assignee, authz.Update, authz.Resource{Kind: k, Unit: unitID}); dec == authz.Allowed {
			return nil
		}
	}
	return errs.Invalid("assignee", fmt.Sprintf("staff member %d is neither an officer nor an approver; dossiers are assigned to those who process them", staffID))
}

// SignedResult is a dossier's electronic result: a document signed with the
// node's key, verifiable by anyone holding the ministry's public key. It
// leaves the node in one JSON shape, ResultFile, from the API and the
// pages alike.
type SignedResult struct {
	Document  ResultDocument // decoded from Raw
	KeyID     string
	Signature string // base64 Ed25519 over Raw
	Raw       []byte // the document's JSON as signed and stored
}

// ResultFile is the one JSON shape of a signed result: what the API
// answers, what the pages download, and what verification takes back.
// The document is the signed JSON text, byte for byte, so that anyone
// can check the signature over it without re-encoding anything.
type ResultFile struct {
	Document  string `json:"document"`
	KeyID     string `json:"key_id"`
	Algorithm string `json:"algorithm,omitempty"` // ResultAlgorithm; optional when verifying
	Signature string `json:"signature"`           // base64
}

// ResultAlgorithm is the signature algorithm of every result.
const ResultAlgorithm = "Ed25519"

// File returns r in the one JSON shape of a signed result.
func (r SignedResult) File() ResultFile {
	return ResultFile{Document: string(r.Raw), KeyID: r.KeyID, Algorithm: ResultAlgorithm, Signature: r.Signature}
}

// ResultDocument is what an electronic result states.
type ResultDocument struct {
	DossierCode string    `json:"dossier_code"`
	Procedure   string    `json:"procedure_code"`
	ResultVI    string    `json:"result_vi"`
	ResultEN    string    `json:"result_en"`
	Applicant   string    `json:"applicant"`
	AgencyCode  string    `json:"agency_code"`
	IssuedAt    time.Time `json:"issued_at"`
}

// signResult issues d's electronic result at approval.
func (s *Service) signResult(ctx context.Context, d *Dossier, at time.Time) error {
	p, err := s.cat.Procedure(d.Procedure)
	if err != nil {
		return err
	}
	doc := ResultDocument{DossierCode: d.Code, Procedure: p.Code, ResultVI: p.Result.NameVI, ResultEN: p.Result.NameEN,
		Applicant: d.ApplicantName, AgencyCode: d.UnitCode, IssuedAt: at}
	raw, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	keyID, sig := s.opts.Ring.Sign(raw)
	d.resultBlob, d.resultSig, d.HasResult = string(raw), keyID+":"+base64.StdEncoding.EncodeToString(sig), true
	return nil
}

// Result returns a dossier's signed electronic result to those who may
// read the dossier, or ErrNoResult.
func (s *Service) Result(ctx context.Context, sub authz.Subject, code string) (SignedResult, error) {
	d, err := s.load(ctx, s.db, code)
	if err != nil {
		return SignedResult{}, err
	}
	if err := s.mayRead(sub, d); err != nil {
		return SignedResult{}, err
	}
	if !d.HasResult {
		return SignedResult{}, ErrNoResult
	}
	return parseResult(d.resultBlob, d.resultSig)
}

func parseResult(raw, sig string) (SignedResult, error) {
	keyID, b64, _ := strings.Cut(sig, ":")
	r := SignedResult{KeyID: keyID, Signature: b64, Raw: []byte(raw)}
	if err := json.Unmarshal(r.Raw, &r.Document); err != nil {
		return SignedResult{}, fmt.Errorf("procedures: decode a stored result: %w", err)
	}
	return r, nil
}

// VerifyResult checks a result document's signature against the node's
// signing keys, current or retired. It returns an error wrapping
// errs.ErrInvalid when the signature does not verify.
func (s *Service) VerifyResult(raw []byte, keyID, signature string) error {
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return errs.Invalid("signature", "is not base64")
	}
	if err := s.opts.Ring.VerifyWithID(keyID, raw, sig); err != nil {
		return errs.Invalid("signature", "does not verify: "+err.Error())
	}
	return nil
}

// Rate records the applicant's rating (1 to 5) of a returned dossier,
// once. It returns an error wrapping errs.ErrConflict before the result is
// returned or when already rated.
func (s *Service) Rate(ctx context.Context, sub authz.Subject, code string, stars int) error {
	if stars < 1 || stars > 5 {
		return errs.Invalid("rating", "give 1 to 5 stars")
	}
	o, err := s.origin(ctx)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := s.load(ctx, tx, code)
		if err != nil {
			return err
		}
		if sub.Kind != authz.Citizen || sub.ID != d.CitizenID {
			return fmt.Errorf("%w: no dossier has code %s", errs.ErrNotFound, code)
		}
		switch {
		case d.Status != StatusReturned:
			return fmt.Errorf("%w: a dossier is rated once its result is returned", errs.ErrConflict)
		case d.Rating != 0:
			return fmt.Errorf("%w: this dossier was already rated", errs.ErrConflict)
		}
		based := d.Version
		d.Rating, d.UpdatedAt, d.Version = stars, s.now(), d.Version+1
		if err := updateDossier(ctx, tx, d, based); err != nil {
			return err
		}
		if err := insertEntry(ctx, tx, d.ID, entryBy(o, Entry{Action: "rate", From: d.Status, To: d.Status, UnitID: d.UnitID, At: d.UpdatedAt})); err != nil {
			return err
		}
		return s.record(ctx, tx, o, "dossier.rate", d, map[string]string{"rating": strconv.Itoa(stars)})
	})
}

// Apologise records the letter of apology of an overdue dossier with its
// new appointment date (a working day of the unit, after today), and
// sends it to the applicant, as Decree 61/2018/NĐ-CP requires of a unit
// that misses a deadline. It returns an error wrapping errs.ErrConflict
// for a dossier that is not overdue, and errs.ErrInvalid for a bad date.
func (s *Service) Apologise(ctx context.Context, sub authz.Subject, code string, newDate calendar.Date, reason string) (*Dossier, error) {
	o, err := s.origin(ctx)
	if err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, errs.Invalid("reason", "say why the dossier is late: the applicant is told")
	}
	var out *Dossier
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := s.load(ctx, tx, code)
		if err != nil {
			return err
		}
		if err := s.mayRead(sub, d); err != nil {
			return err
		}
		if !mayApologise(sub, d.UnitID) {
			return fmt.Errorf("%w: the unit's staff write letters of apology", errs.ErrForbidden)
		}
		cal, err := s.Calendar(ctx, d.UnitID)
		if err != nil {
			return err
		}
		now := s.now()
		if !d.Overdue(cal, now) || d.Status.Final() || d.Status == StatusCompleted {
			return fmt.Errorf("%w: dossier %s is not overdue; a letter of apology is for a dossier past its deadline", errs.ErrConflict, code)
		}
		if !newDate.IsValid() || !newDate.After(cal.Date(now)) || !cal.cal.IsWorkingDay(newDate) {
			return errs.Invalid("appointment", "the new appointment must be a working day after today")
		}
		based := d.Version
		d.AppointmentAt = cal.endOfDay(newDate)
		d.UpdatedAt, d.Version = now, d.Version+1
		if err := updateDossier(ctx, tx, d, based); err != nil {
			return err
		}
		e := entryBy(o, Entry{Action: "apologise", From: d.Status, To: d.Status, UnitID: d.UnitID, Reason: reason, At: now})
		if err := insertEntry(ctx, tx, d.ID, e); err != nil {
			return err
		}
		if err := s.record(ctx, tx, o, "dossier.apologise", d, map[string]string{"appointment": newDate.String()}); err != nil {
			return err
		}
		out = d
		return s.notify(ctx, tx, d, "apologise", reason)
	})
	if err != nil {
		return nil, fmt.Errorf("procedures: apologise for dossier %s: %w", code, err)
	}
	s.nudge()
	return out, nil
}

// Overdue reports whether d is past its deadline at the given time.
func (d *Dossier) Overdue(cal Calendar, at time.Time) bool { return d.Clock.Overdue(cal, at) }

// notify queues the applicant's notice of a change, in both languages.
func (s *Service) notify(ctx context.Context, tx *store.Tx, d *Dossier, what, reason string) error {
	if s.opts.Notifier == nil || d.ApplicantEmail == "" {
		return nil
	}
	key := "procedures.notice." + strings.ReplaceAll(what, "-", "_")
	if !texts.Has(key) {
		key = "procedures.notice.status"
	}
	// Dates are the unit's, where the appointment is kept, written as
	// each language writes them.
	cal, err := s.Calendar(ctx, d.UnitID)
	if err != nil {
		return fmt.Errorf("procedures: the calendar of dossier %s's unit for its notice: %w", d.Code, err)
	}
	track := strings.TrimSuffix(s.opts.SiteURL, "/") + "/track?code=" + url.QueryEscape(d.Code)
	var subject, body strings.Builder
	for i, lang := range []i18n.Lang{i18n.VI, i18n.EN} {
		if i > 0 {
			subject.WriteString(" / ")
			body.WriteString("\n\n---\n\n")
		}
		subject.WriteString(texts.T(lang, "procedures.notice.subject", d.Code))
		fmt.Fprintf(&body, "%s\n\n%s: %s\n", texts.T(lang, key, d.Code),
			texts.T(lang, "procedures.notice.status_label"), texts.T(lang, d.Status.Key()))
		if !d.AppointmentAt.IsZero() {
			fmt.Fprintf(&body, "%s: %s\n", texts.T(lang, "procedures.notice.appointment_label"), lang.FormatDate(d.AppointmentAt.In(cal.Location())))
		}
		if reason != "" {
			fmt.Fprintf(&body, "%s: %s\n", texts.T(lang, "procedures.notice.reason_label"), reason)
		}
		fmt.Fprintf(&body, "%s: %s\n", texts.T(lang, "procedures.notice.track_label"), track)
	}
	return s.opts.Notifier.NotifyTx(ctx, tx, Notice{To: d.ApplicantEmail, Subject: subject.String(), Text: body.String()})
}

// TransferOpenTx moves the open dossiers of a unit merged into another to
// the surviving unit, inside the merge's transaction, keeping their codes
// and history (each gets a "transfer" entry and an audit event). It
// returns how many moved.
func (s *Service) TransferOpenTx(ctx context.Context, tx *store.Tx, fromUnit, toUnit int64, toCode string) (int, error) {
	o, err := s.origin(ctx)
	if err != nil {
		return 0, err
	}
	ids, err := openDossierCodes(ctx, tx, fromUnit)
	if err != nil {
		return 0, err
	}
	now := s.now()
	for _, code := range ids {
		d, err := loadDossier(ctx, tx, code)
		if err != nil {
			return 0, err
		}
		based := d.Version
		d.UnitID, d.UnitCode, d.AssigneeID, d.UpdatedAt, d.Version = toUnit, toCode, 0, now, d.Version+1
		if err := updateDossier(ctx, tx, d, based); err != nil {
			return 0, err
		}
		if err := insertEntry(ctx, tx, d.ID, entryBy(o, Entry{Action: "transfer", From: d.Status, To: d.Status, UnitID: toUnit,
			Reason: "unit merged into " + toCode, At: now})); err != nil {
			return 0, err
		}
		if err := s.record(ctx, tx, o, "dossier.transfer", d, map[string]string{"from_unit": strconv.FormatInt(fromUnit, 10), "to": toCode}); err != nil {
			return 0, err
		}
	}
	s.calMu.Lock()
	delete(s.cals, fromUnit)
	s.calMu.Unlock()
	return len(ids), nil
}
