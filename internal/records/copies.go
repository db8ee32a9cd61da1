package records

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"os/exec"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// Copies and prints of classified documents. Law 117/2025 on Protection
// of State Secrets replaces Law 29/2018, whose rules on copies are
// verified (thuvienphapluat.vn, luatduonggia.vn): copying needs the
// permission of the competent person (Law 29/2018 Article 11, by level);
// Decree 26/2020/NĐ-CP Article 3 has each copy stamped as a copy, only the
// number of copies permitted made, and every copy entered in the register
// of copies (sổ quản lý sao, chụp bí mật nhà nước). Their articles in Law
// 117/2025 and its decree were not verified. Here the competent person is
// whoever authz grants (KindDocumentCopy, Approve): the owning unit's
// leader and the security officers; Article 11's split by level (the
// minister for Tuyệt mật, say) is not modelled. A permission names one
// member of staff, copy or print, how many, why and until when; each copy
// made under it takes the document's next copy number (1..n, no gaps: the
// number is taken in the transaction that records the copy, the
// document's row locked), and is delivered as a PDF marked on every page
// with the level, the holder's name and the copy number. The registers
// of secret documents (register_secret.go) list every copy.

// The kinds of copy.
const (
	CopyKindCopy  = "copy"  // a copy delivered as a file (bản sao)
	CopyKindPrint = "print" // a print on paper (bản in)
)

// Limits of a permission.
const (
	maxCopiesPerPermit = 50
	// maxCopyText bounds the text a copy renders (about 500 pages).
	maxCopyText = 2 << 20
)

// CopyPermit is the competent person's permission to copy or print a
// classified document.
type CopyPermit struct {
	ID         int64     `json:"id"`
	DocumentID int64     `json:"document_id"`
	StaffID    int64     `json:"staff_id"`
	Kind       string    `json:"kind"`
	Copies     int       `json:"copies"`
	Used       int       `json:"used"`
	Reason     string    `json:"reason"`
	GrantedBy  int64     `json:"granted_by"`
	ExpiresAt  time.Time `json:"expires_at"`
	At         time.Time `json:"at"`
}

// Copy is one numbered copy or print of a classified document.
type Copy struct {
	DocumentID int64       `json:"document_id"`
	Number     int         `json:"number"`
	Kind       string      `json:"kind"`
	HolderID   int64       `json:"holder_id"`
	HolderName string      `json:"holder_name"`
	HolderUnit int64       `json:"holder_unit"`
	PermitID   int64       `json:"permit_id"`
	Level      authz.Level `json:"level"`
	MadeAt     time.Time   `json:"made_at"`
}

// NewCopyPermit is a permission being given.
type NewCopyPermit struct {
	StaffID   int64
	Kind      string
	Copies    int
	Reason    string
	ExpiresAt time.Time
}

func checkCopyKind(kind string) error {
	if kind != CopyKindCopy && kind != CopyKindPrint {
		return errs.Invalid("kind", "use copy or print")
	}
	return nil
}

// PermitCopy gives one member of staff permission to make up to Copies
// copies (or prints) of a classified document until an expiry at most
// MaxGrant away. An unclassified document needs no permission
// (errs.ErrConflict); a caller who is not the competent person gets an
// *authz.Refusal (a concealed one for a document they may not know of).
func (s *Service) PermitCopy(ctx context.Context, sub authz.Subject, id int64, np NewCopyPermit) (*CopyPermit, error) {
	if err := checkCopyKind(np.Kind); err != nil {
		return nil, err
	}
	if err := checkLine("reason", np.Reason, maxLine, true); err != nil {
		return nil, err
	}
	if np.Copies < 1 || np.Copies > maxCopiesPerPermit {
		return nil, errs.Invalid("copies", fmt.Sprintf("must be between 1 and %d", maxCopiesPerPermit))
	}
	if np.StaffID <= 0 {
		return nil, errs.Invalid("staff_id", "is required")
	}
	now := s.now()
	if !np.ExpiresAt.After(now) || np.ExpiresAt.Sub(now) > MaxGrant {
		return nil, errs.Invalid("expires_at", fmt.Sprintf("must be in the future and at most %d days away", int(MaxGrant.Hours()/24)))
	}
	p := &CopyPermit{DocumentID: id, StaffID: np.StaffID, Kind: np.Kind, Copies: np.Copies, Reason: np.Reason, GrantedBy: sub.ID,
		ExpiresAt: np.ExpiresAt.UTC().Truncate(time.Microsecond), At: now}
	err := s.archive(ctx, sub, id, authz.KindDocumentCopy, authz.Approve, func(tx *store.Tx, o audit.Origin, r *row, _ time.Time) (audit.Event, error) {
		if r.Classification == authz.Unclassified {
			return audit.Event{}, fmt.Errorf("%w: document %d is not classified; its copies need no permission", errs.ErrConflict, r.ID)
		}
		if err := insertCopyPermit(ctx, tx, p); isForeignKeyViolation(err) {
			return audit.Event{}, errs.Invalid("staff_id", fmt.Sprintf("no member of staff has id %d", np.StaffID))
		} else if err != nil {
			return audit.Event{}, fmt.Errorf("records: store the permission: %w", err)
		}
		return event(o, "document.copy_permit", r, map[string]string{"staff_id": strconv.FormatInt(p.StaffID, 10), "kind": p.Kind,
			"copies": strconv.Itoa(p.Copies), "reason": audit.AttrValue(p.Reason)}), nil
	})
	if err != nil {
		return nil, fmt.Errorf("records: permit copies of document %d: %w", id, err)
	}
	return p, nil
}

