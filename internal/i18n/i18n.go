// Package i18n is Chancery's one catalogue of user-facing strings, in
// Vietnamese (the default) and English. Each area keeps its strings in a
// file of its own here; keys are "area.thing".
package i18n

import (
	"fmt"
	"sort"
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

// Text is one string in both languages.
type Text struct{ VI, EN string }

// catalog maps keys to texts; it is filled once at start by each area's
// file and never written again.
var catalog = map[string]Text{}

// add registers an area's texts; a key defined twice is a programming
// error caught at start.
func add(texts map[string]Text) {
	for k, t := range texts {
		if _, dup := catalog[k]; dup {
			panic(fmt.Sprintf("i18n: key %q defined twice", k))
		}
		catalog[k] = t
	}
}

// T returns the text for key in lang, formatted with args when given. An
// unknown key returns the key itself, so a gap shows on screen and a test
// (TestEveryTemplateKeyIsInTheCatalogue) fails.
func T(lang Lang, key string, args ...any) string {
	t, ok := catalog[key]
	if !ok {
		return key
	}
	s := t.VI
	if lang == EN {
		s = t.EN
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Has reports whether key is in the catalogue.
func Has(key string) bool { _, ok := catalog[key]; return ok }

// Keys returns every key, sorted.
func Keys() []string {
	out := make([]string, 0, len(catalog))
	for k := range catalog {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Lookup returns the texts for key.
func Lookup(key string) (Text, bool) { t, ok := catalog[key]; return t, ok }
