package records

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestDraftVersionsKeepEveryFileUnderTheDocumentsKey uploads versions of
// a draft: each stays readable, the level change re-wraps them all, and
// destroying the document's key destroys them all.
func TestDraftVersionsKeepEveryFileUnderTheDocumentsKey(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d := f.draft(t, "quyet_dinh", authz.Confidential)
		v2 := &Content{Filename: "qd-v2.pdf", MediaType: "application/pdf", Data: []byte("%PDF-1.4 bản sửa lần 2")}
		if _, err := f.svc.AddVersion(f.as(f.officer), f.officer, d.ID, v2, "Sửa theo ý kiến Vụ Pháp chế"); err != nil {
			t.Fatal(err)
		}
		dr, err := f.svc.Drafting(f.as(f.officer), f.officer, d.ID)
		if err != nil || len(dr.Versions) != 2 || !dr.Versions[1].Current || dr.Versions[0].Current || dr.Versions[1].AuthorID != f.officer.ID {
			t.Fatalf("versions = %+v, %v", dr, err)
		}
		check := func(no int, want string) {
			t.Helper()
			_, data, err := f.svc.VersionContent(f.as(f.officer), f.officer, d.ID, no)
			if err != nil || string(data) != want {
				t.Fatalf("version %d = %q, %v; want %q", no, data, err, want)
			}
		}
		check(1, "%PDF-1.4 quyết định")
		check(2, "%PDF-1.4 bản sửa lần 2")
		if _, _, err := f.svc.VersionContent(f.as(f.officer), f.officer, d.ID, 3); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("version 3: %v, want not found", err)
		}
		// Nobody of another unit learns of the draft's versions.
		if _, _, err := f.svc.VersionContent(f.as(f.office), f.office, d.ID, 1); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("another unit's version: %v, want not found", err)
		}
		if err := f.svc.ChangeLevel(f.as(f.security), f.security, d.ID, authz.Secret, "nâng độ mật"); err != nil {
			t.Fatal(err)
		}
		check(1, "%PDF-1.4 quyết định") // the older version opens under the re-wrapped key
		if n := len(f.events(t, "document.revise", d.ID)); n != 1 {
			t.Errorf("revise events = %d, want 1", n)
		}
		// A bad file changes nothing.
		if _, err := f.svc.AddVersion(f.as(f.officer), f.officer, d.ID, &Content{Filename: "x.pdf", MediaType: "application/pdf"}, ""); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("empty file: %v", err)
		}
		if dr, _ := f.svc.Drafting(f.as(f.officer), f.officer, d.ID); len(dr.Versions) != 2 {
			t.Errorf("after a refused version: %d versions", len(dr.Versions))
		}
		// A member of another unit reading by grant comments, but does
		// not revise the draft nor send it for review.
		if _, err := f.svc.Grant(f.as(f.leader), f.leader, d.ID, NewGrant{StaffID: f.office.ID, Reason: "phối hợp", ExpiresAt: f.clock.now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddVersion(f.as(f.office), f.office, d.ID, v2, ""); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("a grantee's version: %v, want forbidden", err)
		}
		if _, err := f.svc.SendForReview(f.as(f.office), f.office, d.ID, []int64{f.leader.ID}, ""); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("a grantee's review request: %v, want forbidden", err)
		}
		if _, err := f.svc.Approve(f.as(f.office), f.office, d.ID, ""); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("a grantee's approval: %v, want forbidden", err)
		}
		if _, err := f.svc.AddComment(f.as(f.office), f.office, d.ID, 0, 0, "Văn phòng góp ý"); err != nil {
			t.Errorf("a grantee's comment: %v", err)
		}
		// Once approved, the file the signer signs stays.
		if _, err := f.svc.Approve(f.as(f.leader), f.leader, d.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddVersion(f.as(f.officer), f.officer, d.ID, v2, ""); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("version of an approved document: %v, want conflict", err)
		}
		if _, err := f.svc.Destroy(f.as(f.archivist), f.archivist, d.ID, "QĐ hủy 01"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.VersionContent(f.as(f.officer), f.officer, d.ID, 1); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("an older version after destruction: %v, want conflict", err)
		}
	})
}

