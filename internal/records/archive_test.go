package records

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// stored returns a document's stored content row.
func (f *fixture) stored(t testing.TB, id int64) sealedContent {
	t.Helper()
	c, ok, err := loadContent(context.Background(), f.db, id)
	if err != nil || !ok {
		t.Fatalf("loadContent(%d) = %v, %v", id, ok, err)
	}
	return c
}

// TestContentSealedUnderItsOwnKeyPerLevel pins the envelope: the stored
// bytes are ciphertext, each document's data key is its own, wrapped
// under its level's purpose (a hybrid ML-KEM-768 + X25519 seal for top
// secret), and the content opens back for a reader, who is recorded in
// the ledger with the level.
func TestContentSealedUnderItsOwnKeyPerLevel(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		plain := []byte("%PDF-1.4 nội dung công điện tuyệt mật")
		for _, tc := range []struct {
			level   authz.Level
			purpose string
			hybrid  bool
		}{
			{authz.Unclassified, PurposeUnclassified, false},
			{authz.Confidential, PurposeConfidential, false},
			{authz.Secret, PurposeSecret, false},
			{authz.TopSecret, PurposeTopSecret, true},
		} {
			d := f.incoming(t, "Công điện", tc.level, &Content{Filename: "cd.pdf", MediaType: "application/pdf", Data: plain})
			c := f.stored(t, d.ID)
			if bytes.Contains(c.sealed, plain[:12]) {
				t.Errorf("%s: the stored content holds the plaintext", tc.level)
			}
			if c.purpose != tc.purpose {
				t.Errorf("%s: data key wrapped under %q, want %q", tc.level, c.purpose, tc.purpose)
			}
			if tc.hybrid != (len(c.wrapped) == keys.HybridOverhead+32) {
				t.Errorf("%s: wrapped key is %d bytes; hybrid wrap expected: %v", tc.level, len(c.wrapped), tc.hybrid)
			}
			info, got, err := f.svc.ContentOf(f.as(f.officer), f.officer, d.ID)
			if err != nil || !bytes.Equal(got, plain) || info.Filename != "cd.pdf" {
				t.Fatalf("%s: ContentOf = %q, %v", tc.level, got, err)
			}
			if es := f.events(t, "document.download", d.ID); len(es) != 1 || es[0].Level != tc.level {
				t.Errorf("%s: download events = %+v; want one at the document's level", tc.level, es)
			}
			// Moved to another document, the sealed content does not open.
			other := f.incoming(t, "Khác", tc.level, &Content{Filename: "x.pdf", MediaType: "application/pdf", Data: []byte("x")})
			if _, err := openContent(context.Background(), f.ring, other.ID, &c); !errors.Is(err, keys.ErrCorrupt) {
				t.Errorf("%s: another document's id opens this content: %v", tc.level, err)
			}
		}
	})
}

