package insight

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// ContentType is the media type of insight's parcels on the exchange.
const ContentType = "application/vnd.chancery.insight+json"

// MaxParcel bounds a parcel taken in: a task update carries at most one
// evidence file (base64 in JSON).
const MaxParcel = MaxFile*4/3 + 1<<20

// parcel is what travels between nodes: one change, named by uids and
// agency codes (ids differ from node to node).
type parcel struct {
	Type       string      `json:"type"` // task | update | round | submission | decision
	From       string      `json:"from"`
	Task       *wireTask   `json:"task,omitempty"`
	Update     *wireUpdate `json:"update,omitempty"`
	Round      *wireRound  `json:"round,omitempty"`
	Submission *wireFiling `json:"submission,omitempty"`
}

type wireTask struct {
	UID, Title, Body, SourceRef, AssignedBy string
	Source                                  Source
	Level                                   authz.Level
	Lead                                    string
	Supporting                              []string
	Due, CreatedAt                          time.Time
	// Status, Progress and Updates carry a task's state and its progress
	// reports when CatchUp sends a task that was worked on at
	// headquarters before its mission enrolled (a new task has none).
	Status   TaskStatus   `json:",omitempty"`
	Progress int          `json:",omitempty"`
	Updates  []wireUpdate `json:",omitempty"`
}

type wireUpdate struct {
	TaskUID, UID, Unit, Author, Note, Evidence, FileName string
	Kind                                                 UpdateKind
	Progress                                             int
	FileData                                             []byte
	At                                                   time.Time
}

type wireRound struct {
	UID, Label, From, To, Owner string
	Template                    Template
	Units                       []string
	Due, CreatedAt              time.Time
	// Report is the recipient unit's report in the round, when CatchUp
	// sends a round it filed in at headquarters before its mission
	// enrolled: submitted (a decision may follow) or returned for
	// correction (with the reason; the mission files again).
	Report *wireReport `json:",omitempty"`
}

// wireReport is a unit's report as headquarters holds it.
type wireReport struct {
	UID, Unit, SubmittedBy, DecidedBy, Reason string
	Status                                    SubmissionStatus
	Values                                    map[string]string
	SubmittedAt, DecidedAt                    time.Time
	Version                                   int
}

// wireFiling is a submission (from the reporting unit) or a decision on
// it (from the collecting unit).
type wireFiling struct {
	RoundUID, UID, Unit, By, Reason string
	Status                          SubmissionStatus
	Values                          map[string]string
	At                              time.Time
}

// queue puts p in the outbox for the unit with code to, inside tx. A
// task or a round is queued once for a unit: a second time is a no-op.
func (s *Service) queue(ctx context.Context, tx *store.Tx, to string, p parcel) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return enqueue(ctx, tx, p.From, to, p.item(), b, s.now())
}

// item names the task or round p carries ("task:<uid>", "round:<uid>"),
// or is empty.
func (p parcel) item() string {
	switch {
	case p.Type == "task" && p.Task != nil:
		return "task:" + p.Task.UID
	case p.Type == "round" && p.Round != nil:
		return "round:" + p.Round.UID
	}
	return ""
}

// codes returns the units' codes.
func (s *Service) codes(ctx context.Context, units []int64) ([]string, error) {
	out := make([]string, len(units))
	for i, id := range units {
		u, err := s.opts.Directory.Unit(ctx, id)
		if err != nil {
			return nil, err
		}
		out[i] = u.Code
	}
	return out, nil
}

// sendTaskTx sends a task assigned here to each of its units that works
// on another node.
func (s *Service) sendTaskTx(ctx context.Context, tx *store.Tx, t Task) error {
	var p *parcel
	for _, unit := range append([]int64{t.LeadUnit}, t.Supporting...) {
		code, remote, err := s.remote(ctx, unit)
		if err != nil || !remote {
			if err != nil {
				return err
			}
			continue
		}
		if t.Level > MaxRemoteLevel {
			return errs.Invalid("level", fmt.Sprintf("a %s task cannot travel to %s through the exchange, which carries insight's parcels up to %s; assign it to units at headquarters, or send it by the classified channel", t.Level, code, MaxRemoteLevel))
		}
		if p == nil {
			if p, err = s.taskParcel(ctx, t); err != nil {
				return err
			}
		}
		if err := s.queue(ctx, tx, code, *p); err != nil {
			return err
		}
	}
	return nil
}

