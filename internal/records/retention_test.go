package records

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// caseFileWith opens a case file of the Consular Department's 2026 list
// with the documents filed in it.
func (f *fixture) caseFileWith(t testing.TB, code string, years Retention, docs ...*Document) *CaseFile {
	t.Helper()
	ctx := f.as(f.officer)
	cf, err := f.svc.CreateCaseFile(ctx, f.officer, NewCaseFile{Year: 2026, Code: code, Title: "Hồ sơ " + code, RetentionYears: years})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if err := f.svc.File(ctx, f.officer, cf.ID, d.ID); err != nil {
			t.Fatal(err)
		}
	}
	return cf
}

func (f *fixture) closeCaseFiles(t testing.TB, cfs ...*CaseFile) {
	t.Helper()
	for _, cf := range cfs {
		if err := f.svc.CloseCaseFile(f.as(f.officer), f.officer, cf.ID); err != nil {
			t.Fatal(err)
		}
	}
}

func dueByCode(items []DueItem) map[string]DueItem {
	m := map[string]DueItem{}
	for _, it := range items {
		m[it.CaseFile.Code] = it
	}
	return m
}

// TestRetentionDispositionByDecision pins Law 33's disposition: the
// schedule by series sets the retention, counted from 1 January after the
// year a case file closed; a legal hold suspends disposition; nothing is
// destroyed without a leader's decision (two leaders when a top-secret
// document is listed); carrying it out destroys the data keys of the
// documents filed nowhere else, writes the minutes and records each in
// the ledger at its level; another unit's disposal answers as missing.
func TestRetentionDispositionByDecision(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		arch := f.as(f.archivist)
		for _, n := range []NewSchedule{{Series: "LS.TAM", Title: "Hồ sơ tạm thời", RetentionYears: 2, Source: "Thông tư 10/2022/TT-BNV"},
			{Series: "LS.VV", Title: "Hồ sơ vĩnh viễn", RetentionYears: Permanent}} {
			if _, err := f.svc.SetSchedule(arch, f.archivist, n); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.svc.SetSchedule(arch, f.archivist, NewSchedule{Series: "LS.VV", Title: "again"}); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("a series twice: %v", err)
		}
		if _, err := f.svc.SetSchedule(f.as(f.officer), f.officer, NewSchedule{Series: "X", Title: "x", RetentionYears: 1}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("an officer setting the schedule: %v", err)
		}
		secret := f.secretText(t)
		top := f.incoming(t, "Công điện tuyệt mật", authz.TopSecret, &Content{Filename: "t.txt", MediaType: "text/plain", Data: []byte("t")})
		shared := f.incoming(t, "Thông báo chung", authz.Unclassified, &Content{Filename: "tb.pdf", MediaType: "application/pdf", Data: []byte("%PDF tb")})
		a := f.caseFileWith(t, "LS.TAM.01", 10, secret, top)
		b := f.caseFileWith(t, "LS.TAM.02", 10, shared)
		held := f.caseFileWith(t, "LS.TAM.03", 10)
		keep := f.caseFileWith(t, "LS.VV.01", 1, shared)
		open := f.caseFileWith(t, "LS.TAM.04", 10)
		f.closeCaseFiles(t, a, b, held, keep)
		_ = open

		// 2028: the two years of a 2026 case file run from 1 January 2027.
		f.clock.set(time.Date(2028, 12, 31, 12, 0, 0, 0, time.UTC))
		items, err := f.svc.Appraisal(arch, f.archivist, f.units["000.00.03.G12"])
		if err != nil {
			t.Fatal(err)
		}
		due := dueByCode(items)
		if len(items) != 4 || due["LS.TAM.01"].Retention != 2 || due["LS.TAM.01"].Due || due["LS.VV.01"].Action != "transfer" {
			t.Fatalf("appraisal in 2028 = %+v", due)
		}
		f.clock.set(time.Date(2029, 1, 2, 3, 0, 0, 0, time.UTC))
		if _, err := f.svc.PlaceHold(f.as(f.officer), f.officer, held.ID, "Thanh tra"); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("an officer placing a hold: %v", err)
		}
		hold, err := f.svc.PlaceHold(arch, f.archivist, held.ID, "Vụ việc đang thanh tra")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Appraise(arch, f.archivist, []int64{held.ID}); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("appraising a held case file: %v", err)
		}
		if _, err := f.svc.Appraise(arch, f.archivist, []int64{keep.ID}); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("appraising a permanent case file: %v", err)
		}
		d, err := f.svc.Appraise(arch, f.archivist, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.CaseFiles) != 2 || !d.TopSecret || d.Status != DisposalAppraised {
			t.Fatalf("appraisal = %+v, want LS.TAM.01 and 02, top secret", d)
		}
		if _, err := f.svc.ExecuteDisposal(arch, f.archivist, d.ID); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("carrying out before a decision: %v", err)
		}
		if c := f.stored(t, secret.ID); c.wrapped == nil {
			t.Fatal("a key was destroyed without a decision")
		}
		decided := time.Date(2029, 1, 2, 0, 0, 0, 0, time.UTC)
		if _, err := f.svc.DecideDisposal(arch, f.archivist, d.ID, "05/QĐ-LS", decided); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("an archivist deciding: %v", err)
		}
		if _, err := f.svc.DecideDisposal(f.as(f.office), f.office, d.ID, "05/QĐ-LS", decided); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("another unit's leader deciding: %v, want not found", err)
		}
		if got, err := f.svc.DecideDisposal(f.as(f.leader), f.leader, d.ID, "05/QĐ-LS", decided); err != nil || got.Status != DisposalAwaitingSecond {
			t.Fatalf("first decision = %+v, %v", got, err)
		}
		if _, err := f.svc.DecideDisposal(f.as(f.leader), f.leader, d.ID, "05/QĐ-LS", decided); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("the same leader twice: %v", err)
		}
		if _, err := f.svc.ExecuteDisposal(arch, f.archivist, d.ID); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("carrying out before the second leader: %v", err)
		}
		if got, err := f.svc.DecideDisposal(f.as(f.leader2), f.leader2, d.ID, "05/QĐ-LS", decided); err != nil || got.Status != DisposalDecided {
			t.Fatalf("second decision = %+v, %v", got, err)
		}
		done, err := f.svc.ExecuteDisposal(arch, f.archivist, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range []*Document{secret, top} {
			if c := f.stored(t, doc.ID); c.wrapped != nil || c.Shredded.IsZero() {
				t.Errorf("document %d's key survived the destruction", doc.ID)
			}
			if es := f.events(t, "document.destroy", doc.ID); len(es) != 1 || es[0].Level != doc.Classification || es[0].Attrs["decision"] != "05/QĐ-LS" {
				t.Errorf("destroy events of %d = %+v", doc.ID, es)
			}
		}
		if c := f.stored(t, shared.ID); c.wrapped == nil {
			t.Error("a document also filed in a kept case file was destroyed")
		}
		if !strings.Contains(done.Minutes, "BIÊN BẢN HỦY") || !strings.Contains(done.Minutes, "05/QĐ-LS") || !strings.Contains(done.Minutes, "LS.TAM.01") {
			t.Errorf("minutes:\n%s", done.Minutes)
		}
		pdf, err := f.svc.MinutesPDF(arch, f.archivist, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if text := strings.Join(pdfText(t, pdf), ""); !strings.Contains(text, "BIÊN BẢN HỦY TÀI LIỆU") {
			t.Errorf("the minutes' PDF reads:\n%s", text)
		}
		if err := f.svc.LiftHold(arch, f.archivist, held.ID, hold.ID, ""); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("lifting without a reason: %v", err)
		}
		if err := f.svc.LiftHold(arch, f.archivist, held.ID, hold.ID, "Thanh tra kết thúc"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Appraise(arch, f.archivist, []int64{held.ID}); err != nil {
			t.Errorf("appraising once the hold is lifted: %v", err)
		}
	})
}