// TestReclassification pins the classification record: extension, a
// change of level (re-wrapping the data key, refused above the caller's
// clearance), and a top-secret declassification needing a second person;
// each step in the history.
func TestReclassification(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		plain := []byte("nội dung")
		d := f.incoming(t, "Công điện", authz.Secret, &Content{Filename: "cd.pdf", MediaType: "application/pdf", Data: plain})
		v, err := f.svc.Get(f.as(f.leader), f.leader, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := f.clock.now().AddDate(20, 0, 0); !v.ClassificationRecord.ProtectUntil.Equal(want) {
			t.Errorf("a secret document is protected until %s, want %s (20 years)", v.ClassificationRecord.ProtectUntil, want)
		}
		if err := f.svc.Extend(f.as(f.leader), f.leader, d.ID, f.clock.now().AddDate(10, 0, 0), "gia hạn"); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("extending to an earlier day: %v, want ErrInvalid", err)
		}
		if err := f.svc.Extend(f.as(f.leader), f.leader, d.ID, f.clock.now().AddDate(25, 0, 0), "Quyết định gia hạn"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ChangeLevel(f.as(f.officer), f.officer, d.ID, authz.TopSecret, "x"); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("an officer changing a level: %v, want ErrForbidden", err)
		}
		if err := f.svc.ChangeLevel(f.as(f.leader), f.leader, d.ID, authz.TopSecret, "Quyết định nâng độ mật"); err != nil {
			t.Fatal(err)
		}
		if c := f.stored(t, d.ID); c.purpose != PurposeTopSecret {
			t.Errorf("after raising to top secret the data key is under %q", c.purpose)
		}
		// Two people for a top-secret declassification.
		done, err := f.svc.Declassify(f.as(f.leader), f.leader, d.ID, "Quyết định giải mật")
		if err != nil || done {
			t.Fatalf("first Declassify = %v, %v; want a proposal", done, err)
		}
		if _, err := f.svc.Declassify(f.as(f.leader), f.leader, d.ID, "again"); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("the proposer confirming: %v, want ErrConflict", err)
		}
		if done, err := f.svc.Declassify(f.as(f.security), f.security, d.ID, "Quyết định giải mật"); err != nil || !done {
			t.Fatalf("second Declassify = %v, %v", done, err)
		}
		v, err = f.svc.Get(f.as(f.officer), f.officer, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []ClassificationKind
		for _, e := range v.ClassificationRecord.History {
			kinds = append(kinds, e.Kind)
		}
		if len(kinds) != 4 || kinds[0] != Classified || kinds[1] != Extended || kinds[2] != LevelChanged || kinds[3] != Declassified {
			t.Fatalf("history = %v", kinds)
		}
		last := v.ClassificationRecord.History[3]
		if last.ActorID != f.leader.ID || last.SecondID != f.security.ID || v.Classification != authz.Unclassified {
			t.Errorf("declassification = %+v, level %s", last, v.Classification)
		}
		if _, got, err := f.svc.ContentOf(f.as(f.lowOfficer), f.lowOfficer, d.ID); err != nil || !bytes.Equal(got, plain) {
			t.Errorf("declassified content for an uncleared officer: %q, %v", got, err)
		}
		if es := f.events(t, "document.declassify", d.ID); len(es) != 1 || es[0].Level != authz.TopSecret {
			t.Errorf("declassify events = %+v; want one at the level it had", es)
		}
	})
}

// TestDestroyShredsTheDataKey pins crypto-shredding: a top-secret item
// needs two archivists' decisions; after it the content never opens, the
// record stays, and the ledger holds the fact.
func TestDestroyShredsTheDataKey(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		archivist2 := f.archivist
		archivist2.ID = f.leader2.ID // a second person holding the role
		archivist2.Roles = authz.RolesOf(authz.Archivist)
		d := f.incoming(t, "Công điện", authz.TopSecret, &Content{Filename: "cd.pdf", MediaType: "application/pdf", Data: []byte("x")})
		if _, err := f.svc.Destroy(f.as(f.officer), f.officer, d.ID, "QĐ 1"); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("an officer destroying: %v, want ErrForbidden", err)
		}
		if done, err := f.svc.Destroy(f.as(f.archivist), f.archivist, d.ID, "Quyết định hủy 15/QĐ-BNG"); err != nil || done {
			t.Fatalf("first Destroy = %v, %v; want a proposal", done, err)
		}
		if _, _, err := f.svc.ContentOf(f.as(f.officer), f.officer, d.ID); err != nil {
			t.Errorf("content before the second person: %v", err)
		}
		if done, err := f.svc.Destroy(f.as(archivist2), archivist2, d.ID, "Quyết định hủy 15/QĐ-BNG"); err != nil || !done {
			t.Fatalf("second Destroy = %v, %v", done, err)
		}
		if c := f.stored(t, d.ID); c.wrapped != nil || c.Shredded.IsZero() {
			t.Errorf("after destruction the wrapped key is %x, shredded at %s", c.wrapped, c.Shredded)
		}
		if _, _, err := f.svc.ContentOf(f.as(f.officer), f.officer, d.ID); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("content after destruction: %v, want ErrConflict", err)
		}
		if _, err := f.svc.Get(f.as(f.officer), f.officer, d.ID); err != nil {
			t.Errorf("the record after destruction: %v", err)
		}
		if es := f.events(t, "document.destroy", d.ID); len(es) != 1 || es[0].Level != authz.TopSecret || es[0].Attrs["proposed_by"] != itoa(f.archivist.ID) {
			t.Errorf("destroy events = %+v", es)
		}
	})
}

