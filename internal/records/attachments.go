package records

import (
	"context"
	"crypto/cipher"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
)

// A document's files beyond its main one: every other file of an incoming
// edXML package (QCVN 102's Attachment elements, in the package's order),
// numbered from 2 (the main file, record_contents, being the first). Each
// is sealed under the document's one data key, so that a level change
// re-wraps and a destruction crypto-shreds them with the main file, and
// is read with the document's own rules (ContentOf's): whoever may not
// read the document learns nothing of them.

// Attachment numbers start after the main file's.
const firstAttachment = 2

// AttachmentInfo is one of a document's other files.
type AttachmentInfo struct {
	Seq int `json:"seq"`
	ContentInfo
}

// attachmentAD binds an attachment's sealed bytes to its document and
// number.
func attachmentAD(docID int64, seq int) []byte {
	return []byte("records/attachment:" + strconv.FormatInt(docID, 10) + ":" + strconv.Itoa(seq))
}

// keepAttachments seals files, the files of document r beyond its main
// one, under r's data key (its main file stored in tx already) and
// stores them numbered from firstAttachment. A file whose type is not one
// a document's file may be is kept all the same, as bytes to download
// (application/octet-stream): the sender's package is kept whole.
func (s *Service) keepAttachments(ctx context.Context, tx *store.Tx, r *row, files []Attachment) error {
	if len(files) == 0 {
		return nil
	}
	c, ok, err := loadContent(ctx, tx, r.ID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("records: document %d has attachments but no main file", r.ID)
	}
	aead, err := s.contentAEAD(ctx, r.ID, c)
	if err != nil {
		return err
	}
	extract := false
	for i, f := range files {
		seq := firstAttachment + i
		info := ContentInfo{Filename: "tep-" + strconv.Itoa(seq), MediaType: "application/octet-stream", Size: int64(len(f.Data)), SHA256: sha256Sum(f.Data)}
		if checked, err := CheckFile(f.Name, f.MediaType, f.Data, UploadLimit); err == nil {
			info.Filename, info.MediaType = checked.Filename, checked.MediaType
		} else if name, err := checkFilename(f.Name); err == nil {
			info.Filename = name
		}
		sealed := aead.Seal(nil, nil, f.Data, attachmentAD(r.ID, seq))
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_attachments (document_id, seq, filename, media_type, size, sha256, sealed)
			VALUES (?, ?, ?, ?, ?, ?, ?)`), r.ID, seq, info.Filename, info.MediaType, info.Size, info.SHA256, sealed); err != nil {
			return fmt.Errorf("records: keep attachment %d of document %d: %w", seq, r.ID, err)
		}
		extract = extract || Sniff(f.Data, info.MediaType) != KindNone
	}
	// Their words are searched as the main file's are, in the document's
	// one index row (under its rules): the worker reads every file of an
	// unclassified document (extract_worker.go); a classified one's text
	// is never indexed.
	if extract && r.Classification == authz.Unclassified {
		return queueExtraction(ctx, tx, r.ID, s.now())
	}
	return nil
}

// contentAEAD is the cipher of document id's files, under its data key
// (c, its main file's, carries the key as wrapped).
func (s *Service) contentAEAD(ctx context.Context, id int64, c sealedContent) (cipher.AEAD, error) {
	dek, err := unwrapKey(ctx, s.opts.Ring, id, c.purpose, c.wrapped)
	if err != nil {
		return nil, err
	}
	return dataAEAD(dek)
}

// openAttachment opens attachment seq of document id, sealed.
func openAttachment(aead cipher.AEAD, id int64, seq int, sealed []byte) ([]byte, error) {
	data, err := aead.Open(nil, nil, sealed, attachmentAD(id, seq))
	if err != nil {
		return nil, fmt.Errorf("records: open attachment %d of document %d: %w", seq, id, err)
	}
	return data, nil
}

// attachmentFiles opens every other file of document id, in order; c is
// its main file's sealed content, which carries the data key.
func (s *Service) attachmentFiles(ctx context.Context, q store.Queryer, id int64, c sealedContent) ([]Attachment, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT seq, filename, media_type, sealed FROM record_attachments WHERE document_id = ? ORDER BY seq`), id)
	if err != nil {
		return nil, fmt.Errorf("records: attachments of document %d: %w", id, err)
	}
	type sealedFile struct {
		seq    int
		f      Attachment
		sealed []byte
	}
	var all []sealedFile
	for rows.Next() {
		var sf sealedFile
		if err := rows.Scan(&sf.seq, &sf.f.Name, &sf.f.MediaType, &sf.sealed); err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, sf)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(all) == 0 {
		return nil, err
	}
	aead, err := s.contentAEAD(ctx, id, c)
	if err != nil {
		return nil, err
	}
	out := make([]Attachment, len(all))
	for i, sf := range all {
		if sf.f.Data, err = openAttachment(aead, id, sf.seq, sf.sealed); err != nil {
			return nil, err
		}
		out[i] = sf.f
	}
	return out, nil
}

// listAttachments returns a document's other files, in order.
func listAttachments(ctx context.Context, q store.Queryer, docID int64) ([]AttachmentInfo, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT seq, filename, media_type, size, sha256 FROM record_attachments WHERE document_id = ? ORDER BY seq`), docID)
	if err != nil {
		return nil, fmt.Errorf("records: attachments of document %d: %w", docID, err)
	}
	defer rows.Close()
	out := []AttachmentInfo{}
	for rows.Next() {
		var a AttachmentInfo
		if err := rows.Scan(&a.Seq, &a.Filename, &a.MediaType, &a.Size, &a.SHA256); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AttachmentContent returns file seq of a document's other files to a
// caller who may read the document (to others it answers as ContentOf:
// as for a missing document), recording the download in the ledger at
// the document's level.
func (s *Service) AttachmentContent(ctx context.Context, sub authz.Subject, id int64, seq int) (ContentInfo, []byte, error) {
	r, c, err := s.readableContent(ctx, sub, id)
	if err != nil {
		return ContentInfo{}, nil, err
	}
	var a AttachmentInfo
	err = s.db.QueryRowContext(ctx, s.db.Rebind(`SELECT seq, filename, media_type, size, sha256, sealed FROM record_attachments WHERE document_id = ? AND seq = ?`),
		id, seq).Scan(&a.Seq, &a.Filename, &a.MediaType, &a.Size, &a.SHA256, &c.sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return ContentInfo{}, nil, fmt.Errorf("%w: document %d has no attachment %d", errs.ErrNotFound, id, seq)
	} else if err != nil {
		return ContentInfo{}, nil, fmt.Errorf("records: attachment %d of document %d: %w", seq, id, err)
	}
	aead, err := s.contentAEAD(ctx, id, c)
	if err != nil {
		return ContentInfo{}, nil, err
	}
	data, err := openAttachment(aead, id, seq, c.sealed)
	if err != nil {
		return ContentInfo{}, nil, err
	}
	if o, ok := audit.OriginFrom(ctx); ok && !o.Anonymous() {
		if _, err := s.opts.Recorder.Append(ctx, event(o, "document.download", r, map[string]string{"attachment": strconv.Itoa(seq)})); err != nil {
			return ContentInfo{}, nil, fmt.Errorf("records: record the download of document %d: %w", id, err)
		}
	}
	return a.ContentInfo, data, nil
}
