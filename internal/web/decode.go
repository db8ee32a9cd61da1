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
		return fmt.Errorf("%w: the body must be application/json, not %q", errs.ErrInvalid, Clip(ct))
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
	if err := walkJSON(body, -1); err != nil {
		return err
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
			// Name the field as the client sent it: typ.Field spells
			// embedded structs by their Go type names.
			if path := pathAt(body, typ.Offset); path != "" {
				return errs.Invalid(path, fmt.Sprintf("must be %s, not %s", jsonType(typ.Type.Kind().String()), Clip(typ.Value)))
			}
			return fmt.Errorf("%w: the body must be %s", errs.ErrInvalid, jsonType(typ.Type.Kind().String()))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return errs.Invalid(Clip(field), "unknown field")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return fmt.Errorf("%w: the JSON ends too soon", errs.ErrInvalid)
		}
		return fmt.Errorf("%w: %s", errs.ErrInvalid, Clip(err.Error()))
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

// jsonFrame is an object or array being walked by walkJSON.
type jsonFrame struct {
	object  bool
	wantKey bool              // an object's next token is a key
	key     string            // the object's current key as sent
	index   int               // the array's current index
	keys    map[string]string // folded key → key as sent
}

// errFoundPath stops walkJSON once pathAt's value is found.
type errFoundPath struct{ path string }

func (e *errFoundPath) Error() string { return e.path }

// walkJSON checks the first JSON value in body before it is decoded: every
// key and string is text CheckText accepts, and no object holds a key
// twice, in any letter case (encoding/json would silently keep the last,
// matching keys to fields regardless of case). Malformed JSON ends the walk
// without an error, for the decoder to explain. When stopAt is not
// negative, walkJSON returns an *errFoundPath naming the value whose token
// ends at byte stopAt.
func walkJSON(body []byte, stopAt int64) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []*jsonFrame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			switch {
			case !f.object:
				fmt.Fprintf(&b, "[%d]", f.index)
			case b.Len() > 0:
				b.WriteString("." + printable(f.key))
			default:
				b.WriteString(printable(f.key))
			}
		}
		return Clip(b.String())
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
			top := stack[n-1]
			if key, ok := tok.(string); ok {
				top.key, top.wantKey = key, false
				if msg := textProblem(key); msg != "" {
					return errs.Invalid(path(), "the key "+msg)
				}
				fold := strings.ToLower(key)
				if prev, dup := top.keys[fold]; dup {
					if prev == key {
						return errs.Invalid(path(), "is sent twice; send each field once")
					}
					return errs.Invalid(path(), fmt.Sprintf("is sent twice, also as %q; send each field once, in the documented letter case", Clip(prev)))
				}
				top.keys[fold] = key
				continue
			}
			stack = stack[:n-1] // the object's closing brace
		} else {
			switch tok {
			case json.Delim('{'), json.Delim('['):
				if stopAt >= 0 && dec.InputOffset() == stopAt {
					return &errFoundPath{path()}
				}
				stack = append(stack, &jsonFrame{object: tok == json.Delim('{'), wantKey: true, keys: map[string]string{}})
				continue
			case json.Delim(']'):
				stack = stack[:len(stack)-1]
			default:
				if s, ok := tok.(string); ok {
					if msg := textProblem(s); msg != "" {
						return errs.Invalid(path(), msg)
					}
				}
				if stopAt >= 0 && dec.InputOffset() == stopAt {
					return &errFoundPath{path()}
				}
			}
		}
		// A whole value ended: the first one, or one in its parent.
		if len(stack) == 0 {
			return nil
		}
		if top := stack[len(stack)-1]; top.object {
			top.wantKey = true
		} else {
			top.index++
		}
	}
}

// pathAt names, as the client sent it, the field whose value ends at byte
// offset off of body (where encoding/json reports a type error); "" when
// none does.
func pathAt(body []byte, off int64) string {
	var found *errFoundPath
	if errors.As(walkJSON(body, off), &found) {
		return found.path
	}
	return ""
}

// printable replaces what CheckText refuses in s with U+FFFD, so that an
// error naming a hostile key does not repeat its hostile characters.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if textProblem(string(r)) != "" {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}
