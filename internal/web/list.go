package web

import (
	"math"
	"strconv"
	"strings"

	"chancery/internal/errs"
)

// List is the shape of every API list response: a page of items and the
// cursor of the next page (passed back as "after"), empty after the
// last.
type List[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next"`
}

// NewList returns a page of items followed by next; no items is an empty
// array, never null.
func NewList[T any](items []T, next string) List[T] {
	if items == nil {
		items = []T{}
	}
	return List[T]{Items: items, Next: next}
}

// NextID is the cursor of a page whose last row has id next; zero (no
// further page) is "".
func NextID(next int64) string {
	if next == 0 {
		return ""
	}
	return strconv.FormatInt(next, 10)
}

// ParseID parses a positive decimal id given by a client strictly: digits
// only, no sign, no spaces. A bad one is an errs.FieldError on field.
func ParseID(field, s string) (int64, error) {
	bad := errs.Invalid(field, "must be a positive whole number")
	if s == "" || len(s) > 18 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, bad
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, bad
	}
	return id, nil
}

// OptionalID parses an optional id, such as a query parameter or a
// cursor; empty is zero.
func OptionalID(field, s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	return ParseID(field, s)
}

// OptionalInt parses an optional positive number that fits 32 bits, such
// as a page size or a version; empty is zero.
func OptionalInt(field, s string) (int, error) {
	n, err := OptionalID(field, s)
	if err != nil || n > math.MaxInt32 {
		return 0, errs.Invalid(field, "must be a positive whole number")
	}
	return int(n), nil
}

// ParseBool parses an optional flag of a query string or a form: empty,
// "false" and "0" are false; "true", "1" and "on" (what a checked HTML
// checkbox sends) are true; anything else is an errs.FieldError on field.
func ParseBool(field, s string) (bool, error) {
	switch s {
	case "", "false", "0":
		return false, nil
	case "true", "1", "on":
		return true, nil
	}
	return false, errs.Invalid(field, "must be true or false")
}
