package insight

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestTaskLifecycleFromAssignmentToLateCompletion pins a task's way: a
// leader assigns it with a deadline in working days (Tết not counted),
// the lead unit reports progress, the deadline passes and the task is
// escalated once (a notice to the leader and the unit), the lead unit
// completes it with evidence; the leaders' table counts it done late.
// Each change is one ledger event.
func TestTaskLifecycleFromAssignmentToLateCompletion(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		// 2026-02-13 (Friday) the day before Tết holidays: five working
		// days later is not the 20th but after the holidays.
		f.clock.t = time.Date(2026, 2, 13, 2, 0, 0, 0, time.UTC)
		task, err := f.svc.Assign(as(f.leader), f.leader, NewTask{Title: "Rà soát quy trình cấp hộ chiếu", Source: FromMeeting,
			SourceRef: "Giao ban Bộ 12/02/2026", LeadUnit: f.units[consularCode], Supporting: []int64{f.units[parisCode]}, WorkingDays: 5})
		if err != nil {
			t.Fatal(err)
		}
		if due := task.Due.In(f.svc.loc).Format("2006-01-02"); due <= "2026-02-23" {
			t.Fatalf("five working days from 13/02/2026 end %s: Tết's holidays must not count", due)
		}
		if task.Status != TaskOpen || task.Version != 1 || task.AssignedBy == "" {
			t.Fatalf("assigned: %+v", task)
		}
		// The supporting unit reports progress; it cannot complete.
		if _, err := f.svc.Report(as(f.parisOff), f.parisOff, task.ID, Report{Complete: true, Note: "xong", Version: 1}); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("a supporting unit completes: %v", err)
		}
		task, err = f.svc.Report(as(f.parisOff), f.parisOff, task.ID, Report{Progress: 30, Note: "Đã gửi số liệu", Version: 1})
		if err != nil || task.Status != TaskInProgress || task.Progress != 0 {
			t.Fatalf("supporting progress: %+v, %v (the lead unit's progress is the task's)", task, err)
		}
		task, err = f.svc.Report(as(f.officer), f.officer, task.ID, Report{Progress: 60, Note: "Đã dự thảo", Version: task.Version})
		if err != nil || task.Progress != 60 {
			t.Fatalf("lead progress: %+v, %v", task, err)
		}
		if _, err := f.svc.Report(as(f.officer), f.officer, task.ID, Report{Progress: 70, Note: "cũ", Version: 1}); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("a stale report: %v", err)
		}
		// Before the deadline nothing escalates; after it, once.
		if n, err := f.svc.Escalate(system); err != nil || n != 0 {
			t.Fatalf("escalated %d before the deadline: %v", n, err)
		}
		f.clock.t = task.Due.Add(time.Minute)
		for i, want := range []int{1, 0} {
			if n, err := f.svc.Escalate(system); err != nil || n != want {
				t.Fatalf("escalation pass %d escalated %d, want %d: %v", i, n, want, err)
			}
		}
		if len(f.notices.got) != 1 || f.notices.got[0].LeaderID != f.leader.ID || f.notices.got[0].Unit != f.units[consularCode] {
			t.Fatalf("notices: %+v", f.notices.got)
		}
		overdue, err := f.svc.Tasks(as(f.leader), f.leader, TaskFilter{Overdue: true})
		if err != nil || len(overdue) != 1 || overdue[0].EscalatedAt.IsZero() {
			t.Fatalf("overdue tasks: %+v, %v", overdue, err)
		}
		task, _ = f.svc.Task(as(f.officer), f.officer, task.ID)
		if _, err := f.svc.Report(as(f.officer), f.officer, task.ID, Report{Complete: true, Version: task.Version}); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("complete without evidence: %v", err)
		}
		task, err = f.svc.Report(as(f.officer), f.officer, task.ID, Report{Complete: true, Evidence: "123/LS-HC", FileName: "ket-qua.pdf",
			FileData: []byte("%PDF-1.4"), Version: task.Version})
		if err != nil || task.Status != TaskDone || !task.Late() {
			t.Fatalf("completed: %+v, %v", task, err)
		}
		full, err := f.svc.Task(as(f.leader), f.leader, task.ID)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []UpdateKind
		for _, u := range full.Updates {
			kinds = append(kinds, u.Kind)
		}
		if want := []UpdateKind{UpdateProgress, UpdateProgress, UpdateEscalate, UpdateComplete}; !slices.Equal(kinds, want) {
			t.Fatalf("history %v, want %v", kinds, want)
		}
		if name, data, err := f.svc.TaskFile(as(f.leader), f.leader, task.ID, full.Updates[3].ID); err != nil || name != "ket-qua.pdf" || string(data) != "%PDF-1.4" {
			t.Fatalf("evidence file: %q %q %v", name, data, err)
		}
		tally, err := f.svc.Tally(as(f.leader), f.leader)
		if err != nil || len(tally) != 1 || tally[0].DoneLate != 1 || tally[0].Unit.Code != consularCode {
			t.Fatalf("tally: %+v, %v", tally, err)
		}
		want := []string{"task.assign", "task.progress", "task.progress", "task.escalate", "task.complete"}
		if got := f.ledgerActions(t, "task."); !slices.Equal(got, want) {
			t.Fatalf("ledger %v, want %v", got, want)
		}
	})
}

