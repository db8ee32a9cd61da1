// Package archimatetest validates Open Exchange Format documents against
// The Open Group's ArchiMate 3.1 exchange schemas with xmllint, and hands
// tests a model Archi exported, for the tests of the exchange codec and of
// the repository's exports.
//
// Neither the schemas nor Archi's file are kept in this repository: CI
// (.ci/run) downloads them at a pinned commit of github.com/archimatetool/archi
// (MIT licence; the schemas are The Open Group's, as Archi ships them) and
// names them in CHANCERY_ARCHIMATE_XSD and CHANCERY_ARCHI_EXPORT.
package archimatetest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// required reports whether CI demands these tests run rather than skip.
func required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("CHANCERY_REQUIRE_XMLLINT") == "1"
}

// skip skips the test with msg, or fails it where CI requires it to run.
func skip(t testing.TB, msg string) {
	t.Helper()
	if required() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Validator returns a function that validates a document against the
// schemas (archimate3_Diagram.xsd, which includes the view and the model
// schemas) with xmllint (Debian package libxml2-utils), from the directory
// CHANCERY_ARCHIMATE_XSD names (archimate3_Model.xsd, archimate3_View.xsd,
// archimate3_Diagram.xsd and the W3C's xml.xsd). Without xmllint the test
// skips, saying so, and under CI=true (or CHANCERY_REQUIRE_XMLLINT=1) fails
// instead; without the schemas it skips.
func Validator(t testing.TB) func(name string, doc []byte) error {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		skip(t, "xmllint is not installed (apt-get install libxml2-utils); the exports were not validated against the Open Group's XSDs")
	}
	// The schemas come from github.com, which CI may not reach: without
	// them the test skips, even under CI (xmllint itself is required).
	src := os.Getenv("CHANCERY_ARCHIMATE_XSD")
	if src == "" {
		t.Skip("CHANCERY_ARCHIMATE_XSD names no directory of the Open Group's ArchiMate 3.1 XSDs (.ci/run downloads them); the exports were not validated against them")
	}
	// The model schema imports xml.xsd by its web address; point it at the
	// local copy so that xmllint validates with --nonet.
	dir := t.TempDir()
	for _, f := range []string{"archimate3_Model.xsd", "archimate3_View.xsd", "archimate3_Diagram.xsd", "xml.xsd"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Skipf("CHANCERY_ARCHIMATE_XSD: %v", err)
		}
		b = bytes.ReplaceAll(b, []byte(`schemaLocation="http://www.w3.org/2001/xml.xsd"`), []byte(`schemaLocation="xml.xsd"`))
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	schema := filepath.Join(dir, "archimate3_Diagram.xsd")
	return func(name string, doc []byte) error {
		p := filepath.Join(dir, filepath.Base(name))
		if err := os.WriteFile(p, doc, 0o600); err != nil {
			return err
		}
		out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", schema, p).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, bytes.TrimSpace(out))
		}
		return nil
	}
}

// ArchiExport returns the Open Exchange Format file Archi exported that
// CHANCERY_ARCHI_EXPORT names (CI downloads Archi's own test file
// bendpoint.test.xml: two elements, two relationships, a view whose
// connections carry attachment points). Without it the test skips (CI may
// not reach github.com to download it).
func ArchiExport(t testing.TB) []byte {
	t.Helper()
	p := os.Getenv("CHANCERY_ARCHI_EXPORT")
	if p == "" {
		t.Skip("CHANCERY_ARCHI_EXPORT names no file exported by Archi (.ci/run downloads one); the round trip with Archi's format was not tried")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("CHANCERY_ARCHI_EXPORT: %v", err)
	}
	return b
}
