package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// internalDir is the repository's internal/ directory, where every
// capability keeps its templates; tests run in their package's directory.
const internalDir = ".."

// keyUses returns, for every file under internalDir whose name passes
// match, the catalogue keys that re finds in it (the first of its groups
// that matched), as "key" → the files that use it.
func keyUses(t *testing.T, match func(name string) bool, re *regexp.Regexp) map[string][]string {
	t.Helper()
	uses := map[string][]string{}
	files := 0
	err := filepath.WalkDir(internalDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !match(d.Name()) {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			i := slices.IndexFunc(m[1:], func(g string) bool { return g != "" })
			if i < 0 {
				continue
			}
			if key := m[1+i]; !slices.Contains(uses[key], path) {
				uses[key] = append(uses[key], path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", internalDir, err)
	}
	if files == 0 {
		t.Fatalf("no files to check under %s: is the test running in internal/i18n?", internalDir)
	}
	return uses
}

// checkKnown fails the test listing every used key the catalogue lacks.
func checkKnown(t *testing.T, uses map[string][]string) {
	t.Helper()
	if len(uses) == 0 {
		t.Fatal("found no key in use: the pattern no longer matches how keys are written")
	}
	var missing []string
	for key, files := range uses {
		if !Has(key) {
			missing = append(missing, key+" (used in "+strings.Join(files, ", ")+")")
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("%d keys are not in the catalogue; add them to the area's file in internal/i18n:\n\t%s",
			len(missing), strings.Join(missing, "\n\t"))
	}
}

// templateKey matches a literal key passed to the page's T in a template:
// {{.T "key"}}, {{$.T "key" .Arg}}, (.T "key").
var templateKey = regexp.MustCompile(`\.T\s+"([^"]+)"`)

func TestEveryTemplateKeyIsInTheCatalogue(t *testing.T) {
	checkKnown(t, keyUses(t, func(name string) bool { return strings.HasSuffix(name, ".html") }, templateKey))
}

// goKey matches the keys that Go code hands to the layout: a page's title
// (shell.Page(r, surface, "key")) and a navigation item's label
// (NavItem{Key: "key", …}).
var goKey = regexp.MustCompile(`\.Page\(\s*\w+\s*,\s*[\w.]+\s*,\s*"([^"]+)"\s*\)|NavItem\{\s*Key:\s*"([^"]+)"`)

func TestEveryTitleAndNavigationKeyIsInTheCatalogue(t *testing.T) {
	checkKnown(t, keyUses(t, isNonTestGo, goKey))
}

func isNonTestGo(name string) bool {
	return strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")
}

func TestEveryTextHasBothLanguages(t *testing.T) {
	for _, key := range Keys() {
		text, _ := Lookup(key)
		if strings.TrimSpace(text.VI) == "" {
			t.Errorf("%s: no Vietnamese text", key)
		}
		if strings.TrimSpace(text.EN) == "" {
			t.Errorf("%s: no English text", key)
		}
	}
}

// verb matches a fmt verb; "%%" is a literal percent sign, not a verb.
var verb = regexp.MustCompile(`%[-+# 0]*[0-9]*(?:\.[0-9]+)?[a-zA-Z]`)

func TestBothLanguagesTakeTheSameArguments(t *testing.T) {
	for _, key := range Keys() {
		text, _ := Lookup(key)
		vi := verb.FindAllString(strings.ReplaceAll(text.VI, "%%", ""), -1)
		en := verb.FindAllString(strings.ReplaceAll(text.EN, "%%", ""), -1)
		if !slices.Equal(vi, en) {
			t.Errorf("%s: Vietnamese takes %v, English %v; T formats both with the same arguments", key, vi, en)
		}
	}
}

// undiacritical lists keys whose Vietnamese text rightly has no
// diacritics though it differs from the English, such as a name or a
// technical term kept in its original form. Keep it short: a key belongs
// here only when no Vietnamese speaker would write it otherwise.
var undiacritical = map[string]bool{
	"identity.next": true, // "Trang sau": "next page" has no marks
}

// TestVietnameseTextsCarryDiacritics catches Vietnamese typed without its
// marks ("Dang nhap" for "Đăng nhập"), or English pasted into the
// Vietnamese slot: a phrase of two words or more almost always has at
// least one marked letter.
func TestVietnameseTextsCarryDiacritics(t *testing.T) {
	for _, key := range Keys() {
		text, _ := Lookup(key)
		if text.VI == text.EN || undiacritical[key] {
			continue
		}
		words := 0
		for _, f := range strings.Fields(verb.ReplaceAllString(text.VI, "")) {
			if strings.IndexFunc(f, unicode.IsLetter) >= 0 {
				words++
			}
		}
		if words < 2 {
			continue
		}
		marked := strings.IndexFunc(text.VI, func(r rune) bool { return r > unicode.MaxASCII && unicode.IsLetter(r) }) >= 0
		if !marked {
			t.Errorf("%s: Vietnamese %q has no diacritics; type it with its marks, or list the key in undiacritical with a reason", key, text.VI)
		}
	}
}

// TestVietnameseTextsArePrecomposed catches text in decomposed form (a
// letter followed by combining marks), which some fonts and every search
// index treat differently from the precomposed letters users type.
func TestVietnameseTextsArePrecomposed(t *testing.T) {
	for _, key := range Keys() {
		text, _ := Lookup(key)
		for _, s := range []string{text.VI, text.EN} {
			if i := strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Mn, r) }); i >= 0 {
				t.Errorf("%s: %q holds a combining mark at byte %d; use the precomposed (NFC) letter", key, s, i)
			}
		}
	}
}

var keyShape = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)

func TestKeysNameTheirArea(t *testing.T) {
	for _, key := range Keys() {
		if !keyShape.MatchString(key) {
			t.Errorf("key %q is not of the form area.thing (lower case, digits, underscores)", key)
		}
	}
}