// TestTaskRefusals pins who may do what: only leaders assign (403 to a
// unit's head, who knows tasks exist); another unit's task is hidden
// (404), from its page, its reports and the list; a task from a document
// the leader may not read is refused as if the document did not exist.
func TestTaskRefusals(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		n := NewTask{Title: "Báo cáo tình hình", LeadUnit: f.units[consularCode], WorkingDays: 3}
		if _, err := f.svc.Assign(as(f.head), f.head, n); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("a head of unit assigns: %v, want forbidden", err)
		}
		var ref *authz.Refusal
		if _, err := f.svc.Assign(as(f.tokyoOff), f.tokyoOff, n); !errors.As(err, &ref) {
			t.Fatalf("an officer assigns: %v, want a refusal the web layer records", err)
		}
		task, err := f.svc.Assign(as(f.leader), f.leader, n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Task(as(f.tokyoOff), f.tokyoOff, task.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("another unit's task: %v, want not found", err)
		}
		if _, err := f.svc.Report(as(f.tokyoOff), f.tokyoOff, task.ID, Report{Note: "x", Version: 1}); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("report on another unit's task: %v, want not found", err)
		}
		if list, err := f.svc.Tasks(as(f.tokyoOff), f.tokyoOff, TaskFilter{Unit: f.units[consularCode]}); err != nil || len(list) != 0 {
			t.Fatalf("Tokyo lists the Consular Department's tasks: %+v, %v", list, err)
		}
		if list, err := f.svc.Tasks(as(f.officer), f.officer, TaskFilter{}); err != nil || len(list) != 1 {
			t.Fatalf("the lead unit's list: %+v, %v", list, err)
		}
		// A secret task is hidden from a lead unit's officer without the
		// clearance.
		secret, err := f.svc.Assign(as(f.leaderCleared()), f.leaderCleared(), NewTask{Title: "Mật", Level: authz.Secret, LeadUnit: f.units[consularCode], WorkingDays: 3})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Task(as(f.officer), f.officer, secret.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("a secret task to an uncleared officer: %v", err)
		}
		f.svc.opts.Documents = docs{}
		for _, id := range []int64{7, 8} {
			_, err := f.svc.Assign(as(f.leader), f.leader, NewTask{Title: "Theo văn bản", Source: FromDocument, DocumentID: id, LeadUnit: f.units[consularCode], WorkingDays: 2})
			if id == 7 && err != nil {
				t.Fatal(err)
			}
			if id == 8 && (!errors.Is(err, errs.ErrInvalid) || strings.Contains(err.Error(), "Bí mật")) {
				t.Fatalf("a document the leader may not read: %v", err)
			}
		}
	})
}

func (f *fixture) leaderCleared() authz.Subject {
	s := f.leader
	s.Clearance = authz.Secret
	return s
}

// docs is Records as tasks see it: document 7 readable, 8 hidden.
type docs struct{}

func (docs) DocumentRef(_ context.Context, _ authz.Subject, id int64) (DocumentRef, error) {
	if id == 7 {
		return DocumentRef{Number: "15/QĐ-BNG", Subject: "Quyết định"}, nil
	}
	return DocumentRef{}, errs.ErrNotFound
}

