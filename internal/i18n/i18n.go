// Package i18n holds the types of Chancery's user-facing strings, in
// Vietnamese (the default) and English, and holds no strings itself.
//
// Each capability keeps its own table beside its pages (a texts.go whose
// Texts returns an i18n.Texts: a literal that nothing writes, handed out
// as a copy), so that editing a page touches one package. The
// composition root hands every table to New once, at wiring; the
// Catalogue it returns reaches templates through web.Shell and Go code
// through the shell or the request. There is no package-level registry,
// no init() and no order of registration to get wrong: New refuses a key
// that two tables define. Keys are "area.thing".
package i18n

import (
	"fmt"
	"maps"
	"slices"
)

// Lang is a supported language.
type Lang string

// The supported languages; Vietnamese is the default.
const (
	VI Lang = "vi"
	EN Lang = "en"
)

// Default is the language used when the caller states none.
const Default = VI

// ParseLang returns the language named s, and whether it is supported.
func ParseLang(s string) (Lang, bool) {
	switch Lang(s) {
	case VI, EN:
		return Lang(s), true
	}
	return Default, false
}

// Text is one string in both languages. It is an alias of an unnamed
// struct so that the capabilities' tables may write each text as
// {"Vietnamese", "English"} (go vet asks for field names in literals of
// another package's named struct types).
type Text = struct{ VI, EN string }

// in returns t in lang, formatted with args when given.
func in(t Text, lang Lang, args ...any) string {
	s := t.VI
	if lang == EN {
		s = t.EN
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Texts is one capability's table of strings by key. A capability's own
// domain code (a message it stores or mails in both languages) may look
// keys up in its own table with T; everything else translates through
// the Catalogue built at wiring.
type Texts map[string]Text

// T returns the text for key in lang, formatted with args when given; an
// unknown key returns the key itself, so that a gap shows on screen (and
// the catalogue tests in internal/app fail).
func (ts Texts) T(lang Lang, key string, args ...any) string {
	t, ok := ts[key]
	if !ok {
		return key
	}
	return in(t, lang, args...)
}

// Has reports whether key is in the table.
func (ts Texts) Has(key string) bool { _, ok := ts[key]; return ok }

// Catalogue is every capability's strings, built once at wiring by New and
// never changed after; it is safe for concurrent use. A nil Catalogue
// knows no key.
type Catalogue struct {
	texts map[string]Text
}

// New returns the catalogue of the given tables. A key defined by two
// tables, or an empty key, is an error naming it: two capabilities must
// not claim the same string.
func New(tables ...Texts) (*Catalogue, error) {
	c := &Catalogue{texts: map[string]Text{}}
	for i, table := range tables {
		// Sorted, so that the error names the same key every time.
		for _, k := range slices.Sorted(maps.Keys(table)) {
			if k == "" {
				return nil, fmt.Errorf("i18n: table %d has an empty key", i+1)
			}
			if _, dup := c.texts[k]; dup {
				return nil, fmt.Errorf("i18n: key %q is defined twice (again in table %d); keep it in the one capability that owns it", k, i+1)
			}
			c.texts[k] = table[k]
		}
	}
	return c, nil
}

// T returns the text for key in lang, formatted with args when given. An
// unknown key returns the key itself, so a gap shows on screen and the
// catalogue tests in internal/app fail.
func (c *Catalogue) T(lang Lang, key string, args ...any) string {
	t, ok := c.Lookup(key)
	if !ok {
		return key
	}
	return in(t, lang, args...)
}

// Has reports whether key is in the catalogue.
func (c *Catalogue) Has(key string) bool { _, ok := c.Lookup(key); return ok }

// Lookup returns the texts for key.
func (c *Catalogue) Lookup(key string) (Text, bool) {
	if c == nil {
		return Text{}, false
	}
	t, ok := c.texts[key]
	return t, ok
}

// Keys returns every key, sorted.
func (c *Catalogue) Keys() []string {
	if c == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(c.texts))
}

// In returns the catalogue in lang: what a request's Go code translates
// with.
func (c *Catalogue) In(lang Lang) Localizer { return Localizer{Lang: lang, cat: c} }

// Localizer is the catalogue in one language.
type Localizer struct {
	Lang Lang
	cat  *Catalogue
}

// T returns the text for key in l's language, formatted with args when
// given; an unknown key returns the key itself.
func (l Localizer) T(key string, args ...any) string { return l.cat.T(l.Lang, key, args...) }

// Has reports whether key is in the catalogue.
func (l Localizer) Has(key string) bool { return l.cat.Has(key) }
