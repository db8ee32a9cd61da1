package app

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"
	"unicode"

	"chancery/internal/i18n"
	"chancery/internal/web"
)

// The tests here check the catalogue as the server builds it (catalogue),
// against every capability's table, template and Go source under
// internal/: each key in both languages, Vietnamese typed with its marks,
// and no key used that no table defines.

// internalDir is the repository's internal/ directory; tests run in
// their package's directory.
const internalDir = ".."

func wiredCatalogue(t *testing.T) *i18n.Catalogue {
	t.Helper()
	c, err := catalogue(textTables()...)
	if err != nil {
		t.Fatalf("the catalogue the server builds: %v", err)
	}
	if len(c.Keys()) < 1000 {
		t.Fatalf("the catalogue holds only %d keys: is a capability's table missing from catalogue()?", len(c.Keys()))
	}
	return c
}

// TestTheCatalogueRefusesAKeyTwoCapabilitiesDefine pins that the wiring
// stops, with an error naming the key, when a capability claims another's
// string.
func TestTheCatalogueRefusesAKeyTwoCapabilitiesDefine(t *testing.T) {
	claim := i18n.Texts{"procedures.status.1": {"Mới tiếp nhận", "Just received"}}
	_, err := catalogue(append(textTables(), claim)...)
	if err == nil || !strings.Contains(err.Error(), `"procedures.status.1"`) {
		t.Fatalf("catalogue = %v, want an error naming procedures.status.1", err)
	}
}

// TestErrorPagesSpeakFromTheCatalogue pins that the error pages, drawn by
// web.Error with no shell at hand, find the catalogue on the request in
// the server's middleware chain, in the request's language, a panic's
// included.
func TestErrorPagesSpeakFromTheCatalogue(t *testing.T) {
	a, srv := MustStart(t, testConfig(t, false))
	a.router.HandleFunc("GET /test/panic", web.Public, func(http.ResponseWriter, *http.Request) { panic("test") })
	tests := []struct {
		path   string
		status int
		want   []string
	}{
		{"/no-such-page", http.StatusNotFound, []string{"Không tìm thấy", "Quay lại trang chủ", "Bộ Ngoại giao"}},
		{"/no-such-page?lang=en", http.StatusNotFound, []string{"Not found", "Back to the home page", "Ministry of Foreign Affairs"}},
		{"/test/panic", http.StatusInternalServerError, []string{"Lỗi hệ thống", "Mã yêu cầu"}},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
		req.Header.Set("Accept", "text/html")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("GET %s = %d, want %d", tt.path, resp.StatusCode, tt.status)
		}
		for _, w := range tt.want {
			if !strings.Contains(string(body), w) {
				t.Errorf("GET %s: the page lacks %q", tt.path, w)
			}
		}
		if k := regexp.MustCompile(`\b(error|nav|footer|lang)\.[a-z0-9_]+\b`).FindString(string(body)); k != "" {
			t.Errorf("GET %s shows the raw key %q", tt.path, k)
		}
	}
}

// walkSources calls visit with the path and content of every file under
// internalDir for which match reports true, and fails the test if there is
// none.
func walkSources(t *testing.T, match func(path string) bool, visit func(path string, src []byte)) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(internalDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !match(path) {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		visit(path, src)
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", internalDir, err)
	}
	if files == 0 {
		t.Fatalf("no files to check under %s: is the test running in internal/app?", internalDir)
	}
}

func isNonTestGo(path string) bool {
	return strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go")
}

