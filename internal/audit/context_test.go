package audit

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"chancery/internal/authz"
)

func TestOriginFromReportsWhetherAnOriginWasSet(t *testing.T) {
	if o, ok := OriginFrom(context.Background()); ok || o != (Origin{}) {
		t.Fatalf("OriginFrom(empty context) = %+v, %v; want nothing", o, ok)
	}
	want := Origin{Actor: Staff(7, "lan.nguyen"), UnitID: 3, RequestID: "req-1"}
	ctx := WithOrigin(context.Background(), want)
	if got, ok := OriginFrom(ctx); !ok || got != want {
		t.Fatalf("OriginFrom = %+v, %v; want %+v", got, ok, want)
	}
	// An anonymous origin is still an origin: the request id travels.
	anon := WithOrigin(context.Background(), Origin{RequestID: "req-2"})
	got, ok := OriginFrom(anon)
	if !ok || !got.Anonymous() || got.RequestID != "req-2" {
		t.Fatalf("OriginFrom(anonymous) = %+v, %v; want an anonymous origin with its request id", got, ok)
	}
	if (Origin{Actor: System("cli")}).Anonymous() {
		t.Error("an origin with a system actor reports itself anonymous")
	}
}

func TestOriginEventCarriesActorUnitAndRequest(t *testing.T) {
	o := Origin{Actor: Staff(7, "lan.nguyen"), UnitID: 3, RequestID: "req-1"}
	e := o.Event("unit.update")
	if e.Actor != o.Actor || e.UnitID != 3 || e.RequestID != "req-1" || e.Action != "unit.update" || e.Outcome != OK {
		t.Fatalf("Event = %+v", e)
	}
	if err := e.Validate(); err != nil {
		t.Fatalf("the event of a signed-in origin does not validate: %v", err)
	}
	// An anonymous origin's event names no actor, so the ledger refuses
	// it until the capability names one.
	anon := Origin{RequestID: "req-2"}.Event("login")
	if err := anon.Validate(); err == nil {
		t.Fatal("an event without an actor validates")
	}
}

func TestActorOf(t *testing.T) {
	tests := []struct {
		name     string
		subject  authz.Subject
		username string
		want     Actor
		ok       bool
	}{
		{"staff by username", authz.Subject{Kind: authz.Staff, ID: 42, Unit: 3}, "lan.nguyen", Actor{Kind: ActorStaff, ID: "42", Name: "lan.nguyen"}, true},
		{"citizen without the e-mail address", authz.Subject{Kind: authz.Citizen, ID: 9}, "hoa.le@example.com", Actor{Kind: ActorCitizen, ID: "9"}, true},
		{"an information system by its subsystem", authz.Subject{Kind: authz.Client, Subsystem: "VN/GOV/000.00.00.G12/procedures"}, "VN/GOV/000.00.00.G12/procedures",
			Actor{Kind: ActorMember, ID: "VN/GOV/000.00.00.G12/procedures"}, true},
		{"anonymous", authz.Subject{}, "", Actor{}, false},
		{"the node", authz.Subject{Kind: authz.System}, "", Actor{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ActorOf(tt.subject, tt.username)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("ActorOf = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestAttrValueMakesAnyTextStorable(t *testing.T) {
	long := strings.Repeat("Tuyệt mật ", 40) // 3-byte characters straddle the limit
	tests := []struct {
		name, in, want string
	}{
		{"plain text is kept", "lan.nguyen", "lan.nguyen"},
		{"Vietnamese is kept", "Nguyễn Thị Lan", "Nguyễn Thị Lan"},
		{"control characters are replaced", "eve\nlogin ok\x00", "eve\uFFFDlogin ok\uFFFD"},
		{"invalid UTF-8 is replaced", "a\xffb", "a\uFFFDb"},
		{"exactly the limit is kept", strings.Repeat("x", maxAttrValue), strings.Repeat("x", maxAttrValue)},
		{"over the limit is cut", strings.Repeat("x", maxAttrValue+1), strings.Repeat("x", maxAttrValue-len("…")) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AttrValue(tt.in); got != tt.want {
				t.Fatalf("AttrValue(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
	got := AttrValue(long)
	if len(got) > maxAttrValue || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Fatalf("AttrValue(long) = %q (%d bytes); want a valid prefix ending in … within %d bytes", got, len(got), maxAttrValue)
	}
	for _, in := range []string{long, "eve\r\n\t", "\xc3", strings.Repeat("\x01", 400)} {
		e := Event{Actor: System("auth"), Action: "login", Outcome: Failed, Attrs: map[string]string{"username": AttrValue(in)}}
		if err := e.Validate(); err != nil {
			t.Errorf("an event with AttrValue(%q) does not validate: %v", in, err)
		}
	}
}
