package records

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
)

// samplePackage is a package from the Consular Department to the embassy
// in Paris.
func samplePackage() *Package {
	return &Package{ID: "7d1c4e52-3f0a-4b8e-9c61-2a5f0e9b1d37", From: Organ{"000.00.03.G12", "Cục Lãnh sự"},
		To: Organ{"000.01.02.G12", "Đại sứ quán Việt Nam tại Pháp"}, Number: "15/QĐ-BNG", Type: "quyet_dinh", Place: "Hà Nội",
		Date: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), Subject: "Quyết định về việc cử cán bộ đi công tác", Urgency: Urgent,
		Level: authz.Confidential, DueDate: time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC),
		Files: []Attachment{{Name: "qd.pdf", MediaType: "application/pdf", Data: []byte("%PDF-1.4 quyết định")}}}
}

func mustBuild(t testing.TB, p *Package) string {
	t.Helper()
	b, err := BuildPackage(p)
	if err != nil {
		t.Fatalf("BuildPackage: %v", err)
	}
	return string(b)
}

func TestEdXMLPackageAndStatusRoundTrip(t *testing.T) {
	p := samplePackage()
	parsed, err := ParseEdXML([]byte(mustBuild(t, p)))
	if err != nil {
		t.Fatal(err)
	}
	got := parsed.Package
	if got == nil || got.ID != p.ID || got.From != p.From || got.To != p.To || got.Number != p.Number || got.Type != p.Type ||
		!got.Date.Equal(p.Date) || got.Subject != p.Subject || got.Urgency != p.Urgency || got.Level != p.Level || !got.DueDate.Equal(p.DueDate) ||
		len(got.Files) != 1 || !bytes.Equal(got.Files[0].Data, p.Files[0].Data) || got.Place != p.Place {
		t.Fatalf("round trip: %+v, want %+v", got, p)
	}
	m := &StatusMessage{ID: newUUID(), PackageID: p.ID, From: p.To, To: p.From, Status: DeliveryReturned, Description: "Gửi nhầm đơn vị",
		At: time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC)}
	b, err := BuildStatus(m)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err = ParseEdXML(b)
	if err != nil || parsed.Status == nil || *parsed.Status != *m {
		t.Fatalf("status round trip: %+v, %v; want %+v", parsed, err, m)
	}
}

