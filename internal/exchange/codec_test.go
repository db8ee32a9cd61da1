package exchange

import (
	"encoding/binary"
	"errors"
	"testing"
)

func TestReaderReadsWhatTheAppendFunctionsWrote(t *testing.T) {
	b := appendBytes(nil, []byte("payload"))
	b = appendString(b, "Hà Nội")
	b = appendInt(b, -1234567890123)
	b = binary.AppendUvarint(b, 1<<40)
	b = append(b, 7, 1, 2, 3)
	r := &reader{b: b}
	if got := r.bytes("a"); string(got) != "payload" || cap(got) != len(got) {
		t.Errorf("bytes = %q (cap %d)", got, cap(got))
	}
	if got := r.string("b"); got != "Hà Nội" {
		t.Errorf("string = %q", got)
	}
	if got := r.int("c"); got != -1234567890123 {
		t.Errorf("int = %d", got)
	}
	if got := r.uint("d"); got != 1<<40 {
		t.Errorf("uint = %d", got)
	}
	if got := r.byte("e"); got != 7 {
		t.Errorf("byte = %d", got)
	}
	if got := r.fixed("f", 3); string(got) != "\x01\x02\x03" {
		t.Errorf("fixed = %x", got)
	}
	if err := r.done("test"); err != nil {
		t.Errorf("done = %v", err)
	}
}

func TestReaderRefusesTruncatedOverlongAndNonMinimalInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		read func(r *reader)
		want error
	}{
		{"bytes past the end", []byte{5, 'a'}, func(r *reader) { r.bytes("f") }, errTruncated},
		{"bytes over the field limit", binary.AppendUvarint(nil, maxField+1), func(r *reader) { r.bytes("f") }, errTruncated},
		{"bytes with no length", nil, func(r *reader) { r.bytes("f") }, errTruncated},
		{"int with no end", []byte{0x80, 0x80}, func(r *reader) { r.int("f") }, errTruncated},
		{"uint with no end", []byte{0xff}, func(r *reader) { r.uint("f") }, errTruncated},
		{"byte of nothing", nil, func(r *reader) { r.byte("f") }, errTruncated},
		{"fixed past the end", []byte{1, 2}, func(r *reader) { r.fixed("f", 3) }, errTruncated},
		// Zero written as two bytes: a second encoding of one value.
		{"length not minimal", []byte{0x80, 0x00}, func(r *reader) { r.bytes("f") }, errNonMinimal},
		{"int not minimal", []byte{0x81, 0x00}, func(r *reader) { r.int("f") }, errNonMinimal},
		{"uint not minimal", []byte{0xff, 0x80, 0x00}, func(r *reader) { r.uint("f") }, errNonMinimal},
	} {
		r := &reader{b: tc.data}
		tc.read(r)
		r.byte("after") // a read after an error changes nothing
		if err := r.done("test"); !errors.Is(err, tc.want) {
			t.Errorf("%s: done = %v, want %v", tc.name, err, tc.want)
		}
	}
	r := &reader{b: []byte{1, 2}}
	r.byte("a")
	if err := r.done("test"); err == nil {
		t.Error("done with a byte left over = nil")
	}
}
