package web

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"chancery/internal/errs"
)

// decodeTarget is a request body as handlers declare them.
type decodeTarget struct {
	Name  string   `json:"name"`
	Count int      `json:"count"`
	Tags  []string `json:"tags"`
	Inner struct {
		OK bool `json:"ok"`
	} `json:"inner"`
}

func jsonRequest(body, contentType string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api/v1/things", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func TestDecodeJSONRefusesBadBodiesWithAnInvalidError(t *testing.T) {
	tests := []struct {
		name, body, contentType string
		field                   string // the FieldError's field, when the error names one
		detail                  string // a part of the message the caller must see
	}{
		{name: "malformed", body: `{"name": "a",}`, detail: "malformed JSON at byte"},
		{name: "unterminated", body: `{"name": "a"`, detail: "ends too soon"},
		{name: "unknown field", body: `{"name": "a", "colour": "red"}`, field: "colour", detail: "unknown field"},
		{name: "unknown nested field", body: `{"inner": {"ok": true, "extra": 1}}`, field: "extra", detail: "unknown field"},
		{name: "string for number", body: `{"count": "three"}`, field: "count", detail: "must be a number, not string"},
		{name: "number for string", body: `{"name": 7}`, field: "name", detail: "must be a string, not number"},
		{name: "object for array", body: `{"tags": {}}`, field: "tags", detail: "must be an array, not object"},
		{name: "nested wrong type", body: `{"inner": {"ok": "yes"}}`, field: "inner.ok", detail: "must be true or false, not string"},
		{name: "array for object", body: `[1, 2]`, detail: "the body must be an object"},
		{name: "invalid UTF-8", body: "{\"name\": \"\xff\xfe\"}", detail: "not valid UTF-8"},
		{name: "trailing value", body: `{"name": "a"} {"name": "b"}`, detail: "more than one JSON value"},
		{name: "trailing garbage", body: `{"name": "a"} x`, detail: "more than one JSON value"},
		{name: "trailing closing brace", body: `{"name": "a"}}`, detail: "more than one JSON value"},
		{name: "trailing closing bracket", body: `{"name": "a"}]`, detail: "more than one JSON value"},
		{name: "empty", body: ``, detail: "body is empty"},
		{name: "only whitespace", body: " \n\t ", detail: "body is empty"},
		{name: "form content type", body: `{"name": "a"}`, contentType: "application/x-www-form-urlencoded", detail: "must be application/json"},
		{name: "text content type", body: `{"name": "a"}`, contentType: "text/plain", detail: "must be application/json"},
		{name: "long content type is clipped", body: `{"name": "a"}`, contentType: "text/" + strings.Repeat("x", 5000), detail: strings.Repeat("x", 70) + "…\""},
		{name: "duplicate key", body: `{"name": "a", "name": "b"}`, field: "name", detail: "sent twice"},
		{name: "case-variant key", body: `{"name": "a", "NAME": "b"}`, field: "NAME", detail: "also as \"name\""},
		{name: "duplicate nested key", body: `{"inner": {"ok": true, "Ok": false}}`, field: "inner.Ok", detail: "sent twice"},
		{name: "NUL", body: `{"name": "a\u0000b"}`, field: "name", detail: "control characters"},
		{name: "escape character", body: `{"tags": ["a", "\u001b[2J"]}`, field: "tags[1]", detail: "control characters"},
		{name: "C1 control", body: `{"name": "a\u0085"}`, field: "name", detail: "control characters"},
		{name: "NUL in a key", body: `{"na\u0000me": "a"}`, field: "na\ufffdme", detail: "the key must not contain control"},
		{name: "bidi override", body: `{"name": "abc\u202edef"}`, field: "name", detail: "bidirectional"},
		{name: "bidi isolate", body: `{"name": "abc\u2067def"}`, field: "name", detail: "bidirectional"},
		{name: "zero-width space", body: `{"name": "ad\u200bmin"}`, field: "name", detail: "zero-width"},
		{name: "byte order mark", body: `{"name": "\ufeffadmin"}`, field: "name", detail: "zero-width"},
		{name: "long number echo is clipped", body: `{"count": ` + strings.Repeat("9", 5000) + `}`, field: "count", detail: strings.Repeat("9", 60) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := tt.contentType
			if ct == "" {
				ct = "application/json"
			}
			var dst decodeTarget
			err := DecodeJSON(jsonRequest(tt.body, ct), &dst)
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("DecodeJSON(%q) = %v, want an ErrInvalid error", tt.body, err)
			}
			if Status(err) != http.StatusBadRequest {
				t.Errorf("Status(%v) = %d, want 400", err, Status(err))
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("error %q does not say %q", err, tt.detail)
			}
			var fe *errs.FieldError
			switch {
			case tt.field != "" && !errors.As(err, &fe):
				t.Errorf("error %v is not a FieldError naming %q", err, tt.field)
			case tt.field != "" && fe.Field != tt.field:
				t.Errorf("FieldError names %q, want %q", fe.Field, tt.field)
			case tt.field == "" && errors.As(err, &fe):
				t.Errorf("error %v names field %q; the body as a whole is wrong", err, fe.Field)
			}
		})
	}
}

