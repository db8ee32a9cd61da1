package procedures

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"

	"chancery/internal/errs"
	"chancery/internal/web"
)

// Bounds on what a page's multipart form holds besides its files.
const (
	// pageFieldBytes bounds the form's fields added up: a dossier's
	// form as a clerk enters it.
	pageFieldBytes = 1 << 20
	// pageParts bounds the parts of the body.
	pageParts = 500
)

// pageForm is a page's multipart/form-data form, read as it streams
// (readPageForm): its fields, and its files stored in blob storage as
// they arrived.
type pageForm struct {
	values url.Values
	files  map[string][]Upload // by input name
}

// uploads returns every file of the form, in no particular order.
func (f pageForm) uploads() []Upload {
	var out []Upload
	for _, ups := range f.files {
		out = append(out, ups...)
	}
	return out
}

// pageFileError is the refusal of a file of a page's form, naming its
// input; it wraps the *UploadError or the failure to receive the file.
type pageFileError struct {
	input string
	err   error
}

func (e *pageFileError) Error() string { return e.input + ": " + e.err.Error() }
func (e *pageFileError) Unwrap() error { return e.err }

// readPageForm reads a page's multipart/form-data body part by part, so
// that no file is held whole in memory or written anywhere in plain: the
// fields go into values (at most pageFieldBytes in all), and each file of
// an input that fileInput accepts is checked and stored as it streams
// (StoreUpload), at most MaxDossierFiles of them. An input left empty is
// skipped. The body's limit is the server's for uploads
// (MaxSubmissionBytes); each file is held to MaxAttachmentBytes as it
// streams.
//
// It returns http.ErrNotMultipart for a body of another type, a
// *pageFileError for the first refused file (wrapping its UploadError),
// having read the fields after it, and errors wrapping errs.ErrTooLarge
// or errs.ErrInvalid for a body over its limit or malformed. On an error,
// the files stored are discarded.
func (h *Handler) readPageForm(r *http.Request, fileInput func(name string) bool) (f pageForm, err error) {
	f = pageForm{values: url.Values{}, files: map[string][]Upload{}}
	defer func() {
		if err != nil {
			h.svc.DiscardUploads(r.Context(), f.uploads())
			clear(f.files)
		}
	}()
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		return f, http.ErrNotMultipart
	}
	mr, err := web.MultipartReader(r)
	if err != nil {
		return f, fmt.Errorf("%w: the form could not be read: %v", errs.ErrInvalid, err)
	}
	fieldBytes, files := 0, 0
	var refused error // the first file refused
	for parts := 0; ; parts++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return f, refused
		}
		if err != nil {
			return f, apiBodyError(err)
		}
		name := part.FormName()
		if parts == pageParts || name == "" {
			return f, fmt.Errorf("%w: the form has more parts than its page sends, or one without a name", errs.ErrInvalid)
		}
		if _, params, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition")); params != nil && hasKey(params, "filename") {
			if !fileInput(name) {
				return f, fmt.Errorf("%w: the form sent a file as %q, which takes no file", errs.ErrInvalid, name)
			}
			if part.FileName() == "" || refused != nil {
				// The browser sends an empty part for an input left
				// empty; after a refusal, files are skipped.
				continue
			}
			if files++; files > MaxDossierFiles {
				refused = &pageFileError{name, fmt.Errorf("%w: a dossier holds at most %d files", errs.ErrTooLarge, MaxDossierFiles)}
				continue
			}
			up, err := h.storePart(r.Context(), part, "")
			if _, ok := errors.AsType[*UploadError](err); ok {
				// Read on, for the fields after the file, to show the
				// form again as it was filled.
				refused = &pageFileError{name, err}
				continue
			}
			if err != nil {
				return f, &pageFileError{name, err}
			}
			f.files[name] = append(f.files[name], up)
			continue
		}
		value, err := io.ReadAll(io.LimitReader(part, int64(pageFieldBytes-fieldBytes+1)))
		if err != nil {
			return f, apiBodyError(err)
		}
		if fieldBytes += len(value); fieldBytes > pageFieldBytes {
			return f, fmt.Errorf("%w: the form's fields are over %d KiB", errs.ErrTooLarge, pageFieldBytes>>10)
		}
		f.values.Add(name, string(value))
	}
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}