// TestGrantGivesNeedToKnowUntilExpiry pins explicit grants: the grantee
// of another unit reads the document until the grant expires; the grant
// needs a reason, an expiry within MaxGrant and the right to grant.
func TestGrantGivesNeedToKnowUntilExpiry(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d := f.incoming(t, "Công điện", authz.Secret, nil)
		ctx := f.as(f.leader)
		if _, err := f.svc.Get(f.as(f.office), f.office, d.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("before the grant: %v", err)
		}
		for name, ng := range map[string]NewGrant{
			"no reason":         {StaffID: f.office.ID, ExpiresAt: f.clock.now().Add(time.Hour)},
			"expired":           {StaffID: f.office.ID, Reason: "x", ExpiresAt: f.clock.now().Add(-time.Hour)},
			"too long":          {StaffID: f.office.ID, Reason: "x", ExpiresAt: f.clock.now().Add(MaxGrant + time.Hour)},
			"unknown staff":     {StaffID: 987654, Reason: "x", ExpiresAt: f.clock.now().Add(time.Hour)},
			"reason with CR LF": {StaffID: f.office.ID, Reason: "a\r\nb", ExpiresAt: f.clock.now().Add(time.Hour)},
		} {
			if _, err := f.svc.Grant(ctx, f.leader, d.ID, ng); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", name, err)
			}
		}
		if _, err := f.svc.Grant(f.as(f.officer), f.officer, d.ID, NewGrant{StaffID: f.office.ID, Reason: "x", ExpiresAt: f.clock.now().Add(time.Hour)}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("an officer granting: %v, want ErrForbidden", err)
		}
		if _, err := f.svc.Grant(ctx, f.leader, d.ID, NewGrant{StaffID: f.office.ID, Reason: "Phối hợp xử lý", ExpiresAt: f.clock.now().Add(24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Get(f.as(f.office), f.office, d.ID); err != nil {
			t.Errorf("the grantee: %v", err)
		}
		f.clock.advance(25 * time.Hour)
		if _, err := f.svc.Get(f.as(f.office), f.office, d.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("after expiry: %v, want not found", err)
		}
	})
}

