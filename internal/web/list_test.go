package web

import (
	"encoding/json"
	"errors"
	"testing"

	"chancery/internal/errs"
)

func TestNewListIsNeverNull(t *testing.T) {
	b, _ := json.Marshal(NewList[int](nil, NextID(0)))
	if string(b) != `{"items":[],"next":""}` {
		t.Fatalf("empty list = %s", b)
	}
	b, _ = json.Marshal(NewList([]int{1, 2}, NextID(2)))
	if string(b) != `{"items":[1,2],"next":"2"}` {
		t.Fatalf("list = %s", b)
	}
}

func TestParseIDIsStrict(t *testing.T) {
	for _, s := range []string{"1", "42", "007", "999999999999999999"} {
		if _, err := ParseID("id", s); err != nil {
			t.Errorf("ParseID(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "0", "-1", "+1", " 1", "1 ", "1e3", "0x10", "١", "1\x00", "9999999999999999999"} {
		_, err := ParseID("id", s)
		var fe *errs.FieldError
		if !errors.As(err, &fe) || fe.Field != "id" {
			t.Errorf("ParseID(%q) = %v, want a field error on id", s, err)
		}
	}
	if n, err := OptionalID("after", ""); n != 0 || err != nil {
		t.Errorf("OptionalID(\"\") = %d, %v", n, err)
	}
	if _, err := OptionalInt("limit", "2147483648"); err == nil {
		t.Error("OptionalInt beyond 32 bits accepted")
	}
}

// One rule for every flag: a checked checkbox's "on" is true in the API
// as on a page (identity took it, procedures refused it).
func TestParseBoolOneRule(t *testing.T) {
	for s, want := range map[string]bool{"": false, "false": false, "0": false, "true": true, "1": true, "on": true} {
		if got, err := ParseBool("mine", s); got != want || err != nil {
			t.Errorf("ParseBool(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"yes", "TRUE", "off", " true"} {
		if _, err := ParseBool("mine", s); err == nil {
			t.Errorf("ParseBool(%q) accepted", s)
		}
	}
}
