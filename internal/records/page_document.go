package records

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"chancery/internal/errs"
	"chancery/internal/web"
)

// documentData is a document's page: its metadata, classification, file,
// handling, read receipts, history and case files, and the forms of the
// actions the viewer may take.
type documentData struct {
	Doc      docRow
	Incoming bool
	// Marking is the level's marking as stamped on the document (MẬT,
	// TỐI MẬT, TUYỆT MẬT), "" for an unclassified one.
	Marking     string
	Channel     string
	Author      string
	Shared      []string
	Content     *ContentInfo
	ContentHref string
	// Attachments are its other files, each with its link (none once
	// the data key is destroyed).
	Attachments    []attachmentRow
	Classification Classification
	ClassHref      string // the classification page, for who may read it
	DraftingHref   string // the drafting page, for an outgoing document
	Assignments    []assignmentRow
	Receipts       []receiptRow
	History        []historyRow
	CaseFiles      []caseFileRow
	// The action forms, nil when the viewer may not take the action.
	Instruct, Step, Complete []web.Field
	// InstructSupport is the instruction's choice of supporting units,
	// folded away.
	InstructSupport []web.Field
	StepProblem     web.Refusal
	InstructProblem web.Refusal
	CompleteProblem web.Refusal
	// Holds are the document's legal holds, in force first; HoldForm
	// places one, LiftForm lifts one (nil when the viewer may not).
	Holds       []holdRow
	HoldForm    []web.Field
	LiftForm    []web.Field
	HoldProblem web.Refusal
	Version     int
	// SessionHint says the viewer would act on the document in a session
	// working at its level.
	SessionHint string
}

type assignmentRow struct {
	Role, Unit, Officer, Instruction, By string
	Deadline, At                         time.Time
}

type attachmentRow struct {
	Href, Filename string
	Size           int64
}

type holdRow struct {
	ID                           int64
	Reason, By, LiftReason, Lift string
	At, LiftedAt                 time.Time
}

type receiptRow struct {
	Name string
	At   time.Time
}

type historyRow struct {
	At           time.Time
	Actor        string
	Action, Note string
}

// pageDocumentID parses the path's document id; a malformed one answers
// as a missing document does (404), so nothing tells ids apart.
func pageDocumentID(r *http.Request) (int64, error) {
	id, err := parseDocumentID(r.PathValue("id"))
	if err != nil {
		return 0, errNoDocument(0)
	}
	return id, nil
}

func (h *Handler) pageDocument(w http.ResponseWriter, r *http.Request) {
	h.showDocument(w, r, http.StatusOK, web.SentBack{})
}

