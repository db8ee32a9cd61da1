package records

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"chancery/internal/errs"
	"chancery/internal/web"
)

// The console's forms that carry a document's file (a new draft, a new
// version) are multipart: the CSRF middleware has read the token from the
// first part, and the rest is read here part by part, each field bounded,
// the file at most MaxContent.

// draftMaxField bounds one text field of a multipart form.
const draftMaxField = 64 << 10

// draftMaxBody bounds a whole multipart form: the file and its fields.
const draftMaxBody = MaxContent + 1<<20

// IsDraftUpload reports whether r carries a document's file to a drafting
// page, which the app's general body limit must let through (the handler
// holds the body to draftMaxBody itself).
func IsDraftUpload(r *http.Request) bool {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/console/documents/") {
		return false
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "multipart/form-data" && (r.URL.Path == consoleNewDraftPath || strings.HasSuffix(r.URL.Path, "/drafting/versions"))
}

// readDraftForm reads a multipart form: its text fields, and the file of
// the part named file (nil when none was chosen). The file's media type is
// what its first bytes say it is, not what the browser claimed.
func readDraftForm(w http.ResponseWriter, r *http.Request) (url.Values, *Content, error) {
	r.Body = http.MaxBytesReader(w, r.Body, draftMaxBody)
	mr, err := web.MultipartReader(r)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: send the form as multipart/form-data", errs.ErrInvalid)
	}
	values := url.Values{}
	var c *Content
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, draftTooLargeOr(err, "the form could not be read")
		}
		name := part.FormName()
		if name == "file" && part.FileName() != "" {
			data, err := io.ReadAll(io.LimitReader(part, MaxContent+1))
			if err != nil {
				return nil, nil, draftTooLargeOr(err, "the file could not be read")
			}
			if len(data) > MaxContent {
				return nil, nil, fmt.Errorf("%w: the file is over %d MiB", errs.ErrTooLarge, MaxContent>>20)
			}
			if len(data) == 0 {
				continue // no file chosen, or an empty one: checked by the service when required
			}
			mt, _, _ := mime.ParseMediaType(http.DetectContentType(data))
			c = &Content{Filename: draftFileName(part.FileName()), MediaType: mt, Data: data}
			if mt == "text/plain" {
				c.Text = string(data)
			}
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, draftMaxField+1))
		if err != nil {
			return nil, nil, draftTooLargeOr(err, "the form could not be read")
		}
		if len(v) > draftMaxField {
			return nil, nil, errs.Invalid(name, fmt.Sprintf("is over %d KiB", draftMaxField>>10))
		}
		values.Add(name, string(v))
	}
	return values, c, nil
}

func draftTooLargeOr(err error, what string) error {
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return fmt.Errorf("%w: the form is over %d MiB", errs.ErrTooLarge, draftMaxBody>>20)
	}
	return fmt.Errorf("%w: %s: %v", errs.ErrInvalid, what, err)
}

// draftFileName is a browser's file name without any path it sent.
func draftFileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return name
}
