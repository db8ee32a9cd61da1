package store

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/memblob" // registers mem://, for tests
	_ "gocloud.dev/blob/s3blob"  // registers s3://

	"chancery/internal/errs"
)

// blobURLHint ends every error about a blob storage URL.
const blobURLHint = "expected file:///dir or s3://bucket?region=…[&endpoint=https://host&use_path_style=true], or empty for the data directory"

// OpenBucket opens the blob storage named by rawURL:
//
//   - empty: the directory blobs in dataDir, created with mode 0700 if needed;
//   - file:///abs/dir (or file://./rel/dir): that directory;
//   - s3://bucket?region=…: an S3 bucket, with credentials from the usual AWS
//     environment; add endpoint=https://host and use_path_style=true for an
//     S3-compatible service (MinIO, Ceph). See gocloud.dev/blob/s3blob for
//     the other parameters;
//   - mem://: a bucket in memory, for tests.
//
// For local directories, in-flight writes go to a temporary file beside their
// key (named key.<hex>.tmp) rather than in os.TempDir: a rename across file
// systems fails, and blob contents must not pass through a world-readable
// /tmp. Unless the URL says otherwise, OpenBucket creates the directory, with
// mode 0700.
//
// OpenBucket checks that the bucket is reachable, so a wrong address or
// credentials fail here rather than on the first upload. The caller must
// Close the bucket.
//
// Keys are made by the application, never taken from a request: build them
// with BlobKey.
func OpenBucket(ctx context.Context, rawURL string, dataDir string) (*blob.Bucket, error) {
	var (
		b     *blob.Bucket
		where string
		err   error
	)
	if rawURL == "" {
		if dataDir == "" {
			return nil, errors.New("store: open blob storage: no URL and no data directory")
		}
		where = filepath.Join(dataDir, "blobs")
		// No metadata sidecar: Chancery stores sealed bytes and reads no
		// blob attributes, and the sidecar doubles the files each write
		// creates, which is most of a write's cost on a slow disk.
		b, err = fileblob.OpenBucket(where, &fileblob.Options{CreateDir: true, DirFileMode: 0o700, NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
		if err != nil {
			return nil, fmt.Errorf("store: open blob storage %s: %w", where, err)
		}
	} else {
		u, perr := url.Parse(rawURL)
		if perr != nil {
			// url.Parse's error repeats the URL, which may hold a secret.
			return nil, fmt.Errorf("store: open blob storage: malformed URL; %s", blobURLHint)
		}
		where = u.Redacted()
		switch u.Scheme {
		case "file":
			q := u.Query()
			for k, v := range map[string]string{"create_dir": "1", "dir_file_mode": "0700", "no_tmp_dir": "1", "metadata": "skip"} {
				if !q.Has(k) {
					q.Set(k, v)
				}
			}
			u.RawQuery = q.Encode()
		case "s3":
			if u.Host == "" {
				return nil, fmt.Errorf("store: open blob storage %q: no bucket name; %s", where, blobURLHint)
			}
		case "mem":
		default:
			return nil, fmt.Errorf("store: open blob storage %q: unsupported scheme %q; %s", where, u.Scheme, blobURLHint)
		}
		b, err = blob.OpenBucket(ctx, u.String())
		if err != nil {
			return nil, fmt.Errorf("store: open blob storage %q: %w; %s", where, err, blobURLHint)
		}
	}
	ok, err := b.IsAccessible(ctx)
	if err == nil && !ok {
		err = errors.New("bucket or directory does not exist")
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("store: open blob storage %q: %w (check the address, credentials and permissions)", where, err)
	}
	return b, nil
}

// maxBlobKey is the longest key S3 accepts, in bytes.
const maxBlobKey = 1024

// BlobKey joins parts with "/" into a blob key after checking each one, so
// that no part can climb out of its place in the key space or be read
// differently by the file and S3 back ends. A part must be non-empty valid
// UTF-8 and must not be "." or "..", contain a slash, a backslash, NUL or
// another control character, or end in ".attrs" (the local back end's
// metadata files). The key must be at most 1024 bytes.
//
// BlobKey returns an error wrapping errs.ErrInvalid naming the first bad
// part. Parts should be identifiers the application made (a record id, a
// content hash), never a file name from a request.
func BlobKey(parts ...string) (string, error) {
	if len(parts) == 0 {
		return "", fmt.Errorf("%w: empty blob key", errs.ErrInvalid)
	}
	for i, p := range parts {
		if reason := badBlobKeyPart(p); reason != "" {
			return "", fmt.Errorf("%w: blob key part %d %q %s", errs.ErrInvalid, i+1, p, reason)
		}
	}
	key := strings.Join(parts, "/")
	if len(key) > maxBlobKey {
		return "", fmt.Errorf("%w: blob key is %d bytes, longer than %d", errs.ErrInvalid, len(key), maxBlobKey)
	}
	return key, nil
}

// badBlobKeyPart says what is wrong with p as part of a blob key, or returns
// "" if nothing is.
func badBlobKeyPart(p string) string {
	switch {
	case p == "":
		return "is empty"
	case p == "." || p == "..":
		return "is a relative path element"
	case !utf8.ValidString(p):
		return "is not valid UTF-8"
	case strings.HasSuffix(p, ".attrs"):
		return `ends in ".attrs"`
	}
	for _, r := range p {
		switch {
		case r == '/' || r == '\\':
			return "contains a slash"
		case unicode.IsControl(r):
			return "contains a control character"
		}
	}
	return ""
}

// WriteBlob writes data to key in b, all or nothing. Bucket.WriteAll is
// not: when a write fails part-way (a full disk), it still closes the
// writer, and a directory bucket then renames the truncated file into
// place under key. WriteBlob cancels the write instead, so that nothing
// is left under key, and returns the write's error, which
// errs.IsStorageFull recognises when the disk was full.
func WriteBlob(ctx context.Context, b *blob.Bucket, key string, data []byte, opts *blob.WriterOptions) error {
	o := blob.WriterOptions{}
	if opts != nil {
		o = *opts
	}
	if len(o.ContentMD5) == 0 {
		sum := md5.Sum(data)
		o.ContentMD5 = sum[:]
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := b.NewWriter(ctx, key, &o)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		cancel()
		w.Close() //nolint:errcheck // cancelled: it discards what was written
		return err
	}
	return w.Close()
}