// missingKeys fails the test listing every used key (key → where) that c
// lacks; at least min keys must have been found, or the search no longer
// matches how keys are written.
func missingKeys(t *testing.T, c *i18n.Catalogue, uses map[string][]string, min int) {
	t.Helper()
	if len(uses) < min {
		t.Fatalf("found only %d keys in use, want at least %d: the search no longer matches how keys are written", len(uses), min)
	}
	var missing []string
	for key, where := range uses {
		if !c.Has(key) {
			missing = append(missing, key+" (used in "+strings.Join(where, ", ")+")")
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("%d keys are in no capability's table; add them to the texts.go beside the page:\n\t%s",
			len(missing), strings.Join(missing, "\n\t"))
	}
}

func addUse(uses map[string][]string, key, where string) {
	if !slices.Contains(uses[key], where) {
		uses[key] = append(uses[key], where)
	}
}

// TestEveryTemplateKeyIsInTheCatalogue parses every template under
// internal/ and checks each literal key handed to the page's T: {{.T
// "key"}}, {{$.T "key" .Arg}}, (.T "key"). A key built at run time
// ({{.T (print "identity.level." .Level)}}) is checked by its page's own
// tests.
func TestEveryTemplateKeyIsInTheCatalogue(t *testing.T) {
	c := wiredCatalogue(t)
	uses := map[string][]string{}
	walkSources(t, func(path string) bool { return strings.HasSuffix(path, ".html") }, func(path string, src []byte) {
		trees := map[string]*parse.Tree{}
		tr := parse.New(path)
		tr.Mode = parse.SkipFuncCheck | parse.ParseComments
		if _, err := tr.Parse(string(src), "", "", trees); err != nil {
			t.Errorf("parse %s: %v", path, err)
			return
		}
		for _, tree := range trees {
			templateKeys(tree.Root, func(key string) { addUse(uses, key, path) })
		}
	})
	missingKeys(t, c, uses, 500)
}

// templateKeys calls found with the literal key of every call of T in the
// template tree n.
func templateKeys(n parse.Node, found func(key string)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, m := range n.Nodes {
				templateKeys(m, found)
			}
		}
	case *parse.ActionNode:
		templateKeys(n.Pipe, found)
	case *parse.IfNode:
		templateKeys(&n.BranchNode, found)
	case *parse.RangeNode:
		templateKeys(&n.BranchNode, found)
	case *parse.WithNode:
		templateKeys(&n.BranchNode, found)
	case *parse.BranchNode:
		templateKeys(n.Pipe, found)
		templateKeys(n.List, found)
		templateKeys(n.ElseList, found)
	case *parse.TemplateNode:
		templateKeys(n.Pipe, found)
	case *parse.PipeNode:
		if n != nil {
			for _, cmd := range n.Cmds {
				templateKeys(cmd, found)
			}
		}
	case *parse.CommandNode:
		if len(n.Args) >= 2 && callsT(n.Args[0]) {
			if s, ok := n.Args[1].(*parse.StringNode); ok {
				found(s.Text)
			}
		}
		for _, arg := range n.Args {
			templateKeys(arg, found)
		}
	case *parse.ChainNode:
		templateKeys(n.Node, found)
	}
}

// callsT reports whether n names a page's T: .T, $.T, $page.T, .Page.T.
func callsT(n parse.Node) bool {
	var idents []string
	switch n := n.(type) {
	case *parse.FieldNode:
		idents = n.Ident
	case *parse.VariableNode:
		idents = n.Ident
	case *parse.ChainNode:
		idents = n.Field
	}
	return len(idents) > 0 && idents[len(idents)-1] == "T"
}

// keyCalls are the functions and methods whose string arguments are
// catalogue keys: a page's or a localizer's T and Has, Shell.Page's title
// and RedirectWithFlash's flash.
var keyCalls = map[string]bool{"T": true, "Has": true, "Page": true, "RedirectWithFlash": true}

