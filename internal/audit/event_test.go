package audit

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
)

func TestValidateNamesTheBadField(t *testing.T) {
	tests := []struct {
		name   string
		change func(e *Event)
		field  string // "" when the event is valid
	}{
		{"valid", func(e *Event) {}, ""},
		{"valid without resource", func(e *Event) { e.ResourceType, e.ResourceID = "", "" }, ""},
		{"valid system actor", func(e *Event) { e.Actor = System("scheduler") }, ""},
		{"unknown actor kind", func(e *Event) { e.Actor.Kind = "robot" }, "actor.kind"},
		{"no actor id", func(e *Event) { e.Actor.ID = "" }, "actor.id"},
		{"actor id too long", func(e *Event) { e.Actor.ID = strings.Repeat("x", maxActorID+1) }, "actor.id"},
		{"newline in actor name", func(e *Event) { e.Actor.Name = "Nguyễn\nVăn" }, "actor.name"},
		{"invalid UTF-8 in reason", func(e *Event) { e.Reason = "a\xffb" }, "reason"},
		{"reason too long", func(e *Event) { e.Reason = strings.Repeat("đ", maxReason) }, "reason"},
		{"no action", func(e *Event) { e.Action = "" }, "action"},
		{"upper-case action", func(e *Event) { e.Action = "Record.Read" }, "action"},
		{"action starting with a digit", func(e *Event) { e.Action = "1read" }, "action"},
		{"resource id without type", func(e *Event) { e.ResourceType = "" }, "resource_type"},
		{"resource type with space", func(e *Event) { e.ResourceType = "a b" }, "resource_type"},
		{"negative unit", func(e *Event) { e.UnitID = -1 }, "unit_id"},
		{"unknown level", func(e *Event) { e.Level = authz.TopSecret + 1 }, "level"},
		{"no outcome", func(e *Event) { e.Outcome = "" }, "outcome"},
		{"time before 1970", func(e *Event) { e.Time = time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC) }, "time"},
		{"too many attributes", func(e *Event) {
			e.Attrs = map[string]string{}
			for i := range MaxAttrs + 1 {
				e.Attrs[string(rune('a'+i))] = "v"
			}
		}, "attrs"},
		{"empty attribute name", func(e *Event) { e.Attrs = map[string]string{"": "v"} }, "attrs"},
		{"bad attribute name", func(e *Event) { e.Attrs = map[string]string{"IP": "v"} }, "attrs"},
		{"control character in attribute", func(e *Event) { e.Attrs = map[string]string{"ip": "1\x00"} }, "attrs.ip"},
		{"attribute value too long", func(e *Event) { e.Attrs = map[string]string{"ip": strings.Repeat("1", maxAttrValue+1)} }, "attrs.ip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testEvent(5)
			tt.change(&e)
			err := e.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var fe *errs.FieldError
			if !errors.As(err, &fe) || !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("Validate() = %v, want an *errs.FieldError", err)
			}
			if fe.Field != tt.field {
				t.Errorf("field = %q, want %q (%v)", fe.Field, tt.field, err)
			}
		})
	}
}

// TestLeafEncodingVersion1 pins the documented encoding: outside
// verifiers depend on it byte for byte.
func TestLeafEncodingVersion1(t *testing.T) {
	e := Event{
		Time:         time.UnixMicro(0x0102030405).UTC(),
		Actor:        Actor{Kind: ActorStaff, ID: "7", Name: "Lê"},
		UnitID:       3,
		Action:       "login",
		ResourceType: "r",
		ResourceID:   "x",
		Level:        authz.Secret,
		Outcome:      OK,
		Reason:       "",
		RequestID:    "q",
		Attrs:        map[string]string{"b": "2", "a": "1"},
	}
	got, err := e.MarshalLeaf()
	if err != nil {
		t.Fatal(err)
	}
	want := "01" + "0000000102030405" +
		"0005" + hex.EncodeToString([]byte("staff")) + "0001" + "37" + "0003" + hex.EncodeToString([]byte("Lê")) +
		"0000000000000003" +
		"0005" + hex.EncodeToString([]byte("login")) + "0001" + "72" + "0001" + "78" +
		"02" +
		"0002" + hex.EncodeToString([]byte("ok")) + "0000" + "0001" + "71" +
		"02" + "0001" + "61" + "0001" + "31" + "0001" + "62" + "0001" + "32"
	if hex.EncodeToString(got) != want {
		t.Errorf("MarshalLeaf =\n%x\nwant\n%s", got, want)
	}
}

func TestLeafHashCoversEveryField(t *testing.T) {
	base := testEvent(5)
	baseHash, err := base.LeafHash()
	if err != nil {
		t.Fatal(err)
	}
	changes := map[string]func(e *Event){
		"time":          func(e *Event) { e.Time = e.Time.Add(time.Microsecond) },
		"actor kind":    func(e *Event) { e.Actor.Kind = ActorCitizen },
		"actor id":      func(e *Event) { e.Actor.ID += "0" },
		"actor name":    func(e *Event) { e.Actor.Name += "." },
		"unit":          func(e *Event) { e.UnitID++ },
		"action":        func(e *Event) { e.Action = "record.delete" },
		"resource type": func(e *Event) { e.ResourceType = "dossier" },
		"resource id":   func(e *Event) { e.ResourceID += "0" },
		"level":         func(e *Event) { e.Level = (e.Level + 1) % 4 },
		"outcome":       func(e *Event) { e.Outcome = Failed },
		"reason":        func(e *Event) { e.Reason = "other" },
		"request id":    func(e *Event) { e.RequestID += "0" },
		"attr value":    func(e *Event) { e.Attrs["ip"] = "10.9.9.9" },
		"attr added":    func(e *Event) { e.Attrs["x"] = "" },
		// Moving a character between adjacent fields must change the
		// hash: lengths prefix every field.
		"field boundary": func(e *Event) { e.ResourceType, e.ResourceID = e.ResourceType+e.ResourceID[:1], e.ResourceID[1:] },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			e := testEvent(5)
			change(&e)
			h, err := e.LeafHash()
			if err != nil {
				t.Fatal(err)
			}
			if string(h) == string(baseHash) {
				t.Errorf("changing the %s left the leaf hash unchanged", name)
			}
		})
	}
	e := testEvent(5)
	e.Seq = 99
	if h, _ := e.LeafHash(); string(h) != string(baseHash) {
		t.Errorf("the leaf hash depends on Seq, which the leaf index covers")
	}
}