// TestCommentsAreThreadedPerVersionAndPlainText comments on versions,
// replies, and refuses hostile text.
func TestCommentsAreThreadedPerVersionAndPlainText(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d := f.draft(t, "quyet_dinh", authz.Unclassified)
		c1, err := f.svc.AddComment(f.as(f.leader), f.leader, d.ID, 0, 0, "Đề nghị bổ sung căn cứ pháp lý.\nXem lại Điều 3.")
		if err != nil || c1.VersionNo != 1 {
			t.Fatalf("comment = %+v, %v", c1, err)
		}
		reply, err := f.svc.AddComment(f.as(f.officer), f.officer, d.ID, 1, c1.ID, "Đã bổ sung.")
		if err != nil || reply.ReplyTo != c1.ID {
			t.Fatalf("reply = %+v, %v", reply, err)
		}
		for name, bad := range map[string]struct {
			version int
			reply   int64
			body    string
		}{
			"bidi":          {0, 0, "abc\u202edcba"},
			"NUL":           {0, 0, "a\x00b"},
			"CR":            {0, 0, "a\rb"},
			"empty":         {0, 0, "  "},
			"too long":      {0, 0, string(bytes.Repeat([]byte("a"), maxNote+1))},
			"no version":    {5, 0, "x"},
			"foreign reply": {0, 99999, "x"},
		} {
			if _, err := f.svc.AddComment(f.as(f.leader), f.leader, d.ID, bad.version, bad.reply, bad.body); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		if _, err := f.svc.AddComment(f.as(f.office), f.office, d.ID, 0, 0, "x"); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("another unit's comment: %v, want not found", err)
		}
		dr, err := f.svc.Drafting(f.as(f.officer), f.officer, d.ID)
		if err != nil || len(dr.Comments) != 2 {
			t.Fatalf("comments = %+v, %v", dr, err)
		}
	})
}

// TestReviewChainApprovesWhenEveryReviewerHas sends a draft to two
// approvers; one sends it back, the next round's approves it.
func TestReviewChainApprovesWhenEveryReviewerHas(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d := f.draft(t, "quyet_dinh", authz.Secret)
		for name, reviewers := range map[string][]int64{
			"none":        nil,
			"self":        {f.officer.ID},
			"twice":       {f.leader.ID, f.leader.ID},
			"no approver": {f.clerk.ID},
			"other unit":  {f.office.ID},
			"low":         {f.lowOfficer.ID},
			"missing":     {987654},
		} {
			if _, err := f.svc.SendForReview(f.as(f.officer), f.officer, d.ID, reviewers, ""); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		if _, err := f.svc.SendForReview(f.as(f.officer), f.officer, d.ID, []int64{f.leader.ID, f.leader2.ID}, "Kính trình"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ReviewDraft(f.as(f.leader), f.leader, d.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ReviewDraft(f.as(f.leader), f.leader, d.ID, true, ""); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("second decision: %v, want conflict", err)
		}
		if _, err := f.svc.ReviewDraft(f.as(f.leader2), f.leader2, d.ID, false, ""); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("sent back without a reason: %v", err)
		}
		doc, err := f.svc.ReviewDraft(f.as(f.leader2), f.leader2, d.ID, false, "Chưa đủ căn cứ")
		if err != nil || doc.Status != StatusDraft {
			t.Fatalf("sent back: %+v, %v", doc, err)
		}
		if _, err := f.svc.SendForReview(f.as(f.officer), f.officer, d.ID, []int64{f.leader2.ID}, ""); err != nil {
			t.Fatal(err)
		}
		doc, err = f.svc.ReviewDraft(f.as(f.leader2), f.leader2, d.ID, true, "")
		if err != nil || doc.Status != StatusApproved {
			t.Fatalf("approved: %+v, %v", doc, err)
		}
		dr, _ := f.svc.Drafting(f.as(f.officer), f.officer, d.ID)
		var got []string
		for _, rv := range dr.Reviews {
			got = append(got, itoa(int64(rv.Round))+":"+rv.Decision)
		}
		if want := "1:approved 1:returned 2:approved"; joinStrings(got) != want {
			t.Errorf("reviews = %v, want %s", got, want)
		}
		if n := len(f.events(t, "document.review", d.ID)); n != 3 {
			t.Errorf("review events = %d, want 3", n)
		}
	})
}