// TestEveryKeyInGoIsInTheCatalogue checks the keys the Go code under
// internal/ writes as literals: every argument of the calls in keyCalls
// and every Key field (a navigation item's label, a badge) of a
// catalogue area's shape; and, wherever it is written (a helper's
// argument, a struct field kept for later), every literal of three parts
// or more whose first two ("procedures.public") begin keys of the
// catalogue, so that a mistyped key beside its siblings is caught. A
// prefix a key is built from ("auth.invalid.") ends with a dot and is no
// key; audit actions and log names ("exchange.message.dead") share an
// area's name but no key's first two parts.
func TestEveryKeyInGoIsInTheCatalogue(t *testing.T) {
	c := wiredCatalogue(t)
	areas, families := map[string]bool{}, map[string]bool{}
	for _, k := range c.Keys() {
		parts := strings.Split(k, ".")
		areas[parts[0]] = true
		if len(parts) >= 3 {
			families[parts[0]+"."+parts[1]] = true
		}
	}
	uses := map[string][]string{}
	fset := token.NewFileSet()
	walkSources(t, isNonTestGo, func(path string, src []byte) {
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			t.Errorf("parse %s: %v", path, err)
			return
		}
		var parents []ast.Node
		ast.Inspect(f, func(n ast.Node) bool {
			if n == nil {
				parents = parents[:len(parents)-1]
				return true
			}
			var parent ast.Node
			if len(parents) > 0 {
				parent = parents[len(parents)-1]
			}
			parents = append(parents, n)
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !keyShape.MatchString(s) || !areas[strings.Split(s, ".")[0]] {
				return true
			}
			parts := strings.Split(s, ".")
			if keyContext(parent, lit) || (len(parts) >= 3 && families[parts[0]+"."+parts[1]]) {
				addUse(uses, s, fset.Position(lit.Pos()).String())
			}
			return true
		})
	})
	missingKeys(t, c, uses, 500)
}

// keyContext reports whether lit, a child of parent, is written where a
// key goes: an argument of a call in keyCalls, or a Key field's value.
func keyContext(parent ast.Node, lit *ast.BasicLit) bool {
	switch p := parent.(type) {
	case *ast.CallExpr:
		var name string
		switch fn := p.Fun.(type) {
		case *ast.Ident:
			name = fn.Name
		case *ast.SelectorExpr:
			name = fn.Sel.Name
		}
		return keyCalls[name] && slices.Contains(p.Args, ast.Expr(lit))
	case *ast.KeyValueExpr:
		id, ok := p.Key.(*ast.Ident)
		return ok && id.Name == "Key" && p.Value == ast.Expr(lit)
	}
	return false
}

// TestNoPageIsBuiltWithoutTheShell checks that no code outside web
// writes a web.Page literal: such a page has no catalogue and shows keys
// instead of words. A page comes from Shell.Page, and Go code that only
// needs words takes Shell.Localizer(r).
func TestNoPageIsBuiltWithoutTheShell(t *testing.T) {
	fset := token.NewFileSet()
	walkSources(t, func(path string) bool {
		return isNonTestGo(path) && filepath.Dir(path) != filepath.Join(internalDir, "web")
	}, func(path string, src []byte) {
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			t.Errorf("parse %s: %v", path, err)
			return
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if cl, ok := n.(*ast.CompositeLit); ok {
				if sel, ok := cl.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Page" {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "web" {
						t.Errorf("%s: a web.Page literal has no catalogue; take the page from Shell.Page, or words from Shell.Localizer(r)", fset.Position(cl.Pos()))
					}
				}
			}
			return true
		})
	})
}

// TestEveryTableIsWired checks that every capability's table (each
// texts.go under internal/) reaches the catalogue the server builds, so a
// new capability's strings cannot be left out of catalogue().
func TestEveryTableIsWired(t *testing.T) {
	c := wiredCatalogue(t)
	tables := 0
	fset := token.NewFileSet()
	walkSources(t, func(path string) bool { return filepath.Base(path) == "texts.go" }, func(path string, src []byte) {
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			t.Errorf("parse %s: %v", path, err)
			return
		}
		tables++
		keys := 0
		ast.Inspect(f, func(n ast.Node) bool {
			kv, ok := n.(*ast.KeyValueExpr)
			if !ok {
				return true
			}
			lit, ok := kv.Key.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			key, _ := strconv.Unquote(lit.Value)
			keys++
			if !c.Has(key) {
				t.Errorf("%s: %q is not in the server's catalogue: hand the package's Texts() to i18n.New in catalogue()", path, key)
				return false
			}
			return true
		})
		if keys == 0 {
			t.Errorf("%s defines no key", path)
		}
	})
	if tables < 10 {
		t.Errorf("found %d texts.go tables, want every capability's (at least 10)", tables)
	}
}

