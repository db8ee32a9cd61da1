package identity

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Fold returns s lower-cased and stripped of diacritics, so a search typed
// without Vietnamese marks ("bo ngoai giao") matches the marked text
// ("Bộ Ngoại giao"). Decomposing to NFD splits every accented letter into
// its base and combining marks, which are dropped; đ is a letter of its
// own, not a d with a mark, so it is mapped explicitly.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ' || r == 'Đ':
			r = 'd'
		default:
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// searchText is what a search column holds: the folded parts joined by
// the ASCII unit separator, so adjacent parts do not run together into a
// false match.
func searchText(parts ...string) string {
	for i, p := range parts {
		parts[i] = Fold(p)
	}
	return strings.Join(parts, "\x1f")
}

// likePattern turns a user's query into a LIKE pattern matching it
// anywhere in a search column, with LIKE's wildcards escaped so "50%"
// means the text "50%".
func likePattern(query string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(Fold(strings.TrimSpace(query))) + "%"
}