// hqCodes returns the codes of units and the ministry's: what a parcel
// from headquarters names.
func (s *Service) hqCodes(ctx context.Context, units []int64) ([]string, string, error) {
	codes, err := s.codes(ctx, units)
	if err != nil {
		return nil, "", err
	}
	root, err := s.root(ctx)
	return codes, root.Code, err
}

// taskParcel is the parcel that carries task t from headquarters.
func (s *Service) taskParcel(ctx context.Context, t Task) (*parcel, error) {
	codes, from, err := s.hqCodes(ctx, append([]int64{t.LeadUnit}, t.Supporting...))
	if err != nil {
		return nil, err
	}
	return &parcel{Type: "task", From: from, Task: &wireTask{UID: t.UID, Title: t.Title, Body: t.Body, SourceRef: t.SourceRef,
		AssignedBy: t.AssignedBy, Source: t.Source, Level: t.Level, Lead: codes[0], Supporting: codes[1:], Due: t.Due, CreatedAt: t.CreatedAt}}, nil
}

// CatchUp queues for the unit with code, once another node serves it (a
// mission that has enrolled since), what was made for it while it worked
// here and so never travelled: its tasks not done (up to MaxRemoteLevel;
// one above stays here), with their progress, and the rounds its report
// is not approved in, with its report if it filed one (submitted, or
// returned for correction with the reason). Each is queued
// once for the unit, however often and on however many replicas CatchUp
// runs; a mission that was only offline needs none of it (the exchange
// keeps what it missed). It returns how many parcels it queued.
func (s *Service) CatchUp(ctx context.Context, code string) (int, error) {
	u, err := s.opts.Directory.UnitByCode(ctx, code)
	if errors.Is(err, errs.ErrNotFound) {
		return 0, nil // not a unit of this directory
	} else if err != nil {
		return 0, err
	}
	if _, remote, err := s.remote(ctx, u.ID); err != nil || !remote {
		return 0, err
	}
	// Most calls find nothing: they read without a write transaction.
	if parcels, err := s.unsent(ctx, s.db, u.ID, code); err != nil || len(parcels) == 0 {
		return 0, err
	}
	n := 0
	err = s.queuing(ctx, func(tx *store.Tx) error {
		parcels, err := s.unsent(ctx, tx, u.ID, code)
		if err != nil {
			return err
		}
		for _, build := range parcels {
			p, err := build()
			if err != nil {
				return err
			}
			if err := s.queue(ctx, tx, code, *p); err != nil {
				return err
			}
		}
		n = len(parcels)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("insight: queue for %s what was made for it before it had a node: %w", code, err)
	}
	return n, nil
}

// unsent returns the builders of the parcels CatchUp queues for unit,
// whose code is code.
func (s *Service) unsent(ctx context.Context, q store.Queryer, unit int64, code string) ([]func() (*parcel, error), error) {
	tasks, err := unsentTasks(ctx, q, unit, code, MaxRemoteLevel)
	if err != nil {
		return nil, err
	}
	rounds, err := unsentRounds(ctx, q, unit, code)
	if err != nil {
		return nil, err
	}
	var parcels []func() (*parcel, error)
	for _, t := range tasks {
		parcels = append(parcels, func() (*parcel, error) { return s.caughtUpTask(ctx, q, t) })
	}
	for _, r := range rounds {
		parcels = append(parcels, func() (*parcel, error) { return s.caughtUpRound(ctx, q, r, unit, code) })
	}
	return parcels, nil
}

// caughtUpTask is the parcel that carries task t to a mission that
// enrolled since it was assigned: the task with its status, progress and
// progress reports, so the mission goes on from where its staff left it
// at headquarters. Attached files stay at headquarters (a parcel carries
// at most one); their updates travel without them.
func (s *Service) caughtUpTask(ctx context.Context, q store.Queryer, t Task) (*parcel, error) {
	p, err := s.taskParcel(ctx, t)
	if err != nil {
		return nil, err
	}
	ups, err := loadUpdates(ctx, q, t.ID)
	if err != nil {
		return nil, err
	}
	w := p.Task
	w.Status, w.Progress = t.Status, t.Progress
	for _, u := range ups {
		if u.Kind != UpdateProgress {
			continue // an escalation is headquarters' own mark
		}
		unit, err := s.opts.Directory.Unit(ctx, u.Unit)
		if err != nil {
			return nil, err
		}
		w.Updates = append(w.Updates, wireUpdate{TaskUID: t.UID, UID: u.UID, Unit: unit.Code, Author: u.Author, Note: u.Note,
			Evidence: u.Evidence, Kind: u.Kind, Progress: u.Progress, At: u.At})
	}
	return p, nil
}

// caughtUpRound is the parcel that carries round r to the unit with code
// (id unit) that enrolled since, with the unit's report in it if it
// filed one at headquarters that is not approved.
func (s *Service) caughtUpRound(ctx context.Context, q store.Queryer, r Round, unit int64, code string) (*parcel, error) {
	p, err := s.roundParcel(ctx, r)
	if err != nil {
		return nil, err
	}
	subs, err := loadSubmissions(ctx, q, "round_id = ? AND unit_id = ?", r.ID, unit)
	if err != nil || len(subs) == 0 {
		return p, err
	}
	sm := subs[0]
	p.Round.Report = &wireReport{UID: sm.UID, Unit: code, SubmittedBy: sm.SubmittedBy, DecidedBy: sm.DecidedBy, Reason: sm.Reason, Status: sm.Status,
		Values: sm.Values, SubmittedAt: sm.SubmittedAt, DecidedAt: sm.DecidedAt, Version: sm.Version}
	return p, nil
}

// sendUpdateTx sends an update made on a mission's node to headquarters.
func (s *Service) sendUpdateTx(ctx context.Context, tx *store.Tx, t Task, u TaskUpdate) error {
	root, err := s.root(ctx)
	if err != nil {
		return err
	}
	hq, remote, err := s.remote(ctx, root.ID)
	if err != nil || !remote {
		return err
	}
	unit, err := s.opts.Directory.Unit(ctx, u.Unit)
	if err != nil {
		return err
	}
	return s.queue(ctx, tx, hq, parcel{Type: "update", From: unit.Code, Update: &wireUpdate{TaskUID: t.UID, UID: u.UID, Unit: unit.Code,
		Author: u.Author, Note: u.Note, Evidence: u.Evidence, FileName: u.FileName, Kind: u.Kind, Progress: u.Progress, FileData: u.fileData, At: u.At}})
}

// MaxRemoteLevel is the highest classification of a task that travels
// between nodes: the exchange's insight channel is cleared for it, and
// a parcel above it would be refused there and stop the outbox.
const MaxRemoteLevel = authz.Secret

// Queued returns the channel that receives (coalesced) when a commit
// of this process may have put parcels in the outbox, for the one loop
// that calls Deliver to wake on: it needs no poll for the parcels this
// process queues, only a slow one for those another replica queued and
// did not hand over (it died first).
func (s *Service) Queued() <-chan struct{} { return s.queued }

// queuing runs fn, which may queue parcels, in a transaction, and wakes
// Deliver's loop once it has committed (not before: Deliver would not see
// them yet, and nothing would wake it again).
func (s *Service) queuing(ctx context.Context, fn func(tx *store.Tx) error) error {
	err := s.db.InTx(ctx, fn)
	if err == nil {
		select {
		case s.queued <- struct{}{}:
		default:
		}
	}
	return err
}

// deliverBatch bounds what one Deliver hands over.
const deliverBatch = 200

// Deliver hands the outbox's waiting parcels to the courier, in order,
// and reports how many it handed over. A parcel the courier refuses
// stays, and holds back the later parcels to the same node (their order
// holds) but not those to others (one mission whose service is not
// registered yet stops no other); the next pass tries again.
func (s *Service) Deliver(ctx context.Context) (int, error) {
	if s.opts.Courier == nil {
		return 0, nil
	}
	items, err := waiting(ctx, s.db, deliverBatch)
	if err != nil {
		return 0, err
	}
	n, held, first := 0, map[string]bool{}, error(nil)
	for _, it := range items {
		if held[it.To] {
			continue
		}
		id, err := s.opts.Courier.Send(ctx, Parcel{From: it.From, To: it.To, Payload: it.Payload})
		if err != nil {
			held[it.To] = true
			if first == nil {
				first = fmt.Errorf("insight: hand parcel %d for %s to the exchange: %w", it.ID, it.To, err)
			}
			continue
		}
		if err := markSent(ctx, s.db, it.ID, id, s.now()); err != nil {
			return n, err
		}
		n++
	}
	return n, first
}

// refused says why an arrival is refused.
func refused(format string, args ...any) error {
	return fmt.Errorf("%w: the insight parcel is refused: %s", errs.ErrInvalid, fmt.Sprintf(format, args...))
}

// Receive takes in a parcel the exchange delivered: a task or a round
// from headquarters, a task update or a submission from a mission, a
// decision on a submission back to its mission. Anything forged (a From
// other than the member that sent it, a unit acting for another) or
// malformed is refused with an error wrapping errs.ErrInvalid, recorded
// in the audit ledger, and nothing of it is stored; one delivered again
// changes nothing. Other errors are passing: the caller offers it again.
func (s *Service) Receive(ctx context.Context, a Arrival) error {
	o, err := s.rec.AnyOrigin(ctx)
	if err != nil {
		return err
	}
	root, err := s.root(ctx)
	if err != nil {
		return err
	}
	apply, err := s.receive(ctx, o, root.Code, a)
	if err == nil {
		err = s.db.InTx(ctx, apply)
	}
	if errors.Is(err, errs.ErrInvalid) {
		e := o.Event("insight.parcel.refuse")
		e.ResourceType, e.ResourceID = "exchange_message", a.MessageID
		e.Attrs = map[string]string{"sender": a.Sender, "reason": clip(err.Error())}
		if rerr := s.db.InTx(ctx, func(tx *store.Tx) error { return s.rec.Record(ctx, tx, e) }); rerr != nil {
			return fmt.Errorf("insight: record the refusal of message %s: %w (refused: %v)", a.MessageID, rerr, err)
		}
	}
	return err
}

// ReceiveAll takes in arrivals, in order, in one transaction: a page of
// an inbox costs one commit, not one per parcel, so a report round's
// ninety-odd submissions are counted together. It stores all of them or
// none: on any error (one arrival refused, or a passing failure) nothing
// is stored, nothing is recorded, and the caller takes the page in one
// at a time with Receive, which records each refusal and keeps the
// order. Like Receive, an arrival delivered again changes nothing (each
// item is known by its uid), so a page taken in but not acknowledged
// before a crash, or taken by two replicas at once, is stored once.
func (s *Service) ReceiveAll(ctx context.Context, arrivals []Arrival) error {
	o, err := s.rec.AnyOrigin(ctx)
	if err != nil {
		return err
	}
	// The ministry is looked up once for the page, not per parcel: it
	// lists the directory's units, ninety-odd missions among them.
	root, err := s.root(ctx)
	if err != nil {
		return err
	}
	applies := make([]func(*store.Tx) error, len(arrivals))
	for i, a := range arrivals {
		if applies[i], err = s.receive(ctx, o, root.Code, a); err != nil {
			return fmt.Errorf("insight: message %s: %w", a.MessageID, err)
		}
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		for i, apply := range applies {
			if err := apply(tx); err != nil {
				return fmt.Errorf("insight: message %s: %w", arrivals[i].MessageID, err)
			}
		}
		return nil
	})
}

