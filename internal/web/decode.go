package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"chancery/internal/errs"
)

// MaxJSONBody is the default limit on a JSON request body.
const MaxJSONBody = 1 << 20

// DecodeJSON reads r's body as exactly one JSON value into dst. It refuses,
// with an errs.ErrInvalid or errs.ErrTooLarge error that says what is
// wrong, a body that is not application/json, larger than MaxJSONBody,
// not valid UTF-8, malformed, of the wrong types, carrying fields dst does
// not have, or followed by more data.
func DecodeJSON(r *http.Request, dst any) error {
	return decodeJSON(r, dst, MaxJSONBody)
}

func decodeJSON(r *http.Request, dst any, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("%w: the body must be application/json, not %q", errs.ErrInvalid, ct)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("%w: the body is over the limit of %d bytes", errs.ErrTooLarge, mbe.Limit)
		}
		return fmt.Errorf("%w: read body: %v", errs.ErrInvalid, err)
	}
	return DecodeJSONBytes(body, dst, limit)
}

// DecodeJSONBytes is DecodeJSON on a body already read; fuzz tests call it.
func DecodeJSONBytes(body []byte, dst any, limit int64) error {
	if int64(len(body)) > limit {
		return fmt.Errorf("%w: the body is over the limit of %d bytes", errs.ErrTooLarge, limit)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return fmt.Errorf("%w: the body is empty; send a JSON object", errs.ErrInvalid)
	}
	if !utf8.Valid(body) {
		return fmt.Errorf("%w: the body is not valid UTF-8", errs.ErrInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return fmt.Errorf("%w: malformed JSON at byte %d", errs.ErrInvalid, syn.Offset)
		case errors.As(err, &typ):
			if typ.Field != "" {
				return errs.Invalid(typ.Field, fmt.Sprintf("must be %s, not %s", jsonType(typ.Type.Kind().String()), typ.Value))
			}
			return fmt.Errorf("%w: the body must be %s", errs.ErrInvalid, jsonType(typ.Type.Kind().String()))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return errs.Invalid(field, "unknown field")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return fmt.Errorf("%w: the JSON ends too soon", errs.ErrInvalid)
		}
		return fmt.Errorf("%w: %v", errs.ErrInvalid, err)
	}
	// Not dec.More: it reports false before a stray "}" or "]".
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: the body holds more than one JSON value", errs.ErrInvalid)
	}
	return nil
}

func jsonType(goKind string) string {
	switch goKind {
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	}
	return goKind
}