// TestTransferPackage pins the transfer of permanent case files: a zip
// of metadata XML, the files and a SHA-256 manifest that checks, the
// case files marked transferred (a second transfer refused), a case file
// holding a classified document refused until declassified.
func TestTransferPackage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		arch := f.as(f.archivist)
		plain := f.incoming(t, "Thông báo lịch làm việc", authz.Unclassified, &Content{Filename: "../../etc/passwd.PDF", MediaType: "application/pdf", Data: []byte("%PDF lịch")})
		secret := f.secretText(t)
		c1 := f.caseFileWith(t, "VV.01", Permanent, plain)
		c2 := f.caseFileWith(t, "VV.02", Permanent, secret)
		c3 := f.caseFileWith(t, "TAM.01", 5, plain)
		f.closeCaseFiles(t, c1, c2, c3)
		for name, ids := range map[string][]int64{"classified": {c2.ID}, "kept for years": {c3.ID}} {
			if _, err := f.svc.TransferCaseFiles(arch, f.archivist, ids); !errors.Is(err, errs.ErrConflict) {
				t.Errorf("%s: %v, want ErrConflict", name, err)
			}
		}
		if _, err := f.svc.TransferCaseFiles(arch, f.archivist, []int64{999999}); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("a missing case file: %v", err)
		}
		tr, err := f.svc.TransferCaseFiles(arch, f.archivist, []int64{c1.ID})
		if err != nil {
			t.Fatal(err)
		}
		pkg, err := f.svc.TransferPackage(arch, f.archivist, tr.ID)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(pkg); hex.EncodeToString(sum[:]) != tr.SHA256 {
			t.Error("the package's digest differs from the one recorded")
		}
		zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{}
		for _, zf := range zr.File {
			rc, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			files[zf.Name], _ = io.ReadAll(rc)
			rc.Close()
		}
		manifest := string(files["manifest-sha256.txt"])
		for name, data := range files {
			if name == "manifest-sha256.txt" {
				continue
			}
			if strings.Contains(name, "..") {
				t.Errorf("a path escapes the package: %s", name)
			}
			sum := sha256.Sum256(data)
			if !strings.Contains(manifest, hex.EncodeToString(sum[:])+"  "+name+"\n") {
				t.Errorf("the manifest lacks %s", name)
			}
		}
		if meta := string(files["metadata.xml"]); !strings.Contains(meta, `code="VV.01"`) || !strings.Contains(meta, "Thông báo lịch làm việc") {
			t.Errorf("metadata.xml:\n%s", meta)
		}
		if len(files) != 3 {
			t.Errorf("package files = %v", len(files))
		}
		if _, err := f.svc.TransferCaseFiles(arch, f.archivist, []int64{c1.ID}); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("a second transfer: %v", err)
		}
		if _, err := f.svc.TransferPackage(f.as(f.office), f.office, tr.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("another unit reading the package: %v", err)
		}
	})
}