// showDocument draws the document's page, with back the form sent back,
// if any.
func (h *Handler) showDocument(w http.ResponseWriter, r *http.Request, status int, back web.SentBack) {
	id, err := pageDocumentID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	ctx, sub := r.Context(), web.SubjectFrom(r.Context())
	v, err := h.svc.Get(ctx, sub, id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	hist, filings, err := h.svc.Trail(ctx, sub, id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	channel, err := h.svc.ChannelOf(ctx, id)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	p := h.shell.Page(r, web.Console, "records.pages.document.title")
	ids := []int64{v.AuthorID, v.SignerID, v.ClassificationRecord.ClassifierID}
	for _, a := range v.Assignments {
		ids = append(ids, a.StaffID, a.AssignedBy)
	}
	for _, rc := range v.Receipts {
		ids = append(ids, rc.StaffID)
	}
	for _, e := range hist {
		ids = append(ids, e.ActorID)
	}
	for _, hd := range v.Holds {
		ids = append(ids, hd.PlacedBy, hd.LiftedBy)
	}
	n, err := h.loadNames(ctx, p.Lang, ids)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	now := h.svc.now()
	d := v.Document
	p.Title = p.T("records.pages.document.title_of", typeName(d.Type), d.Subject)
	data := documentData{Doc: newDocRow(p, n, d, now), Incoming: d.Direction == Incoming, Marking: strings.ToUpper(LevelLabel(d.Classification)),
		Author: n.person(d.AuthorID), Content: d.Content, Classification: v.ClassificationRecord, Version: d.Version}
	if channel != "" {
		data.Channel = p.T("records.pages.channel." + string(channel))
	}
	for _, u := range d.Shared {
		data.Shared = append(data.Shared, n.unit(u))
	}
	if d.Content != nil && d.Content.Shredded.IsZero() {
		data.ContentHref = consoleDocumentPath(id) + "/content"
		for _, a := range v.Attachments {
			data.Attachments = append(data.Attachments, attachmentRow{Href: consoleDocumentPath(id) + "/attachments/" + strconv.Itoa(a.Seq),
				Filename: a.Filename, Size: a.Size})
		}
	}
	allowed := AllowedOn(sub, d)
	if allowed.Lower {
		data.SessionHint = p.T("records.pages.document.session_hint", p.T("records.level."+p.Principal.Subject.Session.String()),
			p.T("records.level."+d.Classification.String()))
	}
	if allowed.Classification {
		data.ClassHref = consoleDocumentPath(id) + "/classification"
	}
	if d.Direction == Outgoing {
		data.DraftingHref = consoleDocumentPath(id) + "/drafting"
	}
	for _, a := range v.Assignments {
		data.Assignments = append(data.Assignments, assignmentRow{Role: p.T("records.pages.role." + a.Role), Unit: n.unit(a.UnitID),
			Officer: n.person(a.StaffID), Instruction: a.Instruction, By: n.person(a.AssignedBy), Deadline: a.Deadline, At: a.At})
	}
	for _, rc := range v.Receipts {
		data.Receipts = append(data.Receipts, receiptRow{Name: n.person(rc.StaffID), At: rc.At})
	}
	for i := len(hist) - 1; i >= 0; i-- { // newest first
		e := hist[i]
		data.History = append(data.History, historyRow{At: e.At, Actor: n.person(e.ActorID), Action: historyLabel(p, e.Action), Note: e.Note})
	}
	for _, f := range filings {
		data.CaseFiles = append(data.CaseFiles, caseFileRow{Href: "/console/case-files/" + strconv.FormatInt(f.CaseFile.ID, 10),
			Code: f.CaseFile.Code, Title: f.CaseFile.Title, Year: f.CaseFile.Year})
	}
	if allowed.Assign {
		data.Instruct, data.InstructSupport, data.InstructProblem, err = h.instructForm(r, p, n, back)
		if err != nil {
			web.Error(w, r, err)
			return
		}
	}
	data.Holds = holdRows(v.Holds, n)
	if allowed.Hold {
		fm := back.NewForm(p, "hold-", nil)
		data.HoldForm = []web.Field{fm.Field("reason", "text", "records.pages.document.holds.reason", true)}
		data.HoldProblem = fm.Message()
		if len(data.Holds) > 0 && data.Holds[0].LiftedAt.IsZero() {
			fl := back.NewForm(p, "lift-", nil)
			var inForce []web.Option
			for _, hd := range data.Holds {
				if hd.LiftedAt.IsZero() {
					inForce = append(inForce, web.Option{Value: strconv.FormatInt(hd.ID, 10), Label: hd.Reason})
				}
			}
			data.LiftForm = []web.Field{fl.Choice("hold_id", "select", "records.pages.document.holds.which", true, inForce),
				fl.Field("reason", "text", "records.pages.document.holds.lift_reason", true)}
			if m := fl.Message(); m.Status != 0 {
				data.HoldProblem = m
			}
		}
	}
	if allowed.Comment {
		fm := back.NewForm(p, "step-", nil)
		data.Step = []web.Field{fm.Field("note", "textarea", "records.pages.document.step.note", true)}
		data.StepProblem = fm.Message()
	}
	if allowed.Complete {
		fm := back.NewForm(p, "complete-", nil)
		data.Complete = []web.Field{fm.Field("note", "textarea", "records.pages.document.complete.note", false)}
		data.CompleteProblem = fm.Message()
	}
	h.pages.Render(w, r, status, "console_records_document", web.View[documentData]{Page: p, Data: data})
}

// holdRows returns a document's holds for its page: those in force
// first, newest first within each.
func holdRows(holds []Hold, n *names) []holdRow {
	var out []holdRow
	for _, inForce := range []bool{true, false} {
		for i := len(holds) - 1; i >= 0; i-- {
			hd := holds[i]
			if hd.LiftedAt.IsZero() == inForce {
				out = append(out, holdRow{ID: hd.ID, Reason: hd.Reason, By: n.person(hd.PlacedBy), At: hd.PlacedAt,
					LiftReason: hd.LiftReason, Lift: n.person(hd.LiftedBy), LiftedAt: hd.LiftedAt})
			}
		}
	}
	return out
}

// historyLabel names a history entry's action.
func historyLabel(p web.Page, action string) string {
	if key := "records.pages.history." + action; p.Has(key) {
		return p.T(key)
	}
	return action
}

// instructForm draws the leader's instruction (bút phê): the lead unit
// and, if one, its officer; supporting units; the deadline.
func (h *Handler) instructForm(r *http.Request, p web.Page, n *names, back web.SentBack) (fields, support []web.Field, ref web.Refusal, err error) {
	staff, err := listStaff(r.Context(), h.svc.db, nil, true)
	if err != nil {
		return nil, nil, web.Refusal{}, err
	}
	units := []web.Option{{Value: "", Label: p.T("records.pages.choose")}}
	var supporting []web.Option
	for _, u := range sortedUnits(n) {
		o := web.Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Name(p.Lang)}
		units, supporting = append(units, o), append(supporting, o)
	}
	officers := []web.Option{{Value: "", Label: p.T("records.pages.document.instruct.whole_unit")}}
	for _, s := range staff {
		if s.Officer && !s.Disabled {
			officers = append(officers, web.Option{Value: strconv.FormatInt(s.ID, 10), Label: s.Name + " — " + n.unit(s.UnitID)})
		}
	}
	fm := back.NewForm(p, "instruct-", nil)
	fields = []web.Field{
		fm.Field("instruction", "textarea", "records.pages.document.instruct.text", true),
		fm.Choice("lead_unit", "select", "records.pages.document.instruct.lead_unit", true, units),
		fm.Choice("lead_staff", "select", "records.pages.document.instruct.lead_staff", false, officers),
		fm.Field("deadline", "date", "records.pages.document.instruct.deadline", false),
	}
	support = []web.Field{fm.Choice("support_units", "checkboxes", "records.pages.document.instruct.support", false, supporting)}
	return fields, support, fm.Message(), nil
}

// pageContent sends a document's file, through the service, which
// records the download in the ledger at the document's level.
func (h *Handler) pageContent(w http.ResponseWriter, r *http.Request) {
	id, err := pageDocumentID(r)
	h.sendContent(w, r, id, err)
}

// pagePostAction takes an action of the document's page: the leader's
// instruction (assign), a handling step (comment) or the completion.
func (h *Handler) pagePostAction(w http.ResponseWriter, r *http.Request) {
	id, err := pageDocumentID(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		web.Error(w, r, fmt.Errorf("%w: the form could not be read: %v", errs.ErrInvalid, err))
		return
	}
	ctx, sub, v := r.Context(), web.SubjectFrom(r.Context()), r.PostForm
	action := v.Get("action")
	var form, flash string
	switch action {
	case "assign":
		form, flash = "instruct-", "records.pages.flash.assigned"
		var in Instruction
		if in, err = parseInstruction(v); err == nil {
			err = h.checkLeadOfficer(r, in.Lead)
		}
		if err == nil {
			_, err = h.svc.Assign(ctx, sub, id, in)
		}
	case "comment":
		form, flash = "step-", "records.pages.flash.step"
		_, err = h.svc.Comment(ctx, sub, id, strings.TrimSpace(v.Get("note")))
	case "complete":
		form, flash = "complete-", "records.pages.flash.completed"
		_, err = h.svc.Complete(ctx, sub, id, strings.TrimSpace(v.Get("note")))
	case "hold":
		form, flash = "hold-", "records.pages.flash.held"
		_, err = h.svc.PlaceDocumentHold(ctx, sub, id, strings.TrimSpace(v.Get("reason")))
	case "lift_hold":
		form, flash = "lift-", "records.pages.flash.hold_lifted"
		var hold int64
		if hold, err = web.ParseID("hold_id", v.Get("hold_id")); err == nil {
			err = h.svc.LiftDocumentHold(ctx, sub, id, hold, strings.TrimSpace(v.Get("reason")))
		}
	default:
		err = errs.Invalid("action", "use assign, comment, complete, hold or lift_hold")
	}
	if err != nil {
		h.formError(w, r, err, func(ref web.Refusal) {
			h.showDocument(w, r, ref.Status, web.SentBack{Form: form, Values: v, Refusal: ref})
		})
		return
	}
	web.RedirectWithFlash(w, r, consoleDocumentPath(id), flash)
}

// checkLeadOfficer refuses an instruction naming as lead an officer of
// another unit than the lead unit.
func (h *Handler) checkLeadOfficer(r *http.Request, lead AssignTo) error {
	if lead.StaffID == 0 {
		return nil
	}
	staff, err := listStaff(r.Context(), h.svc.db, []int64{lead.StaffID}, false)
	if err != nil {
		return err
	}
	if len(staff) != 1 || staff[0].UnitID != lead.UnitID {
		return errs.Invalid("lead_staff", "is not an officer of the lead unit: choose the unit's officer, or the unit as a whole")
	}
	return nil
}

// parseInstruction reads the instruction form.
func parseInstruction(v url.Values) (Instruction, error) {
	in := Instruction{Text: strings.TrimSpace(v.Get("instruction"))}
	if in.Text == "" {
		return in, errs.Invalid("instruction", "write the instruction")
	}
	var err error
	if in.Lead.UnitID, err = formID("lead_unit", v.Get("lead_unit"), true); err != nil {
		return in, err
	}
	if in.Lead.StaffID, err = formID("lead_staff", v.Get("lead_staff"), false); err != nil {
		return in, err
	}
	for _, s := range v["support_units"] {
		u, err := formID("support_units", s, true)
		if err != nil {
			return in, err
		}
		if u != in.Lead.UnitID {
			in.Support = append(in.Support, AssignTo{UnitID: u})
		}
	}
	day, err := parseDay("deadline", v.Get("deadline"), false)
	if err != nil {
		return in, err
	}
	if !day.IsZero() {
		in.Deadline = day.Add(24*time.Hour - time.Microsecond)
	}
	return in, nil
}

// formID parses a select's id; "" is none (an error when required).
func formID(field, s string, required bool) (int64, error) {
	if s == "" {
		if required {
			return 0, errs.Invalid(field, "choose one from the list")
		}
		return 0, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.Invalid(field, "choose one from the list")
	}
	return id, nil
}
