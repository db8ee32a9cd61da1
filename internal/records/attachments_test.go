package records

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// registerAtParis delivers package p from the Consular Department to
// Paris, whose records office registers it.
func (n *twoNodes) registerAtParis(t *testing.T, p *Package) *Document {
	t.Helper()
	ctx := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("edxml")})
	if err := n.paris.svc.Receive(ctx, Arrival{Sender: consularCode, Recipient: parisCode, Level: p.Level, MessageID: "m1", Payload: []byte(mustBuild(t, p))}); err != nil {
		t.Fatal(err)
	}
	f, clerk := n.paris, n.paris.office
	waiting, err := f.svc.Packages(f.as(clerk), clerk, PackageQuery{Direction: packageIn, Waiting: true})
	if err != nil || len(waiting) != 1 {
		t.Fatalf("waiting: %+v, %v", waiting, err)
	}
	d, err := f.svc.RegisterPackage(f.as(clerk), clerk, waiting[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestEveryFileOfAPackageIsKept pins an incoming package of several
// files: the first is the document's file, every other is kept as an
// attachment in order (one of a type a document's file may not be, as
// bytes), listed with the document, downloadable by whoever reads the
// document (recorded at its level) and by nobody else, who learns as
// much as of a missing document; destroying the data key destroys them
// too.
func TestEveryFileOfAPackageIsKept(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := newTwoNodes(t, db)
		p := samplePackage()
		p.Files = append(p.Files,
			Attachment{Name: "phu-luc.txt", MediaType: "text/plain", Data: []byte("Phụ lục: danh sách đoàn")},
			Attachment{Name: "bang-tinh.xlsx", MediaType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Data: []byte("PK\x03\x04 not quite")})
		f, clerk := n.paris, n.paris.office
		d := n.registerAtParis(t, p)
		v, err := f.svc.Get(f.as(clerk), clerk, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.Content == nil || v.Content.Filename != "qd.pdf" || len(v.Attachments) != 2 ||
			v.Attachments[0].Seq != 2 || v.Attachments[0].Filename != "phu-luc.txt" || v.Attachments[0].MediaType != "text/plain" ||
			v.Attachments[1].Filename != "bang-tinh.xlsx" || v.Attachments[1].MediaType != "application/octet-stream" {
			t.Fatalf("the document's files: %+v, attachments %+v", v.Content, v.Attachments)
		}
		for i, want := range p.Files[1:] {
			info, data, err := f.svc.AttachmentContent(f.as(clerk), clerk, d.ID, 2+i)
			if err != nil || !bytes.Equal(data, want.Data) || info.Size != int64(len(want.Data)) {
				t.Errorf("attachment %d = %+v, %q, %v", 2+i, info, data, err)
			}
		}
		if _, _, err := f.svc.AttachmentContent(f.as(clerk), clerk, d.ID, 4); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("a fourth file: %v, want not found", err)
		}
		if es := f.events(t, "document.download", d.ID); len(es) != 2 || es[0].Level != authz.Confidential || es[1].Attrs["attachment"] != "2" {
			t.Errorf("download events = %+v", es)
		}
		// The API: the same rules; another unit's member as for a missing
		// document.
		a := apiOn(t, f)
		if rec := a.call(t, clerk, http.MethodGet, fmt.Sprintf("/api/v1/documents/%d/attachments/2", d.ID), nil); rec.Code != http.StatusOK || rec.Body.String() != "Phụ lục: danh sách đoàn" {
			t.Errorf("the API's attachment = %d %s", rec.Code, rec.Body)
		}
		got := a.call(t, f.clerk, http.MethodGet, fmt.Sprintf("/api/v1/documents/%d/attachments/2", d.ID), nil)
		want := a.call(t, f.clerk, http.MethodGet, fmt.Sprintf("/api/v1/documents/%d/attachments/2", missingID), nil)
		if got.Code != http.StatusNotFound || normalize(got, d.ID) != normalize(want, missingID) {
			t.Errorf("another unit's clerk: %s, want as a missing document's %s", normalize(got, d.ID), normalize(want, missingID))
		}
		// Crypto-shredding the document's key leaves its attachments
		// unreadable too.
		if err := f.db.InTx(context.Background(), func(tx *store.Tx) error {
			return rewrapContent(context.Background(), tx, d.ID, "", nil, f.clock.now())
		}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.AttachmentContent(f.as(clerk), clerk, d.ID, 2); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("an attachment after the key's destruction: %v, want conflict", err)
		}
	})
}

// TestAttachmentsTextIsSearched pins the text of a package's attachments:
// the worker reads every file of the document (one of a type no text is
// read from passed over), and search finds the document by the words of
// an attachment, for whoever may see the document and nobody else.
func TestAttachmentsTextIsSearched(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := newTwoNodes(t, db)
		p := samplePackage()
		p.Level = authz.Unclassified
		p.Files = []Attachment{
			{Name: "thong-bao.txt", MediaType: "text/plain", Data: []byte("Thông báo lịch làm việc của đoàn")},
			{Name: "phu-luc.txt", MediaType: "text/plain", Data: []byte("Phụ lục: danh sách doanh nghiệp dự hội nghị xúc tiến thương mại")},
			{Name: "du-lieu.bin", MediaType: "application/octet-stream", Data: []byte{0, 1, 2, 3}},
		}
		f, clerk := n.paris, n.paris.office
		d := n.registerAtParis(t, p)
		find := func(sub authz.Subject, q string) []int64 { return ids(f.search(t, sub, Query{Text: q})) }
		if got := find(clerk, "xuc tien thuong mai"); len(got) != 0 {
			t.Fatalf("found by an attachment's words before the worker read it: %v", got)
		}
		w, _ := f.svc.NewExtractWorker(ExtractOptions{Extractor: &Extractor{}})
		for {
			worked, err := w.Work(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !worked {
				break
			}
		}
		for _, q := range []string{"xuc tien thuong mai", "lịch làm việc"} {
			if got := find(clerk, q); len(got) != 1 || got[0] != d.ID {
				t.Errorf("%q finds %v, want the document %d", q, got, d.ID)
			}
		}
		// Another unit's clerk of the same node sees nothing of it.
		if got := find(f.clerk, "xuc tien thuong mai"); len(got) != 0 {
			t.Errorf("another unit's clerk finds %v", got)
		}
	})
}

// missingID names no item; its answers are what a hidden item's must be.
const missingID = 987654321

// normalize returns an answer's status, type and body with the item's
// id, wherever it stands alone after a slash, space or quote (not the
// "1" of "/api/v1"), replaced by ID.
func normalize(rec *httptest.ResponseRecorder, id int64) string {
	re := regexp.MustCompile(`([/ "])` + strconv.FormatInt(id, 10) + `([^0-9]|$)`)
	body := re.ReplaceAllString(rec.Body.String(), "${1}ID${2}")
	return fmt.Sprintf("%d %s\n%s", rec.Code, rec.Header().Get("Content-Type"), body)
}