// TestHostileTaskInputIsRefused pins the text checks: NUL, a CR LF in a
// title, a bidirectional override, an oversized file.
func TestHostileTaskInputIsRefused(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for _, title := range []string{"a\x00b", "a\r\nb", "abc\u202ecba", strings.Repeat("x", MaxLine+1), " "} {
			if _, err := f.svc.Assign(as(f.leader), f.leader, NewTask{Title: title, LeadUnit: f.units[consularCode], WorkingDays: 1}); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("title %q: %v", title, err)
			}
		}
		task, err := f.svc.Assign(as(f.leader), f.leader, NewTask{Title: "ok", LeadUnit: f.units[consularCode], WorkingDays: 1})
		if err != nil {
			t.Fatal(err)
		}
		big := make([]byte, MaxFile+1)
		if _, err := f.svc.Report(as(f.officer), f.officer, task.ID, Report{Note: "x", FileName: "a.pdf", FileData: big, Version: 1}); !errors.Is(err, errs.ErrTooLarge) {
			t.Fatalf("an oversized file: %v", err)
		}
		if _, err := f.svc.Report(as(f.officer), f.officer, task.ID, Report{Note: "x", FileName: "../a.pdf", FileData: []byte("x"), Version: 1}); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("a path for a file name: %v", err)
		}
	})
}

// TestMissionUpdateMadeOfflineArrivesOnceAfterTheLinkIsBack pins the
// mission's offline work: the task reaches Paris; Paris reports while
// its link is cut; headquarters sees nothing until the link is back,
// then the update once, even if the exchange delivers it again.
func TestMissionUpdateMadeOfflineArrivesOnceAfterTheLinkIsBack(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := newTwoNodes(t, db)
		hq, paris := n.hq, n.paris
		task, err := hq.svc.Assign(as(hq.leader), hq.leader, NewTask{Title: "Bảo hộ công dân", LeadUnit: hq.units[parisCode],
			Supporting: []int64{hq.units[consularCode]}, WorkingDays: 5})
		if err != nil {
			t.Fatal(err)
		}
		n.settle(t)
		list, err := paris.svc.Tasks(as(paris.parisOff), paris.parisOff, TaskFilter{})
		if err != nil || len(list) != 1 || list[0].UID != task.UID || list[0].LeadUnit != paris.units[parisCode] {
			t.Fatalf("Paris's tasks: %+v, %v", list, err)
		}
		n.link.up = false
		if _, err := paris.svc.Report(as(paris.parisOff), paris.parisOff, list[0].ID, Report{Complete: true, Note: "Đã hoàn thành", Version: 1}); err != nil {
			t.Fatal(err)
		}
		n.settle(t)
		if got, _ := hq.svc.Task(as(hq.leader), hq.leader, task.ID); got.Status != TaskOpen {
			t.Fatalf("headquarters sees %s across a cut link", got.Status)
		}
		n.link.mu.Lock()
		held := slices.Clone(n.link.queue)
		n.link.up = true
		n.link.mu.Unlock()
		n.settle(t)
		if err := hq.svc.Receive(system, Arrival{Sender: held[0].From, MessageID: "again", Payload: held[0].Payload}); err != nil {
			t.Fatal(err)
		}
		got, err := hq.svc.Task(as(hq.leader), hq.leader, task.ID)
		if err != nil || got.Status != TaskDone || len(got.Updates) != 1 || got.Updates[0].Note != "Đã hoàn thành" {
			t.Fatalf("after the link is back: %+v, %v", got, err)
		}
		// A forged update: Tokyo's code on a parcel Paris sent.
		forged := strings.Replace(string(held[0].Payload), parisCode, tokyoCode, -1)
		if err := hq.svc.Receive(system, Arrival{Sender: parisCode, MessageID: "forged", Payload: []byte(forged)}); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("a forged parcel: %v", err)
		}
		if got := hq.ledgerActions(t, "insight.parcel.refuse"); len(got) != 1 {
			t.Fatalf("the refusal is not in the ledger: %v", got)
		}
	})
}