// TestCaseFilesHoldDocumentsWithoutCopies pins filing: one document in
// two case files is one document; another unit's case file is missing to
// the caller; a closed case file takes nothing more.
func TestCaseFilesHoldDocumentsWithoutCopies(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.as(f.officer)
		d := f.draft(t, "bao_cao", authz.Unclassified)
		a, err := f.svc.CreateCaseFile(ctx, f.officer, NewCaseFile{Year: 2026, Code: "LS.01", Title: "Hồ sơ lãnh sự", RetentionYears: 10})
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.svc.CreateCaseFile(ctx, f.officer, NewCaseFile{Year: 2026, Code: "LS.02", Title: "Hồ sơ báo cáo", RetentionYears: Permanent})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateCaseFile(ctx, f.officer, NewCaseFile{Year: 2026, Code: "LS.01", Title: "again"}); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("a second LS.01: %v, want ErrConflict", err)
		}
		for _, cf := range []*CaseFile{a, b, a} {
			if err := f.svc.File(ctx, f.officer, cf.ID, d.ID); err != nil {
				t.Fatal(err)
			}
		}
		for _, cf := range []*CaseFile{a, b} {
			got, err := f.svc.CaseFile(ctx, f.officer, cf.ID)
			if err != nil || len(got.Documents) != 1 || got.Documents[0] != d.ID {
				t.Errorf("case file %s = %+v, %v", cf.Code, got, err)
			}
		}
		var docs int
		if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM record_documents`).Scan(&docs); err != nil || docs != 1 {
			t.Errorf("%d documents after filing into two case files (%v), want 1", docs, err)
		}
		officeDoc, err := f.svc.StartDraft(f.as(f.office), f.office, NewDraft{Type: "bao_cao", Subject: "Báo cáo của Văn phòng"})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.File(f.as(f.office), f.office, a.ID, officeDoc.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("filing into another unit's case file: %v, want not found", err)
		}
		if err := f.svc.CloseCaseFile(ctx, f.officer, a.ID); err != nil {
			t.Fatal(err)
		}
		d2 := f.draft(t, "bao_cao", authz.Unclassified)
		if err := f.svc.File(ctx, f.officer, a.ID, d2.ID); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("filing into a closed case file: %v, want ErrConflict", err)
		}
	})
}

// TestInstructionSharesAndReceipts pins the leader's instruction: it puts
// the incoming document in progress with its deadline, the assigned unit
// may then read it, and each first reading is a read receipt.
func TestInstructionSharesAndReceipts(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d := f.incoming(t, "Công điện về đoàn ra", authz.Confidential, nil)
		if _, err := f.svc.Get(f.as(f.office), f.office, d.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("the Office before the instruction: %v", err)
		}
		deadline := f.clock.now().Add(72 * time.Hour)
		in := Instruction{Text: "Giao Văn phòng chủ trì,\nLãnh sự phối hợp", Lead: AssignTo{UnitID: f.office.Unit}, Support: []AssignTo{{UnitID: f.clerk.Unit, StaffID: f.officer.ID}},
			Deadline: deadline}
		if _, err := f.svc.Assign(f.as(f.clerk), f.clerk, d.ID, in); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("a clerk instructing: %v, want ErrForbidden", err)
		}
		got, err := f.svc.Assign(f.as(f.leader), f.leader, d.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != StatusInProgress || !got.DueAt.Equal(deadline) {
			t.Errorf("after the instruction: %s due %s", got.Status, got.DueAt)
		}
		if r, err := loadDocument(context.Background(), db, d.ID, f.clock.now(), false); err != nil || !r.DueAt.Equal(deadline) {
			t.Errorf("stored due date: %v, %v; want %s", r.DueAt, err, deadline)
		}
		if _, err := f.svc.Get(f.as(f.office), f.office, d.ID); err != nil {
			t.Errorf("the lead unit: %v", err)
		}
		f.clock.advance(time.Minute)
		v, err := f.svc.Get(f.as(f.office), f.office, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Receipts) != 1 || v.Receipts[0].StaffID != f.office.ID || len(v.Assignments) != 2 || v.Assignments[0].Role != "lead" {
			t.Errorf("receipts %+v, assignments %+v", v.Receipts, v.Assignments)
		}
		if es := f.events(t, "document.read", d.ID); len(es) != 2 || es[0].Level != authz.Confidential {
			t.Errorf("read events = %d, want 2 at confidential", len(es))
		}
		overdue := func() []int64 { return ids(f.search(t, f.office, Query{Overdue: true})) }
		if got := overdue(); len(got) != 0 {
			t.Errorf("overdue before the deadline: %v", got)
		}
		f.clock.advance(73 * time.Hour)
		if got := overdue(); len(got) != 1 || got[0] != d.ID {
			t.Errorf("overdue after the deadline: %v, want the document", got)
		}
		if _, err := f.svc.Complete(f.as(f.office), f.office, d.ID, "Đã xử lý"); err != nil {
			t.Fatal(err)
		}
		if got := overdue(); len(got) != 0 {
			t.Errorf("overdue once handled: %v", got)
		}
	})
}