func joinStrings(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(x)
	}
	return b.String()
}

// TestDistributeStoresTheRecipientsAndSharesWithUnits issues with a
// distribution list; internal units read the document.
func TestDistributeStoresTheRecipientsAndSharesWithUnits(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d := f.draft(t, "quyet_dinh", authz.Unclassified)
		if _, err := f.svc.Approve(f.as(f.leader), f.leader, d.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Sign(f.as(f.leader), f.leader, d.ID, ""); err != nil {
			t.Fatal(err)
		}
		office := f.units["000.00.01.G12"]
		for name, bad := range map[string][]Recipient{
			"kind":        {{Kind: "friend", UnitID: office}},
			"no unit":     {{Kind: RecipientUnit}},
			"agency name": {{Kind: RecipientAgency, Name: "a\u202eb"}},
			"missing":     {{Kind: RecipientUnit, UnitID: 987654}},
			"not mission": {{Kind: RecipientMission, UnitID: office}},
		} {
			if _, err := f.svc.Distribute(f.as(f.clerk), f.clerk, d.ID, IssueAs{OrgSymbol: "BNG"}, bad); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		if _, err := f.svc.Get(f.as(f.office), f.office, d.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("before issuance the Office reads it: %v", err)
		}
		doc, err := f.svc.Distribute(f.as(f.clerk), f.clerk, d.ID, IssueAs{OrgSymbol: "BNG"}, []Recipient{
			{Kind: RecipientUnit, UnitID: office}, {Kind: RecipientAgency, Name: "Bộ Công an", Code: "G01"}})
		if err != nil || doc.Status != StatusIssued || doc.Number != "01/QĐ-BNG" {
			t.Fatalf("issue: %+v, %v", doc, err)
		}
		if _, err := f.svc.Get(f.as(f.office), f.office, d.ID); err != nil {
			t.Errorf("the Office on the list: %v", err)
		}
		if _, err := f.svc.Recall(f.as(f.office), f.office, d.ID, "không đúng"); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("a leader of a unit on the list recalls it: %v, want forbidden", err)
		}
		rs, err := f.svc.Recipients(f.as(f.clerk), d.ID)
		if err != nil || len(rs) != 2 || rs[0].Name != "Đơn vị 000.00.01.G12" || rs[1].Code != "G01" {
			t.Errorf("recipients = %+v, %v", rs, err)
		}
	})
}

// TestReplacementLinksTheNewDraftToTheRecalledDocument recalls an issued
// document and replaces it, once.
func TestReplacementLinksTheNewDraftToTheRecalledDocument(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d := f.draft(t, "quyet_dinh", authz.Confidential)
		if _, err := f.svc.Replace(f.as(f.officer), f.officer, d.ID); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("replace a draft: %v, want conflict", err)
		}
		f.issue(t, d.ID, IssueAs{OrgSymbol: "BNG"})
		if _, err := f.svc.Recall(f.as(f.leader), f.leader, d.ID, "Sai thẩm quyền ban hành"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Replace(f.as(f.office), f.office, d.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("another unit replaces: %v, want not found", err)
		}
		nd, err := f.svc.Replace(f.as(f.officer), f.officer, d.ID)
		if err != nil || nd.Status != StatusDraft || nd.Classification != authz.Confidential || nd.Subject != d.Subject {
			t.Fatalf("replacement = %+v, %v", nd, err)
		}
		if _, err := f.svc.Replace(f.as(f.officer), f.officer, d.ID); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("second replacement: %v, want conflict", err)
		}
		old, _ := f.svc.Drafting(f.as(f.officer), f.officer, d.ID)
		nw, _ := f.svc.Drafting(f.as(f.officer), f.officer, nd.ID)
		if old.ReplacedBy != nd.ID || nw.Replaces != d.ID {
			t.Errorf("links: old replaced by %d, new replaces %d", old.ReplacedBy, nw.Replaces)
		}
	})
}
