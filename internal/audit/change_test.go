package audit

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"testing"

	"chancery/internal/errs"
	"chancery/internal/store"
)

// recorderFunc is a Recorder made of a function.
type recorderFunc func(ctx context.Context, tx *store.Tx, e Event) error

func (f recorderFunc) AppendTx(ctx context.Context, tx *store.Tx, e Event) error {
	return f(ctx, tx, e)
}

// kinds are the error kinds the web layer maps to a caller's status; an
// internal error has none of them.
var kinds = []error{errs.ErrInvalid, errs.ErrNotFound, errs.ErrConflict, errs.ErrUnauthenticated, errs.ErrForbidden,
	errs.ErrRateLimited, errs.ErrUnavailable, errs.ErrTooLarge}

func hasKind(err error) bool {
	for _, k := range kinds {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// TestWriterOriginOneRuleForWhoActs pins the one rule every capability
// follows: a missing recorder or a missing origin is the program's fault
// (an internal error, no kind), an anonymous origin is the caller's
// (unauthenticated), and a signed-in or system origin acts.
func TestWriterOriginOneRuleForWhoActs(t *testing.T) {
	ok := recorderFunc(func(context.Context, *store.Tx, Event) error { return nil })
	staff := Origin{Actor: Staff(7, "lan"), UnitID: 3, RequestID: "req-1"}
	tests := []struct {
		name    string
		w       Writer
		ctx     context.Context
		want    Origin
		wantErr error
		kind    error // the error kind the caller sees; nil: internal
	}{
		{"no recorder", NewWriter("identity", nil), WithOrigin(context.Background(), staff), Origin{}, ErrNoRecorder, nil},
		{"zero writer", Writer{}, WithOrigin(context.Background(), staff), Origin{}, ErrNoRecorder, nil},
		{"no origin", NewWriter("procedures", ok), context.Background(), Origin{}, ErrNoOrigin, nil},
		{"anonymous", NewWriter("registry", ok), WithOrigin(context.Background(), Origin{RequestID: "req-2"}), Origin{},
			errs.ErrUnauthenticated, errs.ErrUnauthenticated},
		{"staff", NewWriter("identity", ok), WithOrigin(context.Background(), staff), staff, nil, nil},
		{"system", NewWriter("identity", ok), WithOrigin(context.Background(), Origin{Actor: System("cli")}), Origin{Actor: System("cli")}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.w.Origin(tt.ctx)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Origin = %v; want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Origin = %+v; want %+v", got, tt.want)
			}
			if err == nil {
				return
			}
			if tt.kind == nil && hasKind(err) {
				t.Errorf("Origin's error %q has an error kind; a wiring mistake must reach users as an internal error", err)
			}
			if tt.kind != nil && !errors.Is(err, tt.kind) {
				t.Errorf("Origin's error %q is not %v", err, tt.kind)
			}
		})
	}
}

// TestWriterRecordKeepsNoKindOfTheLedgersRefusal checks that a ledger's
// refusal, whatever its kind, makes an internal error that names the
// event, and that events reach the recorder unchanged.
func TestWriterRecordKeepsNoKindOfTheLedgersRefusal(t *testing.T) {
	var got []Event
	w := NewWriter("identity", recorderFunc(func(_ context.Context, _ *store.Tx, e Event) error {
		got = append(got, e)
		if e.Action == "unit.bad" {
			return errs.Invalid("attrs", "too many")
		}
		return nil
	}))
	e := Origin{Actor: System("cli")}.Event("unit.create")
	e.ResourceType, e.ResourceID = "unit", "12"
	if err := w.Record(context.Background(), nil, e); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Action != "unit.create" || got[0].ResourceID != "12" {
		t.Fatalf("recorded %+v", got)
	}
	bad := e
	bad.Action = "unit.bad"
	err := w.Record(context.Background(), nil, bad)
	if err == nil || hasKind(err) || !strings.Contains(err.Error(), "record unit.bad of unit 12") || !strings.Contains(err.Error(), "too many") {
		t.Errorf("Record of a refused event = %v; want an internal error naming the event and the ledger's reason", err)
	}
	// A database that went away while the event was appended is the one
	// cause kept: the client is told to retry, not shown a 500.
	lost := NewWriter("identity", recorderFunc(func(context.Context, *store.Tx, Event) error {
		return fmt.Errorf("audit: append: %w", driver.ErrBadConn)
	}))
	if err := lost.Record(context.Background(), nil, e); !errs.IsUnavailable(err) || !strings.Contains(err.Error(), "record unit.create of unit 12") {
		t.Errorf("Record while the database is lost = %v; want it unavailable, naming the event", err)
	}
	if err := (Writer{}).Record(context.Background(), nil, e); !errors.Is(err, ErrNoRecorder) {
		t.Errorf("Record without a recorder = %v; want ErrNoRecorder", err)
	}
}

// TestWriterAnyOriginAdmitsOnlyTheAnonymous checks that the changes a
// caller who has not signed in may make (a registration) still need a
// recorder and an origin.
func TestWriterAnyOriginAdmitsOnlyTheAnonymous(t *testing.T) {
	ok := recorderFunc(func(context.Context, *store.Tx, Event) error { return nil })
	anon := Origin{RequestID: "req-3"}
	if o, err := NewWriter("identity", ok).AnyOrigin(WithOrigin(context.Background(), anon)); err != nil || o != anon {
		t.Errorf("AnyOrigin(anonymous) = %+v, %v; want the anonymous origin", o, err)
	}
	if _, err := NewWriter("identity", ok).AnyOrigin(context.Background()); !errors.Is(err, ErrNoOrigin) || hasKind(err) {
		t.Errorf("AnyOrigin(no origin) = %v; want ErrNoOrigin as an internal error", err)
	}
	if _, err := NewWriter("identity", nil).AnyOrigin(WithOrigin(context.Background(), anon)); !errors.Is(err, ErrNoRecorder) {
		t.Errorf("AnyOrigin(no recorder) = %v; want ErrNoRecorder", err)
	}
}