// receive checks a and resolves the units it names (reads outside any
// transaction), and returns what stores it inside one: reads of
// insight's own tables happen there, so that an arrival taken in the
// same transaction after another (a submission after its round) sees it.
// rootCode is the ministry's code: what headquarters sends as.
func (s *Service) receive(ctx context.Context, o audit.Origin, rootCode string, a Arrival) (func(*store.Tx) error, error) {
	if len(a.Payload) > MaxParcel {
		return nil, refused("it is larger than %d bytes", MaxParcel)
	}
	var p parcel
	if err := json.Unmarshal(a.Payload, &p); err != nil {
		return nil, refused("it is not insight's JSON: %v", err)
	}
	if p.From != a.Sender {
		return nil, refused("it says it is from %s, but the exchange member that sent it is %s", clip(p.From), clip(a.Sender))
	}
	fromHQ := p.From == rootCode
	switch {
	case p.Type == "task" && p.Task != nil && fromHQ:
		return s.receiveTask(ctx, o, *p.Task)
	case p.Type == "update" && p.Update != nil && p.Update.Unit == p.From:
		return s.receiveUpdate(ctx, o, *p.Update)
	case p.Type == "round" && p.Round != nil && fromHQ:
		return s.receiveRound(ctx, o, *p.Round)
	case p.Type == "submission" && p.Submission != nil && p.Submission.Unit == p.From:
		return s.receiveFiling(ctx, o, *p.Submission, false)
	case p.Type == "decision" && p.Submission != nil && fromHQ:
		return s.receiveFiling(ctx, o, *p.Submission, true)
	}
	return nil, refused("a %q parcel from %s is not one insight takes", clip(p.Type), clip(p.From))
}

