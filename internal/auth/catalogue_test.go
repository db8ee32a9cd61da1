package auth

import (
	"io/fs"
	"os"
	"regexp"
	"testing"

	"chancery/internal/i18n"
	"chancery/internal/web"
)

// TestEveryMessageKeyIsInTheCatalogue checks the catalogue keys that the
// templates and the code name, so no page shows a bare key.
func TestEveryMessageKeyIsInTheCatalogue(t *testing.T) {
	// The pages also name the layout's strings (nav.signin).
	texts, err := i18n.New(Texts(), web.Texts())
	if err != nil {
		t.Fatal(err)
	}
	inTemplates := regexp.MustCompile(`\.T "([^"]+)"`)
	inCode := regexp.MustCompile(`"(auth\.[a-z0-9_.]*[a-z0-9_])"`) // not a prefix such as "auth.invalid."
	check := func(file string, src []byte, re *regexp.Regexp) int {
		n := 0
		for _, m := range re.FindAllSubmatch(src, -1) {
			n++
			if key := string(m[1]); !texts.Has(key) {
				t.Errorf("%s names %q, which is not in the catalogue", file, key)
			}
		}
		return n
	}
	n := 0
	fs.WalkDir(templateFS, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			src, _ := fs.ReadFile(templateFS, path)
			n += check(path, src, inTemplates)
		}
		return err
	})
	for _, file := range []string{"errors.go", "password.go", "pages.go", "service.go"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		n += check(file, src, inCode)
	}
	if n < 50 {
		t.Fatalf("found only %d keys: the patterns no longer match the sources", n)
	}
}