// TestParseEdXMLRefusesForgedAndMalformedPackages pins the strict
// parser: each forgery is refused as invalid input (or too large) with a
// message naming what is wrong.
func TestParseEdXMLRefusesForgedAndMalformedPackages(t *testing.T) {
	good := mustBuild(t, samplePackage())
	pdf := samplePackage().Files[0].Data
	sum := sha256.Sum256(pdf)
	header := `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
	for _, tc := range []struct {
		name, doc, want string
		tooLarge        bool
	}{
		{"checksum mismatch", strings.Replace(good, hex.EncodeToString(sum[:]), strings.Repeat("ab", 32), 1), "checksum", false},
		{"size mismatch", strings.Replace(good, fmt.Sprintf("<Size>%d</Size>", len(pdf)), "<Size>3</Size>", 1), "altered", false},
		{"duplicate subject", strings.Replace(good, "<Subject>", "<Subject>Khác</Subject><Subject>", 1), "appears twice", false},
		{"unknown element", strings.Replace(good, "<Subject>", "<Extra>x</Extra><Subject>", 1), "no element <Extra>", false},
		{"attribute", strings.Replace(good, "<Subject>", `<Subject lang="vi">`, 1), "attribute", false},
		{"entity declaration", header + `<!DOCTYPE edXMLEnvelope [<!ENTITY x "y">]>` + good[len(xmlHeaderFor(good)):], "DOCTYPE", false},
		{"external entity", header + `<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><edXMLEnvelope>&x;</edXMLEnvelope>`, "DOCTYPE", false},
		{"undeclared entity", strings.Replace(good, "<Subject>", "<Subject>&x;", 1), "not well-formed", false},
		{"code does not parse", strings.Replace(good, "<CodeNotation>QĐ-BNG</CodeNotation>", "<CodeNotation>QĐ</CodeNotation>", 1), "number and symbol", false},
		{"type disagrees with code", strings.Replace(good, "<Type>quyet_dinh</Type>", "<Type>thong_bao</Type>", 1), "does not agree", false},
		{"bad organ id", strings.Replace(good, "<OrganId>000.00.03.G12</OrganId>", "<OrganId>../../etc</OrganId>", 1), "identifier code", false},
		{"wrong namespace", strings.Replace(good, EdXMLNamespace, "urn:other", 1), "namespace", false},
		{"prefixed element", strings.Replace(good, "<Subject>", "<x:Subject>", 1), "", false},
		{"other encoding", strings.Replace(good, `encoding="UTF-8"`, `encoding="ISO-8859-1"`, 1), "encoding", false},
		{"two roots", good + "<edXMLEnvelope/>", "", false},
		{"control character", strings.Replace(good, "<Subject>", "<Subject>\u202e", 1), "direction-override", false},
		{"level out of range", strings.Replace(good, "<SecretLevel>1</SecretLevel>", "<SecretLevel>9</SecretLevel>", 1), "SecretLevel", false},
		{"missing To", strings.Replace(good, "<To><OrganId>000.01.02.G12</OrganId><OrganName>Đại sứ quán Việt Nam tại Pháp</OrganName></To>", "", 1), "lacks <To>", false},
		{"deep nesting", header + `<edXMLEnvelope xmlns="` + EdXMLNamespace + `">` + strings.Repeat("<a>", 20) + strings.Repeat("</a>", 20) + `</edXMLEnvelope>`, "deeper", false},
		{"oversized", good + strings.Repeat(" ", MaxPackageBytes), "", true},
		{"empty", "", "empty", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.doc == good {
				t.Fatal("the forgery did not change the package")
			}
			_, err := ParseEdXML([]byte(tc.doc))
			want := errs.ErrInvalid
			if tc.tooLarge {
				want = errs.ErrTooLarge
			}
			if !errors.Is(err, want) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseEdXML = %v; want %v mentioning %q", err, want, tc.want)
			}
		})
	}
}

// xmlHeaderFor returns the XML declaration line a built package starts
// with.
func xmlHeaderFor(doc string) string {
	i := strings.Index(doc, "<edXMLEnvelope")
	return doc[:i]
}

// FuzzParseEdXML pins that any bytes either parse into a package or
// status message that builds back into bytes parsing to the same thing,
// or are refused as invalid input; never a panic, never another error.
func FuzzParseEdXML(f *testing.F) {
	p := samplePackage()
	good, _ := BuildPackage(p)
	f.Add(good)
	p.Files, p.DueDate, p.Level, p.Number, p.Type = nil, time.Time{}, authz.Unclassified, "12/BNG-VP", TypeOfficialLetter
	noFile, _ := BuildPackage(p)
	f.Add(noFile)
	st, _ := BuildStatus(&StatusMessage{ID: newUUID(), PackageID: p.ID, From: p.To, To: p.From, Status: DeliveryDone, At: time.Now().UTC().Truncate(time.Second)})
	f.Add(st)
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><edXMLEnvelope>&b;</edXMLEnvelope>`))
	f.Add([]byte(`<edXMLEnvelope xmlns="` + EdXMLNamespace + `"><edXMLHeader><Status/></edXMLHeader></edXMLEnvelope>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		parsed, err := ParseEdXML(data)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) && !errors.Is(err, errs.ErrTooLarge) {
				t.Fatalf("ParseEdXML: %v, not ErrInvalid", err)
			}
			return
		}
		var again []byte
		if parsed.Package != nil {
			again, err = BuildPackage(parsed.Package)
		} else {
			again, err = BuildStatus(parsed.Status)
		}
		if err != nil {
			t.Fatalf("a parsed message does not build back: %v", err)
		}
		back, err := ParseEdXML(again)
		if err != nil {
			t.Fatalf("a rebuilt message does not parse: %v", err)
		}
		if fmt.Sprint(back.Package, back.Status) != fmt.Sprint(parsed.Package, parsed.Status) {
			t.Fatalf("parsed %+v, rebuilt and parsed %+v", parsed, back)
		}
	})
}