// reasonNoPermit is why a copy is refused to someone who may otherwise
// make copies: no permission of theirs is in force.
const reasonNoPermit authz.Reason = "no permission to copy the document is in force for the subject"

// MakeCopy makes the next numbered copy (or print) of a classified
// document for the caller, under a permission of theirs in force, and
// records it in the ledger at the document's level. Without a
// permission it returns an *authz.Refusal (recorded as a denial); a
// document the caller may not know of answers as missing; one without a
// file, or whose file was destroyed, errs.ErrConflict.
func (s *Service) MakeCopy(ctx context.Context, sub authz.Subject, id int64, kind string) (*Copy, error) {
	if err := checkCopyKind(kind); err != nil {
		return nil, err
	}
	holder := s.holderName(ctx, sub.ID)
	var c *Copy
	err := s.archive(ctx, sub, id, authz.KindDocumentCopy, authz.Create, func(tx *store.Tx, o audit.Origin, r *row, now time.Time) (audit.Event, error) {
		// Making a copy reads the document: clearance and need-to-know
		// were checked with the capacity; reading it is the holder's own.
		if err := allow(sub, authz.Read, authz.KindDocument, r); err != nil {
			return audit.Event{}, err
		}
		if r.Classification == authz.Unclassified {
			return audit.Event{}, fmt.Errorf("%w: document %d is not classified; download its content instead", errs.ErrConflict, r.ID)
		}
		content, ok, err := loadContent(ctx, tx, r.ID)
		if err != nil {
			return audit.Event{}, err
		}
		if !ok || !content.Shredded.IsZero() {
			return audit.Event{}, fmt.Errorf("%w: document %d has no file to copy", errs.ErrConflict, r.ID)
		}
		permit, err := usePermit(ctx, tx, r.ID, sub.ID, kind, now)
		if err != nil {
			return audit.Event{}, err
		}
		if permit == 0 {
			res := r.resource()
			res.Kind = authz.KindDocumentCopy
			return audit.Event{}, authz.Refuse(authz.Denied, reasonNoPermit, authz.Create, res, strconv.FormatInt(r.ID, 10))
		}
		c = &Copy{DocumentID: r.ID, Kind: kind, HolderID: sub.ID, HolderName: holder, HolderUnit: sub.Unit, PermitID: permit,
			Level: r.Classification, MadeAt: now}
		if err := insertCopy(ctx, tx, c); err != nil {
			return audit.Event{}, err
		}
		return event(o, "document."+kind, r, map[string]string{"copy": strconv.Itoa(c.Number), "holder": strconv.FormatInt(sub.ID, 10),
			"permit": strconv.FormatInt(permit, 10)}), nil
	})
	if err != nil {
		return nil, fmt.Errorf("records: %s document %d: %w", kind, id, err)
	}
	return c, nil
}

// holderName is the name printed on a copy: the staff directory's full
// name, else the signed-in user name.
func (s *Service) holderName(ctx context.Context, id int64) string {
	if s.opts.Staff != nil {
		if m, err := s.opts.Staff.Staff(ctx, id); err == nil && m.FullName != "" {
			return m.FullName
		}
	}
	if o, ok := audit.OriginFrom(ctx); ok && o.Actor.Name != "" {
		return o.Actor.Name
	}
	return "#" + strconv.FormatInt(id, 10)
}

// Copies returns a document's copies and permissions: all of them to
// those who keep the registers of copies (KindDocumentCopy, Read), the
// caller's own to anyone else who may read the document.
func (s *Service) Copies(ctx context.Context, sub authz.Subject, id int64) ([]Copy, []CopyPermit, error) {
	r, err := loadDocument(ctx, s.db, id, s.now(), false)
	if err != nil {
		return nil, nil, err
	}
	if err := allow(sub, authz.Read, authz.KindDocument, r); err != nil {
		return nil, nil, err
	}
	var only int64
	if allow(sub, authz.Read, authz.KindDocumentCopy, r) != nil {
		only = sub.ID
	}
	copies, err := listCopies(ctx, s.db, `c.document_id = ?`, []any{id}, only)
	if err != nil {
		return nil, nil, err
	}
	permits, err := listCopyPermits(ctx, s.db, id, only)
	return copies, permits, err
}

