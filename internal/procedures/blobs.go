package procedures

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"

	"gocloud.dev/blob"

	"chancery/internal/store"
)

// StoreUpload reads a file from r and streams it, sealed, into blob
// storage, checking it as CheckUpload does on the way; it holds a few
// chunks of the file in memory, whatever its size. name and declaredType
// are what the client sent. The returned Upload, for the document with
// documentKey, is to be handed to Submit, Supplement or AttachToDraft,
// which list it or discard it, or to DiscardUploads.
//
// A refused file (CheckUpload's *UploadError), or one that could not be
// read or stored, leaves nothing stored.
func (s *Service) StoreUpload(ctx context.Context, documentKey, name, declaredType string, r io.Reader) (Upload, error) {
	key, err := newBlobKey()
	if err != nil {
		return Upload{}, err
	}
	var cu CheckedUpload
	err = s.writeBlob(ctx, key, func(w io.Writer) error {
		cu, err = CheckUpload(name, declaredType, r, w)
		return err
	})
	if err != nil {
		return Upload{}, err
	}
	up := cu.Upload(documentKey, nil)
	up.stored = &storedBlob{key: key, size: cu.Size}
	return up, nil
}

// DiscardUploads deletes the files StoreUpload stored for uploads that no
// dossier or draft took.
func (s *Service) DiscardUploads(ctx context.Context, ups []Upload) {
	for _, up := range ups {
		if up.stored != nil {
			s.deleteBlob(ctx, up.stored.key)
		}
	}
}

// discardOnError discards the stored uploads of a call that failed with
// err; it does nothing if err is nil.
func (s *Service) discardOnError(ctx context.Context, err error, ups []Upload) {
	if err != nil {
		s.DiscardUploads(ctx, ups)
	}
}

// newBlobKey returns a fresh key for an attachment's blob. The keys are
// fanned out over 256 directories by the id's first byte, so that no
// directory grows to hold every file the node ever took; they name no
// owner, since a file is stored as it arrives, before the request says
// (or the service checks) whose it is.
func newBlobKey() (string, error) {
	id := randomID()
	return store.BlobKey("procedures", "files", id[:2], id)
}

// writeBlob writes the blob key, sealed, with what fill writes: through
// the keyring's streaming seal into the bucket's writer, so that neither
// the plaintext nor the ciphertext is held whole. If fill or any write
// fails, the write is aborted and nothing is left under key.
func (s *Service) writeBlob(ctx context.Context, key string, fill func(io.Writer) error) error {
	// Cancelling a blob writer's context before Close aborts the write:
	// the file back end removes its temporary file, S3 its multipart
	// upload.
	wctx, abort := context.WithCancel(ctx)
	defer abort()
	bw, err := s.opts.Bucket.NewWriter(wctx, key, &blob.WriterOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return fmt.Errorf("procedures: store attachment: %w", err)
	}
	sw, err := s.opts.Ring.SealWriter(ctx, keyPurpose, bw, []byte("blob:"+key))
	if err == nil {
		if err = fill(sw); err == nil {
			err = sw.Close()
		}
	}
	if err != nil {
		abort()
		bw.Close() //nolint:errcheck // aborted: the error is err
		return err
	}
	if err := bw.Close(); err != nil {
		return fmt.Errorf("procedures: store attachment: %w", err)
	}
	return nil
}

// readBlob returns an attachment's content, checked against its digest.
func (s *Service) readBlob(ctx context.Context, a Attachment) ([]byte, error) {
	br, err := s.opts.Bucket.NewReader(ctx, a.blobKey, nil)
	if err != nil {
		return nil, fmt.Errorf("procedures: read attachment %d: %w", a.ID, err)
	}
	defer br.Close()
	plain, err := s.opts.Ring.OpenReader(ctx, keyPurpose, br, []byte("blob:"+a.blobKey))
	if err != nil {
		return nil, fmt.Errorf("procedures: open attachment %d: %w", a.ID, err)
	}
	content := bytes.NewBuffer(make([]byte, 0, min(a.Size, MaxAttachmentBytes)))
	if _, err := io.Copy(content, io.LimitReader(plain, MaxAttachmentBytes+1)); err != nil {
		return nil, fmt.Errorf("procedures: open attachment %d: %w", a.ID, err)
	}
	if sum := sha256.Sum256(content.Bytes()); !bytes.Equal(sum[:], a.SHA256) {
		return nil, fmt.Errorf("procedures: attachment %d does not match its recorded digest", a.ID)
	}
	return content.Bytes(), nil
}
