package i18n

import (
	"strings"
	"testing"
)

func TestNewJoinsTheTables(t *testing.T) {
	c, err := New(Texts{"a.one": {"Một", "One"}}, Texts{"b.two": {"Hai %d", "Two %d"}}, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if got := c.Keys(); strings.Join(got, ",") != "a.one,b.two" {
		t.Errorf("Keys = %v, want [a.one b.two]", got)
	}
	tests := []struct {
		lang      Lang
		key, want string
		args      []any
	}{
		{VI, "a.one", "Một", nil},
		{EN, "a.one", "One", nil},
		{VI, "b.two", "Hai 2", []any{2}},
		{EN, "b.two", "Two 2", []any{2}},
		{EN, "c.unknown", "c.unknown", nil}, // a gap shows as its key
	}
	for _, tt := range tests {
		if got := c.T(tt.lang, tt.key, tt.args...); got != tt.want {
			t.Errorf("T(%s, %q) = %q, want %q", tt.lang, tt.key, got, tt.want)
		}
		if got := c.In(tt.lang).T(tt.key, tt.args...); got != tt.want {
			t.Errorf("In(%s).T(%q) = %q, want %q", tt.lang, tt.key, got, tt.want)
		}
	}
	if !c.Has("b.two") || c.Has("c.unknown") {
		t.Errorf("Has(b.two) = %v, Has(c.unknown) = %v; want true, false", c.Has("b.two"), c.Has("c.unknown"))
	}
}

func TestNewRefusesAKeyDefinedTwice(t *testing.T) {
	_, err := New(Texts{"a.one": {"Một", "One"}, "a.two": {"Hai", "Two"}}, Texts{"a.two": {"Hai", "Two"}})
	if err == nil || !strings.Contains(err.Error(), `"a.two"`) {
		t.Fatalf("New = %v, want an error naming a.two", err)
	}
}

func TestNewRefusesAnEmptyKey(t *testing.T) {
	if _, err := New(Texts{"": {"Trống", "Empty"}}); err == nil {
		t.Fatal("New accepted an empty key")
	}
}

// TestTheCatalogueIsItsOwn pins that New copies the tables: a table
// changed after wiring changes nothing a page shows.
func TestTheCatalogueIsItsOwn(t *testing.T) {
	table := Texts{"a.one": {"Một", "One"}}
	c, err := New(table)
	if err != nil {
		t.Fatal(err)
	}
	table["a.one"] = Text{"Khác", "Other"}
	table["a.two"] = Text{"Hai", "Two"}
	if got := c.T(EN, "a.one"); got != "One" || c.Has("a.two") {
		t.Errorf("after changing the table, T(a.one) = %q and Has(a.two) = %v; want One and false", got, c.Has("a.two"))
	}
}

func TestANilCatalogueKnowsNoKey(t *testing.T) {
	var c *Catalogue
	if c.Has("a.one") || c.T(VI, "a.one") != "a.one" || c.In(EN).T("a.one") != "a.one" || len(c.Keys()) != 0 {
		t.Error("a nil catalogue answered as if it held a key")
	}
}

func TestTextsLooksUpItsOwnKeys(t *testing.T) {
	ts := Texts{"a.size": {"%d MiB", "%d MiB"}, "a.yes": {"Có", "Yes"}}
	if got := ts.T(VI, "a.yes"); got != "Có" {
		t.Errorf("T(vi, a.yes) = %q", got)
	}
	if got := ts.T(EN, "a.size", 5); got != "5 MiB" {
		t.Errorf("T(en, a.size, 5) = %q", got)
	}
	if got := ts.T(EN, "a.no"); got != "a.no" || ts.Has("a.no") {
		t.Errorf("T(en, a.no) = %q, Has = %v; want the key and false", got, ts.Has("a.no"))
	}
}