func TestEveryTextHasBothLanguages(t *testing.T) {
	c := wiredCatalogue(t)
	for _, key := range c.Keys() {
		text, _ := c.Lookup(key)
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
	c := wiredCatalogue(t)
	for _, key := range c.Keys() {
		text, _ := c.Lookup(key)
		vi := verb.FindAllString(strings.ReplaceAll(text.VI, "%%", ""), -1)
		en := verb.FindAllString(strings.ReplaceAll(text.EN, "%%", ""), -1)
		if !slices.Equal(vi, en) {
			t.Errorf("%s: Vietnamese takes %v, English %v; T formats both with the same arguments", key, vi, en)
		}
	}
}

// vietnameseLetters are the letters Vietnamese writes and English does
// not: đ, the vowels with a breve, circumflex or horn, and every vowel
// with one of the five tone marks.
const vietnameseLetters = "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ"

// undiacritical lists keys whose Vietnamese text rightly holds no
// Vietnamese letter though it differs from the English: a name kept in
// its own language, or words that happen to carry no mark. Keep it short:
// a key belongs here only when no Vietnamese speaker would write it
// otherwise.
var undiacritical = map[string]string{
	"identity.next":                  "Trang sau →: “next page” has no marks",
	"pager.next":                     "Trang sau →: “next page” has no marks",
	"sentinel.queue.next":            "Trang sau: “next page” has no marks",
	"sentinel.queue.page":            "Trang %d / %d: “page of” has no marks",
	"procedures.public.mine.next":    "Trang sau →: “next page” has no marks",
	"portal.news.other_language":     "the link names the other language's text in that language: Read this in English",
	"procedures.console.pages":       "Trang: “pages” has no marks",
	"procedures.public.rating.stars": "%d sao: “stars” has no marks",
	"lang.switch":                    "the switch names the other language: English",
}

// TestVietnameseTextsCarryDiacritics catches Vietnamese typed without its
// marks ("Dang nhap" for "Đăng nhập"), or English pasted into the
// Vietnamese slot: every Vietnamese text holds a letter that only
// Vietnamese writes (đ, ă, â, ê, ô, ơ, ư or a tone mark). A text the same
// in both languages is a name or a code ("Chancery", "%d KB") and is let
// be; any other exception is listed in undiacritical with its reason.
func TestVietnameseTextsCarryDiacritics(t *testing.T) {
	c := wiredCatalogue(t)
	for _, key := range c.Keys() {
		text, _ := c.Lookup(key)
		if _, ok := undiacritical[key]; ok {
			if strings.ContainsAny(strings.ToLower(text.VI), vietnameseLetters) {
				t.Errorf("%s: %q now has Vietnamese letters; take it off undiacritical", key, text.VI)
			}
			continue
		}
		if text.VI == text.EN {
			continue
		}
		if !strings.ContainsAny(strings.ToLower(text.VI), vietnameseLetters) {
			t.Errorf("%s: Vietnamese %q has no Vietnamese letter; type it with its marks, or list the key in undiacritical with a reason", key, text.VI)
		}
	}
	// The rule must be able to fail: unmarked Vietnamese and English in
	// the Vietnamese slot are caught, marked Vietnamese is not.
	for s, want := range map[string]bool{"Dang nhap": false, "Sign in": false, "Đăng nhập": true, "Lưu": true} {
		if got := strings.ContainsAny(strings.ToLower(s), vietnameseLetters); got != want {
			t.Errorf("the rule takes %q as Vietnamese: %v, want %v", s, got, want)
		}
	}
}

// TestVietnameseTextsArePrecomposed catches text in decomposed form (a
// letter followed by combining marks), which some fonts and every search
// index treat differently from the precomposed letters users type.
func TestVietnameseTextsArePrecomposed(t *testing.T) {
	c := wiredCatalogue(t)
	for _, key := range c.Keys() {
		text, _ := c.Lookup(key)
		for _, s := range []string{text.VI, text.EN} {
			if i := strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Mn, r) }); i >= 0 {
				t.Errorf("%s: %q holds a combining mark at byte %d; use the precomposed (NFC) letter", key, s, i)
			}
		}
	}
}

var keyShape = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)

func TestKeysNameTheirArea(t *testing.T) {
	c := wiredCatalogue(t)
	for _, key := range c.Keys() {
		if !keyShape.MatchString(key) {
			t.Errorf("key %q is not of the form area.thing (lower case, digits, underscores)", key)
		}
	}
}
