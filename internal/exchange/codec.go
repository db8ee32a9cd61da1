package exchange

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The wire formats are a small length-prefixed binary encoding rather than
// JSON: they are parsed from untrusted peers at tens of thousands of
// messages a second, and a format with no optional parts has one encoding
// per value, which signatures and digests need.

// errTruncated reports input that ends inside a field.
var errTruncated = errors.New("input ends inside a field")

// errNonMinimal reports a varint with needless continuation bytes, which
// would give one value a second encoding and so a second digest.
var errNonMinimal = errors.New("number is not minimally encoded")

// nonMinimal reports whether the k-byte varint at the start of b ends in a
// zero byte, which only a needlessly long encoding does.
func nonMinimal(b []byte, k int) bool { return k > 1 && b[k-1] == 0 }

// maxField bounds one length-prefixed field, above the largest payload a
// single frame carries.
const maxField = 64 << 20

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendInt(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

// reader decodes what the append functions wrote, remembering the first
// error so that callers check once at the end.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(field string, err error) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: %w", field, err)
	}
}

func (r *reader) bytes(field string) []byte {
	if r.err != nil {
		return nil
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > maxField || n > uint64(len(r.b)-k) {
		r.fail(field, errTruncated)
		return nil
	}
	if nonMinimal(r.b, k) {
		r.fail(field, errNonMinimal)
		return nil
	}
	v := r.b[k : k+int(n) : k+int(n)]
	r.b = r.b[k+int(n):]
	return v
}

func (r *reader) string(field string) string { return string(r.bytes(field)) }

// int reads what appendInt wrote: a zig-zag varint, as binary.Varint
// reads, which is a uvarint underneath.
func (r *reader) int(field string) int64 {
	u := r.uint(field)
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

func (r *reader) uint(field string) uint64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.fail(field, errTruncated)
		return 0
	}
	if nonMinimal(r.b, k) {
		r.fail(field, errNonMinimal)
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *reader) byte(field string) byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.fail(field, errTruncated)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// fixed reads exactly n bytes.
func (r *reader) fixed(field string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.fail(field, errTruncated)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// done reports the first error, or trailing bytes.
func (r *reader) done(what string) error {
	if r.err != nil {
		return fmt.Errorf("exchange: malformed %s: %w", what, r.err)
	}
	if len(r.b) != 0 {
		return fmt.Errorf("exchange: malformed %s: %d bytes after its end", what, len(r.b))
	}
	return nil
}
