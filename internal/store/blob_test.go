package store

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"chancery/internal/errs"
)

// MustOpenBucket opens blob storage for a test and closes it when the test
// ends.
func MustOpenBucket(tb testing.TB, rawURL, dataDir string) *blob.Bucket {
	tb.Helper()
	b, err := OpenBucket(context.Background(), rawURL, dataDir)
	if err != nil {
		tb.Fatalf("OpenBucket(%q): %v", rawURL, err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}

func TestOpenBucketBlobRoundTrip(t *testing.T) {
	dataDir := t.TempDir()
	abs := filepath.Join(t.TempDir(), "elsewhere", "blobs")
	tests := []struct {
		name, url string
		dir       string // where the blobs must land on disk; "" for none
	}{
		{"data directory", "", filepath.Join(dataDir, "blobs")},
		{"file URL", "file://" + filepath.ToSlash(abs), abs},
		{"memory", "mem://", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			b := MustOpenBucket(t, tt.url, dataDir)
			keys := []string{"records/1/body", "records/1/scan", "records/2/body"}
			for _, k := range keys {
				if err := b.WriteAll(ctx, k, []byte("content of "+k), nil); err != nil {
					t.Fatalf("WriteAll(%s): %v", k, err)
				}
			}
			got, err := b.ReadAll(ctx, "records/1/scan")
			if err != nil || string(got) != "content of records/1/scan" {
				t.Fatalf("ReadAll = %q, %v", got, err)
			}

			if listed := listKeys(t, b, "records/1/"); !slices.Equal(listed, keys[:2]) {
				t.Errorf("List(records/1/) = %v, want %v", listed, keys[:2])
			}

			if err := b.Delete(ctx, "records/1/body"); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if _, err := b.ReadAll(ctx, "records/1/body"); gcerrors.Code(err) != gcerrors.NotFound {
				t.Errorf("ReadAll after Delete: err = %v, want NotFound", err)
			}
			if listed := listKeys(t, b, ""); !slices.Equal(listed, keys[1:]) {
				t.Errorf("List after Delete = %v, want %v", listed, keys[1:])
			}

			if tt.dir == "" {
				return
			}
			onDisk, err := os.ReadFile(filepath.Join(tt.dir, "records", "2", "body"))
			if err != nil || string(onDisk) != "content of records/2/body" {
				t.Errorf("blob on disk = %q, %v", onDisk, err)
			}
			fi, err := os.Stat(tt.dir)
			if err != nil {
				t.Fatal(err)
			}
			if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
				t.Errorf("blob directory has mode %v, want 0700", fi.Mode().Perm())
			}
		})
	}
}

func listKeys(t *testing.T, b *blob.Bucket, prefix string) []string {
	t.Helper()
	var keys []string
	it := b.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(context.Background())
		if err == io.EOF {
			return keys
		}
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		keys = append(keys, obj.Key)
	}
}

func TestOpenBucketBlobBadURLsSayWhatIsExpected(t *testing.T) {
	tests := []struct {
		name, url, dataDir string
		want               []string // substrings of the error
	}{
		{"unsupported scheme", "gs://bucket", "", []string{`unsupported scheme "gs"`, "s3://bucket"}},
		{"plain path", "/var/lib/chancery/blobs", "", []string{`unsupported scheme ""`, "file:///dir"}},
		{"s3 without bucket", "s3://?region=eu-west-1", "", []string{"no bucket name"}},
		{"unknown s3 parameter", "s3://bucket?region=x&colour=blue", "", []string{"colour", "file:///dir"}},
		{"password redacted", "ftp://user:hunter2@host/x", "", []string{"unsupported scheme", "user:xxxxx@"}},
		{"nothing at all", "", "", []string{"no URL and no data directory"}},
		{"missing directory", "file:///nonexistent/dir?create_dir=", "", []string{"/nonexistent/dir", "file:///dir"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := OpenBucket(context.Background(), tt.url, tt.dataDir)
			if err == nil {
				b.Close()
				t.Fatalf("OpenBucket(%q) succeeded", tt.url)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestBlobKey(t *testing.T) {
	tests := []struct {
		name  string
		parts []string
		want  string // "" when BlobKey must refuse
	}{
		{"one part", []string{"abc"}, "abc"},
		{"several parts", []string{"records", "2025", "0198c3e1-7f2a", "body"}, "records/2025/0198c3e1-7f2a/body"},
		{"dots inside a part", []string{"scan.v2.pdf"}, "scan.v2.pdf"},
		{"unicode", []string{"hồ-sơ", "công-văn"}, "hồ-sơ/công-văn"},
		{"no parts", nil, ""},
		{"empty part", []string{"records", "", "x"}, ""},
		{"dot", []string{"records", ".", "x"}, ""},
		{"dot dot", []string{"records", "..", "secret"}, ""},
		{"slash", []string{"records/../../etc"}, ""},
		{"leading slash", []string{"/etc"}, ""},
		{"backslash", []string{`..\..\windows`}, ""},
		{"NUL", []string{"a\x00b"}, ""},
		{"newline", []string{"a\nb"}, ""},
		{"DEL", []string{"a\x7fb"}, ""},
		{"C1 control", []string{"a\u0085b"}, ""},
		{"invalid UTF-8", []string{"a\xffb"}, ""},
		{"metadata suffix", []string{"body.attrs"}, ""},
		{"too long", []string{strings.Repeat("a", 600), strings.Repeat("b", 600)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BlobKey(tt.parts...)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("BlobKey(%q) = %q, want an error", tt.parts, got)
				}
				if !errors.Is(err, errs.ErrInvalid) {
					t.Errorf("error %v does not wrap errs.ErrInvalid", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("BlobKey(%q) = %q, %v; want %q", tt.parts, got, err, tt.want)
			}
		})
	}
}

func FuzzBlobKey(f *testing.F) {
	for _, s := range []string{"records", "..", "a/b", `a\b`, "a\x00", "x.attrs"} {
		f.Add(s, "body")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		key, err := BlobKey(a, b)
		if err != nil {
			return
		}
		// An accepted key never climbs out of, or collapses within, the
		// key space.
		if filepath.Clean("/"+key) != "/"+key || strings.ContainsAny(key, "\\\x00") {
			t.Errorf("BlobKey(%q, %q) accepted %q", a, b, key)
		}
	})
}