// unitByCode resolves a unit's code, refusing one this node does not
// know.
func (s *Service) unitByCode(ctx context.Context, code string) (int64, error) {
	u, err := s.opts.Directory.UnitByCode(ctx, code)
	if errors.Is(err, errs.ErrNotFound) {
		return 0, refused("no unit here has the code %s", clip(code))
	}
	return u.ID, err
}

// hqUnit resolves the code of a unit headquarters names in a task or a
// round: a mission's node knows only the ministry and itself (its
// directory is not headquarters'), so a unit it does not know (a
// department at headquarters leading a task, or collecting a round)
// stands here as the ministry, where it works.
func (s *Service) hqUnit(ctx context.Context, code string) (int64, error) {
	id, err := s.unitByCode(ctx, code)
	if !errors.Is(err, errs.ErrInvalid) {
		return id, err
	}
	root, err := s.root(ctx)
	return root.ID, err
}

// hqUnits resolves the codes of the units headquarters names in a task
// or a round, leaving out those this node does not know: they work on
// other nodes, and nothing of theirs comes here.
func (s *Service) hqUnits(ctx context.Context, codes []string) ([]int64, error) {
	var out []int64
	for _, c := range codes {
		id, err := s.unitByCode(ctx, c)
		switch {
		case err == nil:
			out = append(out, id)
		case !errors.Is(err, errs.ErrInvalid):
			return nil, err
		}
	}
	return out, nil
}