// CopyPDF returns copy number n of a document as a PDF marked on every
// page with the level, the holder's name and the copy number, and records
// its download. Only the holder gets it; to anyone else, and for a
// document they may not know of, it answers as missing.
func (s *Service) CopyPDF(ctx context.Context, sub authz.Subject, id int64, n int) (string, []byte, error) {
	r, err := loadDocument(ctx, s.db, id, s.now(), false)
	if err != nil {
		return "", nil, err
	}
	if err := allow(sub, authz.Read, authz.KindDocument, r); err != nil {
		return "", nil, err
	}
	noCopy := fmt.Errorf("%w: document %d has no copy %d of yours", errs.ErrNotFound, id, n)
	copies, err := listCopies(ctx, s.db, `c.document_id = ? AND c.number = ?`, []any{id, n}, sub.ID)
	if err != nil {
		return "", nil, err
	}
	if len(copies) != 1 {
		return "", nil, noCopy
	}
	c := copies[0]
	content, ok, err := loadContent(ctx, s.db, id)
	if err != nil {
		return "", nil, err
	}
	if !ok || !content.Shredded.IsZero() {
		return "", nil, fmt.Errorf("%w: the file of document %d was destroyed; its copies can no longer be made", errs.ErrConflict, id)
	}
	data, err := openContent(ctx, s.opts.Ring, id, &content)
	if err != nil {
		return "", nil, err
	}
	marking := strings.ToUpper(LevelLabel(c.Level))
	copyWord := "BẢN SAO"
	if c.Kind == CopyKindPrint {
		copyWord = "BẢN IN"
	}
	m := pdfMarks{
		Marking:   marking,
		Header:    fmt.Sprintf("%s SỐ %d · %s · %s", copyWord, c.Number, c.HolderName, strings.TrimSpace(r.Number+" "+r.Subject)),
		Footer:    fmt.Sprintf("%s số %d của văn bản %d, cấp cho %s ngày %s", strings.ToLower(copyWord[:1])+copyWord[1:], c.Number, id, c.HolderName, c.MadeAt.In(registerZone()).Format("02/01/2006")),
		Watermark: fmt.Sprintf("%s · %s SỐ %d · %s", marking, copyWord, c.Number, c.HolderName),
	}
	pdf, err := markedCopy(ctx, r.Subject, content.MediaType, data, m, c.MadeAt)
	if err != nil {
		return "", nil, err
	}
	if o, ok := actorOrNone(ctx); ok {
		if _, err := s.opts.Recorder.Append(ctx, event(o, "document.copy.download", r, map[string]string{"copy": strconv.Itoa(n)})); err != nil {
			return "", nil, fmt.Errorf("records: record the download of copy %d of document %d: %w", n, id, err)
		}
	}
	return fmt.Sprintf("document-%d-copy-%d.pdf", id, n), pdf, nil
}

// markedCopy returns a copy of a file with marks m on every page: a PDF's
// own pages stamped (stamp.go), so that a scan's copy keeps its pages;
// else, or when the PDF cannot be stamped (damaged, encrypted, stamping
// not enabled), its text rendered into pages that carry the marks.
func markedCopy(ctx context.Context, title, mediaType string, data []byte, m pdfMarks, at time.Time) ([]byte, error) {
	if mt, _, _ := mime.ParseMediaType(mediaType); mt == "application/pdf" {
		if pdf, err := stampPDF(data, title, m, at); err == nil {
			return pdf, nil
		}
	}
	pages, err := copyText(ctx, mediaType, data)
	if err != nil {
		return nil, err
	}
	return renderPDF(title, pages, m, at)
}

// copyText returns the pages of text a copy renders from a file: a text
// file's own (form feeds starting pages), a PDF's as pdftotext (poppler-
// utils) reads it, page by page. Other files cannot be rendered into a
// marked copy here (errs.ErrConflict says so).
func copyText(ctx context.Context, mediaType string, data []byte) ([]string, error) {
	mt, _, _ := mime.ParseMediaType(mediaType)
	var text string
	switch {
	case strings.HasPrefix(mt, "text/"):
		if !utf8.Valid(data) {
			return nil, fmt.Errorf("%w: the text file is not UTF-8 and cannot be rendered into a copy", errs.ErrConflict)
		}
		text = string(data)
	case mt == "application/pdf":
		path, err := exec.LookPath("pdftotext")
		if err != nil {
			return nil, fmt.Errorf("%w: pdftotext (poppler-utils) is not installed, so a PDF cannot be rendered into a marked copy", errs.ErrConflict)
		}
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, path, "-enc", "UTF-8", "-layout", "-", "-")
		cmd.Stdin = bytes.NewReader(data)
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err != nil {
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				return nil, fmt.Errorf("%w: the PDF could not be read (%s)", errs.ErrConflict, strings.TrimSpace(stderr.String()))
			}
			return nil, fmt.Errorf("records: run pdftotext: %w", err)
		}
		text = strings.ToValidUTF8(out.String(), "")
	default:
		return nil, fmt.Errorf("%w: a file of type %s cannot be rendered into a marked copy; only PDF and text files can", errs.ErrConflict, mt)
	}
	if len(text) > maxCopyText {
		return nil, fmt.Errorf("%w: the document's text is %d bytes, more than a copy renders (%d)", errs.ErrConflict, len(text), maxCopyText)
	}
	pages := strings.Split(strings.TrimRight(text, "\f\n"), "\f")
	return pages, nil
}