// TestSecretRegisterAndMerger pins the registers of secret documents (the
// classified entries with their copies, within the reader's clearance,
// to the records office and security officers of the unit only) and the
// merger's move: the absorbed unit's registers are kept by the unit it
// merged into, its drafts and case files move, the ledger records it.
func TestSecretRegisterAndMerger(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		consular, office := f.units["000.00.03.G12"], f.units["000.00.01.G12"]
		secret := f.secretText(t)
		conf := f.incoming(t, "Công văn mật", authz.Confidential, nil)
		f.incoming(t, "Công văn thường", authz.Unclassified, nil)
		if _, err := f.svc.PermitCopy(f.as(f.leader), f.leader, secret.ID, NewCopyPermit{StaffID: f.clerk.ID, Kind: CopyKindPrint, Copies: 1,
			Reason: "Họp", ExpiresAt: f.clock.now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.MakeCopy(f.as(f.clerk), f.clerk, secret.ID, CopyKindPrint); err != nil {
			t.Fatal(err)
		}
		reg, err := f.svc.SecretRegister(f.as(f.clerk), f.clerk, Incoming, consular, 2026)
		if err != nil {
			t.Fatal(err)
		}
		if len(reg.Entries) != 2 || reg.Entries[0].Document.ID != secret.ID || len(reg.Entries[0].Copies) != 1 || reg.Entries[0].Copies[0].HolderName != "clerk" {
			t.Fatalf("secret register = %+v", reg)
		}
		low, err := f.svc.SecretRegister(f.as(f.lowOfficer), f.lowOfficer, Incoming, consular, 2026)
		if err != nil || len(low.Entries) != 1 || low.Entries[0].Document.ID != conf.ID {
			t.Errorf("a clerk cleared confidential sees %+v, %v", low, err)
		}
		if _, err := f.svc.SecretRegister(f.as(f.officer), f.officer, Incoming, consular, 2026); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("an officer: %v, want ErrForbidden", err)
		}
		_, hidden := f.svc.SecretRegister(f.as(f.office), f.office, Incoming, consular, 2026)
		_, missing := f.svc.SecretRegister(f.as(f.office), f.office, Incoming, 999999, 2026)
		if !errors.Is(hidden, errs.ErrNotFound) || strings.ReplaceAll(hidden.Error(), itoa(consular), "N") != strings.ReplaceAll(missing.Error(), "999999", "N") {
			t.Errorf("another unit's register: %v; a missing one: %v", hidden, missing)
		}

		// The Office merges into the Consular Department.
		officeSecret, err := f.svc.RegisterIncoming(f.as(f.office), f.office, NewIncoming{Type: "cong_dien", Sender: "Bộ Quốc phòng", Subject: "Công điện mật của Văn phòng",
			Date: f.clock.now(), Classify: Classify{Level: authz.Confidential, Reason: "mục 1"}})
		if err != nil {
			t.Fatal(err)
		}
		draft, err := f.svc.StartDraft(f.as(f.office), f.office, NewDraft{Type: "bao_cao", Subject: "Báo cáo dở dang"})
		if err != nil {
			t.Fatal(err)
		}
		f.caseFileWith(t, "LS.01", 5)
		if _, err := f.svc.CreateCaseFile(f.as(f.office), f.office, NewCaseFile{Year: 2026, Code: "LS.01", Title: "Hồ sơ của Văn phòng", RetentionYears: 5}); err != nil {
			t.Fatal(err)
		}
		err = db.InTx(context.Background(), func(tx *store.Tx) error {
			return f.svc.MergeUnitTx(f.as(f.office), tx, office, consular, "000.00.01.G12")
		})
		if err != nil {
			t.Fatal(err)
		}
		reg, err = f.svc.SecretRegister(f.as(f.clerk), f.clerk, Incoming, office, 2026)
		if err != nil || len(reg.Entries) != 1 || reg.Entries[0].Document.ID != officeSecret.ID || reg.Entries[0].Document.RegisterNumber != 1 {
			t.Errorf("the Office's register kept by the Consular Department: %+v, %v", reg, err)
		}
		if p, err := f.svc.Register(f.as(f.clerk), f.clerk, RegisterQuery{Direction: Incoming, UnitID: office, Year: 2026, Secret: true}); err != nil || len(p.Items) != 1 {
			t.Errorf("the Office's register through the registers' API after the merger: %+v, %v", p, err)
		}
		// The search index knows the Consular Department may now know the
		// Office's documents: its clerk finds them by their words.
		if p, err := f.svc.Search(f.as(f.clerk), f.clerk, Query{Text: "cong dien van phong"}); err != nil || len(p.Items) != 1 || p.Items[0].ID != officeSecret.ID {
			t.Errorf("the Office's document found by the Consular clerk after the merger: %+v, %v", p, err)
		}
		if got, err := f.svc.Get(f.as(f.clerk), f.clerk, draft.ID); err != nil || got.UnitID != consular {
			t.Errorf("the Office's draft after the merger: %+v, %v", got, err)
		}
		var codes []string
		rows, err := db.QueryContext(context.Background(), db.Rebind(`SELECT code FROM record_case_files WHERE unit_id = ? ORDER BY code`), consular)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var c string
			rows.Scan(&c)
			codes = append(codes, c)
		}
		rows.Close()
		if strings.Join(codes, ",") != "LS.01,LS.01/000.00.01.G12" {
			t.Errorf("case files after the merger: %v", codes)
		}
		if _, err := f.ledger.Integrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		es, err := f.ledger.Search(context.Background(), audit.Query{Action: "records.unit_merge"})
		if err != nil || len(es) != 1 || es[0].Attrs["case_files"] != "1" || es[0].Attrs["drafts"] != "1" || es[0].Attrs["shared"] != "2" {
			t.Errorf("merger events = %+v, %v", es, err)
		}
	})
}
