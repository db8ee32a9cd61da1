package procedures

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"chancery/internal/authz"
)

// TestAccessRulesAreAskedOfAuthz pins issue 10's item 19 for this
// package: who may do what lives in authz's grants table, so no code here
// names a staff role or tests a subject's roles itself. A new hand-written
// role check fails this test; add a kind or a grant to authz instead.
func TestAccessRulesAreAskedOfAuthz(t *testing.T) {
	roleNames := map[string]bool{}
	for _, r := range authz.AllRoles() {
		// The constant's name is the API name in camel case:
		// security_officer is authz.SecurityOfficer.
		var name strings.Builder
		for w := range strings.SplitSeq(r.String(), "_") {
			name.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
		roleNames[name.String()] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "authz" && (roleNames[sel.Sel.Name] || sel.Sel.Name == "RolesOf") {
				t.Errorf("%s: names the role authz.%s; ask authz.Decide about a kind and an action instead", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			if inner, ok := sel.X.(*ast.SelectorExpr); ok && inner.Sel.Name == "Roles" && sel.Sel.Name == "Has" {
				t.Errorf("%s: tests a subject's roles; ask authz.Decide instead", fset.Position(sel.Pos()))
			}
			return true
		})
	}
}
