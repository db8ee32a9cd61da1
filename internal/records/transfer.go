package records

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// Transfer is a package of case files delivered to the historical
// archive (Law on Archives 33/2024, see retention.go).
type Transfer struct {
	ID        int64     `json:"id"`
	UnitID    int64     `json:"unit_id"`
	CreatedBy int64     `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	CaseFiles int       `json:"case_files"`
	SHA256    string    `json:"sha256"`
	Size      int       `json:"size"`
}

// transferXML is the package's metadata.xml.
type transferXML struct {
	XMLName   xml.Name          `xml:"transfer"`
	Unit      int64             `xml:"unit,attr"`
	Created   string            `xml:"created,attr"`
	CaseFiles []transferCaseXML `xml:"caseFile"`
}

type transferCaseXML struct {
	Code      string           `xml:"code,attr"`
	Year      int              `xml:"year,attr"`
	Retention string           `xml:"retention,attr"`
	Closed    string           `xml:"closed,attr"`
	Title     string           `xml:"title"`
	Documents []transferDocXML `xml:"document"`
}

type transferDocXML struct {
	ID        int64  `xml:"id,attr"`
	Direction string `xml:"direction,attr"`
	Type      string `xml:"type,attr"`
	Number    string `xml:"number,omitempty"`
	Date      string `xml:"date,omitempty"`
	Sender    string `xml:"sender,omitempty"`
	Subject   string `xml:"subject"`
	File      string `xml:"file,omitempty"`
	SHA256    string `xml:"sha256,omitempty"`
	Destroyed bool   `xml:"destroyed,omitempty"`
}

// maxTransferBytes bounds a transfer package held in the database.
const maxTransferBytes = 512 << 20

// TransferCaseFiles packs case files of the caller's unit kept
// permanently, closed and under no legal hold, into a transfer package
// for the historical archive, stores it with its digest and marks them
// transferred, in one transaction. A case file holding a document still
// classified is refused (errs.ErrConflict): state secrets are declassified
// before they leave the agency's keeping. A case file of another unit
// answers as missing.
func (s *Service) TransferCaseFiles(ctx context.Context, sub authz.Subject, ids []int64) (*Transfer, error) {
	o, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 || len(ids) > 500 {
		return nil, errs.Invalid("case_files", "list 1 to 500 case files")
	}
	if err := decideDisposition(sub, authz.Create, sub.Unit, strconv.FormatInt(sub.Unit, 10), errNoDisposal(0)); err != nil {
		return nil, err
	}
	now := s.now()
	t := &Transfer{UnitID: sub.Unit, CreatedBy: sub.ID, CreatedAt: now, CaseFiles: len(ids)}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		schedules, err := listSchedules(ctx, tx, sub.Unit)
		if err != nil {
			return err
		}
		meta := transferXML{Unit: sub.Unit, Created: now.Format(time.RFC3339)}
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		var manifest strings.Builder
		add := func(name string, data []byte) error {
			w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
			if err != nil {
				return err
			}
			if _, err := w.Write(data); err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			fmt.Fprintf(&manifest, "%s  %s\n", hex.EncodeToString(sum[:]), name)
			return nil
		}
		seen := map[int64]bool{}
		for _, id := range ids {
			if seen[id] {
				return errs.Invalid("case_files", fmt.Sprintf("case file %d is listed twice", id))
			}
			seen[id] = true
			cx, err := s.packCaseFile(ctx, tx, sub, id, schedules, add)
			if err != nil {
				return err
			}
			meta.CaseFiles = append(meta.CaseFiles, cx)
			if err := setDisposition(ctx, tx, id, DispositionTransferred, now); err != nil {
				return err
			}
		}
		x, err := xml.MarshalIndent(meta, "", "  ")
		if err != nil {
			return err
		}
		if err := add("metadata.xml", append([]byte(xml.Header), x...)); err != nil {
			return err
		}
		if err := add("manifest-sha256.txt", []byte(manifest.String())); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		if buf.Len() > maxTransferBytes {
			return fmt.Errorf("%w: the package would be %d bytes; transfer fewer case files at once", errs.ErrTooLarge, buf.Len())
		}
		sum := sha256.Sum256(buf.Bytes())
		t.SHA256, t.Size = hex.EncodeToString(sum[:]), buf.Len()
		if err := insertTransfer(ctx, tx, t, sum[:], buf.Bytes()); err != nil {
			return err
		}
		e := o.Event("records.transfer")
		e.ResourceType, e.ResourceID, e.UnitID = "transfer", strconv.FormatInt(t.ID, 10), t.UnitID
		e.Attrs = map[string]string{"case_files": strconv.Itoa(len(ids)), "sha256": t.SHA256}
		return s.opts.Recorder.AppendTx(ctx, tx, e)
	})
	if err != nil {
		return nil, fmt.Errorf("records: transfer: %w", err)
	}
	return t, nil
}

// packCaseFile adds one case file's documents to a package and returns
// its metadata, after checking it may be transferred.
func (s *Service) packCaseFile(ctx context.Context, tx *store.Tx, sub authz.Subject, id int64, schedules []Schedule,
	add func(string, []byte) error) (transferCaseXML, error) {
	cf, err := loadCaseFile(ctx, tx, id, true)
	if err != nil {
		return transferCaseXML{}, err
	}
	if err := decideDisposition(sub, authz.Create, cf.UnitID, strconv.FormatInt(id, 10), errNoCaseFile(id)); err != nil {
		return transferCaseXML{}, err
	}
	disp, err := caseFileDisposition(ctx, tx, id)
	if err != nil {
		return transferCaseXML{}, err
	}
	holds, err := listHolds(ctx, tx, caseFileHolds, id, true)
	if err != nil {
		return transferCaseXML{}, err
	}
	held, err := heldDocuments(ctx, tx, id)
	if err != nil {
		return transferCaseXML{}, err
	}
	switch {
	case disp != "":
		return transferCaseXML{}, fmt.Errorf("%w: case file %s was already %s", errs.ErrConflict, cf.Code, disp)
	case cf.ClosedAt.IsZero():
		return transferCaseXML{}, fmt.Errorf("%w: case file %s is open; close it first", errs.ErrConflict, cf.Code)
	case retentionOf(cf, schedules) != Permanent:
		return transferCaseXML{}, fmt.Errorf("%w: case file %s is kept for a number of years; only permanent ones go to the historical archive", errs.ErrConflict, cf.Code)
	case len(holds) > 0:
		return transferCaseXML{}, fmt.Errorf("%w: case file %s is under a legal hold (%s)", errs.ErrConflict, cf.Code, holds[0].Reason)
	case len(held) > 0:
		// Which one is not said, as below.
		return transferCaseXML{}, fmt.Errorf("%w: a document of case file %s is under a legal hold; lift it before the transfer", errs.ErrConflict, cf.Code)
	}
	cx := transferCaseXML{Code: cf.Code, Year: cf.Year, Retention: "permanent", Closed: cf.ClosedAt.Format(time.RFC3339), Title: cf.Title}
	docIDs, err := int64s(ctx, tx, `SELECT document_id FROM record_filings WHERE case_file_id = ? ORDER BY document_id`, id)
	if err != nil {
		return transferCaseXML{}, err
	}
	for _, docID := range docIDs {
		r, err := loadDocument(ctx, tx, docID, s.now(), false)
		if err != nil {
			return transferCaseXML{}, err
		}
		if r.Classification > authz.Unclassified {
			// Which one is not said: the archivist may not be cleared
			// for it.
			return transferCaseXML{}, fmt.Errorf("%w: case file %s holds a document still classified; declassify it before the transfer", errs.ErrConflict, cf.Code)
		}
		dx := transferDocXML{ID: r.ID, Direction: string(r.Direction), Type: r.Type, Number: r.Number, Sender: r.Sender, Subject: r.Subject}
		if !r.Date.IsZero() {
			dx.Date = r.Date.In(registerZone()).Format("2006-01-02")
		}
		c, ok, err := loadContent(ctx, tx, docID)
		switch {
		case err != nil:
			return transferCaseXML{}, err
		case ok && !c.Shredded.IsZero():
			dx.Destroyed = true
		case ok:
			data, err := openContent(ctx, s.opts.Ring, docID, &c)
			if err != nil {
				return transferCaseXML{}, err
			}
			// The name inside the package is made here, never the
			// uploaded one, so no path in it can escape the folder.
			dx.File = path.Join("files", strconv.FormatInt(cf.ID, 10), strconv.FormatInt(docID, 10)+safeExt(c.Filename))
			sum := sha256.Sum256(data)
			dx.SHA256 = hex.EncodeToString(sum[:])
			if err := add(dx.File, data); err != nil {
				return transferCaseXML{}, err
			}
		}
		cx.Documents = append(cx.Documents, dx)
	}
	return cx, nil
}

// safeExt returns a file name's extension if it is short and of ASCII
// letters and digits, else "".
func safeExt(name string) string {
	ext := path.Ext(name)
	if len(ext) < 2 || len(ext) > 9 {
		return ""
	}
	for _, r := range ext[1:] {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return ""
		}
	}
	return strings.ToLower(ext)
}

// Transfers returns a unit's transfer packages, newest first.
func (s *Service) Transfers(ctx context.Context, sub authz.Subject, unit int64) ([]Transfer, error) {
	if err := decideDisposition(sub, authz.Read, unit, strconv.FormatInt(unit, 10), fmt.Errorf("%w: no schedule of unit %d", errNotFound, unit)); err != nil {
		return nil, err
	}
	return listTransfers(ctx, s.db, unit)
}

// TransferPackage returns a transfer package's zip.
func (s *Service) TransferPackage(ctx context.Context, sub authz.Subject, id int64) ([]byte, error) {
	unit, data, err := loadTransferPackage(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if err := decideDisposition(sub, authz.Read, unit, strconv.FormatInt(id, 10), errNoTransfer(id)); err != nil {
		return nil, err
	}
	return data, nil
}

func errNoTransfer(id int64) error { return fmt.Errorf("%w: no transfer %d", errNotFound, id) }