// ParcelLevel is the classification a parcel travels at: its task's, for
// a task; reports and updates on a task are labelled by the task the
// receiving node holds, so they travel unclassified.
func ParcelLevel(payload []byte) authz.Level {
	var p struct {
		Task *struct{ Level authz.Level }
	}
	if json.Unmarshal(payload, &p) != nil || p.Task == nil || !p.Task.Level.Valid() {
		return authz.Unclassified
	}
	return p.Task.Level
}

func (s *Service) receiveTask(ctx context.Context, o audit.Origin, w wireTask) (func(*store.Tx) error, error) {
	t := Task{UID: w.UID, Title: w.Title, Body: w.Body, Source: w.Source, SourceRef: w.SourceRef, Level: w.Level, AssignedBy: w.AssignedBy,
		Status: TaskOpen, Version: 1, Due: w.Due.UTC(), CreatedAt: w.CreatedAt.UTC(), UpdatedAt: s.now()}
	if err := checkLine("title", t.Title, MaxLine, true, false); err != nil || !t.Level.Valid() || t.UID == "" {
		return nil, refused("the task is malformed")
	}
	switch {
	case w.Status == "" || w.Status == TaskOpen && w.Progress == 0:
	case w.Status == TaskInProgress && w.Progress >= 0 && w.Progress <= 100:
		t.Status, t.Progress = w.Status, w.Progress
	default:
		return nil, refused("a task travels open or in progress, not %s at %d %%", clip(string(w.Status)), w.Progress)
	}
	var ups []TaskUpdate
	for _, wu := range w.Updates {
		u := TaskUpdate{UID: wu.UID, Kind: wu.Kind, Author: wu.Author, Progress: wu.Progress, Note: wu.Note, Evidence: wu.Evidence, At: wu.At.UTC()}
		if u.Kind != UpdateProgress || u.Progress < 0 || u.Progress > 100 || u.UID == "" {
			return nil, refused("the task's progress report is malformed")
		}
		var err error
		if u.Unit, err = s.hqUnit(ctx, wu.Unit); err != nil {
			return nil, err
		}
		ups = append(ups, u)
	}
	var err error
	if t.LeadUnit, err = s.hqUnit(ctx, w.Lead); err != nil {
		return nil, err
	}
	if t.Supporting, err = s.hqUnits(ctx, w.Supporting); err != nil {
		return nil, err
	}
	return func(tx *store.Tx) error {
		if _, err := taskByUID(ctx, tx, t.UID); err == nil {
			return nil // delivered again
		} else if !errors.Is(err, errs.ErrNotFound) {
			return err
		}
		id, err := insertTask(ctx, tx, t)
		if err != nil {
			return err
		}
		for _, u := range ups {
			if seen, err := updateSeen(ctx, tx, u.UID); err != nil || seen {
				if err != nil {
					return err
				}
				continue
			}
			if err := insertUpdate(ctx, tx, id, u); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, o, "task.receive", "task", id, t.Level, map[string]string{"uid": t.UID, "title": audit.AttrValue(t.Title),
			"status": string(t.Status), "progress": fmt.Sprint(t.Progress)})
	}, nil
}