func TestDecodeJSONAcceptsOneValueWithOrWithoutContentType(t *testing.T) {
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", ""} {
		t.Run(ct, func(t *testing.T) {
			r := jsonRequest(`{"name": "Hà Nội", "count": 3, "tags": ["a"], "inner": {"ok": true}}`+"\n", ct)
			var dst decodeTarget
			if err := DecodeJSON(r, &dst); err != nil {
				t.Fatalf("DecodeJSON: %v", err)
			}
			if dst.Name != "Hà Nội" || dst.Count != 3 || len(dst.Tags) != 1 || !dst.Inner.OK {
				t.Errorf("decoded %+v", dst)
			}
		})
	}
}

func TestDecodeJSONRefusesAnOversizeBodyAsTooLarge(t *testing.T) {
	big := `{"name": "` + strings.Repeat("a", MaxJSONBody) + `"}`
	t.Run("over MaxJSONBody", func(t *testing.T) {
		err := DecodeJSON(jsonRequest(big, "application/json"), &decodeTarget{})
		if !errors.Is(err, errs.ErrTooLarge) || Status(err) != http.StatusRequestEntityTooLarge {
			t.Fatalf("DecodeJSON(%d bytes) = %v, want ErrTooLarge (413)", len(big), err)
		}
	})
	t.Run("over the LimitBody middleware's cap", func(t *testing.T) {
		r := jsonRequest(`{"name": "`+strings.Repeat("a", 200)+`"}`, "application/json")
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 100)
		err := DecodeJSON(r, &decodeTarget{})
		if !errors.Is(err, errs.ErrTooLarge) {
			t.Fatalf("DecodeJSON past a MaxBytesReader = %v, want ErrTooLarge", err)
		}
	})
	t.Run("exactly at the limit", func(t *testing.T) {
		body := `{"name": "` + strings.Repeat("a", 100-len(`{"name": ""}`)) + `"}`
		if err := DecodeJSONBytes([]byte(body), &decodeTarget{}, int64(len(body))); err != nil {
			t.Fatalf("DecodeJSONBytes at exactly the limit: %v", err)
		}
		if err := DecodeJSONBytes([]byte(body), &decodeTarget{}, int64(len(body)-1)); !errors.Is(err, errs.ErrTooLarge) {
			t.Fatalf("DecodeJSONBytes one byte over the limit = %v, want ErrTooLarge", err)
		}
	})
}

// FuzzDecodeJSON pins that no body, however hostile, panics the decoder or
// escapes as an internal (500) error: every refusal is ErrInvalid or
// ErrTooLarge.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"name": "a", "count": 1, "tags": ["x"], "inner": {"ok": true}}`,
		`{"name": "a",}`, `{"colour": 1}`, `{"count": "x"}`, `[]`, `null`, `"s"`, `1e999`,
		`{"count": 1e40}`, `{"name": "\ud800"}`, "{\"name\": \"\xff\"}", `{}}`, `{} {}`, ``, ` `,
		`{"inner": {"ok": null}}`, `{"tags": [1]}`, `{"name": "a"` + strings.Repeat(" ", 10),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst decodeTarget
		err := DecodeJSONBytes(body, &dst, 4096)
		if err == nil {
			return
		}
		if !errors.Is(err, errs.ErrInvalid) && !errors.Is(err, errs.ErrTooLarge) {
			t.Fatalf("DecodeJSONBytes(%q) = %v, of neither kind ErrInvalid nor ErrTooLarge", body, err)
		}
		if s := Status(err); s != http.StatusBadRequest && s != http.StatusRequestEntityTooLarge {
			t.Fatalf("DecodeJSONBytes(%q) maps to status %d", body, s)
		}
	})
}

// A field of an embedded struct is named as the client sent it, not by the
// Go types that hold it (apiSubmissionRequest.apiDraftRequest.form).
func TestDecodeJSONNamesFieldsAsTheClientSentThem(t *testing.T) {
	type draft struct {
		Form map[string]any `json:"form"`
	}
	type submission struct {
		draft
		Items []struct {
			Note string `json:"note"`
		} `json:"items"`
	}
	for body, want := range map[string]string{
		`{"form": "x"}`: "form",
		`{"items": [{"note": "a"}, {"note": 1}]}`: "items[1].note",
	} {
		var dst submission
		var fe *errs.FieldError
		if err := DecodeJSONBytes([]byte(body), &dst, MaxJSONBody); !errors.As(err, &fe) || fe.Field != want {
			t.Errorf("DecodeJSONBytes(%s) = %v, want a FieldError naming %q", body, err, want)
		}
	}
}
