package architecture

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"chancery/internal/architecture/archimate"
	"chancery/internal/architecture/archimate/archimatetest"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// normalized orders a model's concepts by identifier, so two exports of
// the same repository compare equal whatever order the file had.
func normalized(m *archimate.Model) *archimate.Model {
	c := *m
	c.Elements = slices.Clone(m.Elements)
	c.Relationships = slices.Clone(m.Relationships)
	c.Views = slices.Clone(m.Views)
	slices.SortFunc(c.Elements, func(a, b archimate.Element) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(c.Relationships, func(a, b archimate.Relationship) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(c.Views, func(a, b archimate.View) int { return strings.Compare(a.ID, b.ID) })
	return &c
}

func TestImportThenExportIsTheSameModel(t *testing.T) {
	sample, err := os.ReadFile("archimate/testdata/sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := mustService(t, db)
		ctx := as(architect)
		res, err := f.svc.Import(ctx, architect, bytes.NewReader(sample))
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != 10 { // 5 elements, 4 relationships, 1 view
			t.Fatalf("import %+v", res)
		}
		want, _ := archimate.Decode(bytes.NewReader(sample), archimate.Limits{})
		got, err := f.svc.Export(ctx, clerk, timeZero)
		if err != nil {
			t.Fatal(err)
		}
		out, err := archimate.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		again, err := archimate.Decode(bytes.NewReader(out), archimate.Limits{})
		if err != nil {
			t.Fatalf("the export does not decode: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(normalized(want), normalized(again)) {
			t.Fatalf("export differs from the import:\n%s", out)
		}
		// Importing the export again changes nothing.
		res, err = f.svc.Import(ctx, architect, bytes.NewReader(out))
		if err != nil || res.Created+res.Updated != 0 || res.Unchanged != 10 {
			t.Fatalf("re-import: %v %+v", err, res)
		}
	})
}

func TestImportCarriesTheRepositorysOwnFields(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := mustService(t, db)
		ctx := as(architect)
		if _, err := f.svc.SaveElement(ctx, architect, app("id-a", "A")); err != nil {
			t.Fatal(err)
		}
		m, err := f.svc.Export(ctx, architect, timeZero)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := archimate.Marshal(m)
		if !bytes.Contains(out, []byte("000.00.04.G12")) || !bytes.Contains(out, []byte("chancery:lifecycle.run")) {
			t.Fatalf("export lacks the owner or lifecycle:\n%s", out)
		}
		db2 := storetest.MustOpen(t, db.Dialect)
		g := mustService(t, db2)
		if _, err := g.svc.Import(ctx, architect, bytes.NewReader(out)); err != nil {
			t.Fatal(err)
		}
		e, _, err := g.svc.Element(ctx, architect, "id-a")
		if err != nil || e.OwnerUnit != 4 || e.Lifecycle.Run != "2025-01-01" || e.AnnualCost != 1_200_000_000 || e.Framework[ARM] != "Ứng dụng nghiệp vụ" || len(e.Properties) != 0 {
			t.Fatalf("imported %v %+v", err, e)
		}
	})
}

func TestImportRefusesBadDocumentsAndStoresNothing(t *testing.T) {
	sample, _ := os.ReadFile("archimate/testdata/sample.xml")
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := mustService(t, db)
		ctx := as(architect)
		docs := map[string]string{
			"dtd":       strings.Replace(string(sample), "<model", "<!DOCTYPE model [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><model", 1),
			"forbidden": strings.Replace(string(sample), `source="id-portal" target="id-svc" xsi:type="Realization"`, `source="id-svc" target="id-portal" xsi:type="Realization"`, 1),
			"not xml":   "hello",
			"bad owner": strings.Replace(string(sample), `<name xml:lang="en">Articles</name>`, `<name xml:lang="en">Articles</name><properties><property propertyDefinitionRef="pd-o"><value>999</value></property></properties>`, 1),
		}
		docs["bad owner"] = strings.Replace(docs["bad owner"], `<propertyDefinitions>`, `<propertyDefinitions><propertyDefinition identifier="pd-o" type="string"><name>chancery:owner-unit</name></propertyDefinition>`, 1)
		for name, doc := range docs {
			if _, err := f.svc.Import(ctx, architect, strings.NewReader(doc)); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if _, err := f.svc.Import(ctx, clerk, bytes.NewReader(sample)); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("a clerk imported: %v", err)
		}
		if got, _ := f.svc.Elements(ctx, architect, Query{}); len(got) != 0 {
			t.Fatalf("a refused import stored %d elements", len(got))
		}
		f.svc.opts.MaxImportBytes = 1000
		if _, err := f.svc.Import(ctx, architect, bytes.NewReader(sample)); !errors.Is(err, errs.ErrTooLarge) {
			t.Errorf("too large: %v", err)
		}
	})
}

// TestExportsValidateAgainstTheOpenGroupSchemas exports the demo ministry's
// model (reference content, discovered-style origins, the repository's own
// fields as properties, views) and a model Archi exported, imported here,
// and validates both with the Open Group's XSDs.
func TestExportsValidateAgainstTheOpenGroupSchemas(t *testing.T) {
	validate := archimatetest.Validator(t)
	archi := archimatetest.ArchiExport(t)
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := mustService(t, db)
		f.mustDemo(t)
		ctx := as(architect)
		if _, err := f.svc.Import(ctx, architect, bytes.NewReader(archi)); err != nil {
			t.Fatalf("Archi's export: %v", err)
		}
		m, err := f.svc.Export(ctx, clerk, timeZero)
		if err != nil {
			t.Fatal(err)
		}
		out, err := archimate.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(out, []byte(`identifier="id-019dd58d-4fcc-7b66-bbe6-ad9d4c3efc06"`)) || !bytes.Contains(out, []byte(`identifier="ref-ndxp"`)) {
			t.Fatal("the export lacks Archi's connection or the reference content")
		}
		if err := validate("export.xml", out); err != nil {
			t.Fatalf("the repository's export does not validate: %v", err)
		}
	})
}