func (s *Service) receiveUpdate(ctx context.Context, o audit.Origin, w wireUpdate) (func(*store.Tx) error, error) {
	unit, err := s.unitByCode(ctx, w.Unit)
	if err != nil {
		return nil, err
	}
	u := TaskUpdate{UID: w.UID, Unit: unit, Kind: w.Kind, Author: w.Author, Progress: w.Progress, Note: w.Note, Evidence: w.Evidence,
		FileName: w.FileName, fileData: w.FileData, At: w.At.UTC()}
	if u.Kind != UpdateProgress && u.Kind != UpdateComplete || u.Progress < 0 || u.Progress > 100 || len(u.fileData) > MaxFile || u.UID == "" {
		return nil, refused("the update is malformed")
	}
	return func(tx *store.Tx) error {
		if seen, err := updateSeen(ctx, tx, u.UID); err != nil || seen {
			return err // delivered again
		}
		t, err := taskByUID(ctx, tx, w.TaskUID)
		if errors.Is(err, errs.ErrNotFound) {
			return refused("there is no task %s here", clip(w.TaskUID))
		} else if err != nil {
			return err
		}
		if unit != t.LeadUnit && !slices.Contains(t.Supporting, unit) {
			return refused("%s reports on a task that is not its own", clip(w.Unit))
		}
		if t.Status == TaskDone {
			return nil // done meanwhile: the update changes nothing
		}
		if u.Kind == UpdateComplete && unit != t.LeadUnit {
			return refused("only the lead unit completes a task")
		}
		return s.applyUpdate(ctx, tx, o, &t, u)
	}, nil
}
