package detect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
)

// export writes evs as a ledger export, as audit's export does.
func export(t *testing.T, evs []audit.Event, end bool) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.Encode(map[string]any{"format": audit.ExportFormat, "origin": "test", "size": len(evs), "from_seq": 0, "to_seq": len(evs) - 1})
	for _, e := range evs {
		leaf, err := e.LeafHash()
		if err != nil {
			t.Fatal(err)
		}
		enc.Encode(map[string]any{"event": e, "leaf_hash": leaf, "proof": [][]byte{}})
	}
	if end {
		enc.Encode(map[string]any{"end": true, "events": len(evs)})
	}
	return b.Bytes()
}

func scenarioEvents(t *testing.T) *world {
	w := newWorld(t)
	at := w.after(t, 25)
	for k := range 46 {
		w.read(3, at.Add(time.Duration(k)*20*time.Second), "document.download", 5000+k, authz.Secret, 1)
	}
	if len(w.out) == 0 {
		t.Fatal("the scenario raised nothing")
	}
	return w
}

func TestReplayScoresAnExportAsLive(t *testing.T) {
	w := scenarioEvents(t)
	var got []Alert
	st, err := Replay(bytes.NewReader(export(t, w.evs, true)), New(Config{}), func(a Alert) error { got = append(got, a); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if !st.Complete || st.Events != len(w.evs) || st.Alerts != len(got) {
		t.Errorf("stats %+v, want complete with %d events", st, len(w.evs))
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", w.out) {
		t.Fatalf("replay raised\n%+v\nlive raised\n%+v", got, w.out)
	}
}

// repeat is n bytes of c, never all in memory.
type repeat struct {
	c byte
	n int
}

func (r *repeat) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n)
	for i := range p[:k] {
		p[i] = r.c
	}
	r.n -= k
	return k, nil
}

func TestReplayRefusesWhatIsNoExport(t *testing.T) {
	w := scenarioEvents(t)
	good := export(t, w.evs[:50], true)
	lines := strings.SplitAfter(string(good), "\n")
	header := lines[0]
	altered := strings.Replace(lines[10], `"outcome":"ok"`, `"outcome":"failed"`, 1)
	swapped := header + lines[2] + lines[1] + strings.Join(lines[3:], "")
	cases := []struct {
		name string
		r    io.Reader
		want string
	}{
		{"empty", strings.NewReader(""), "empty"},
		{"not json", strings.NewReader("hello\n"), "line 1 of the export is not the header"},
		{"another format", strings.NewReader(`{"format":"other"}` + "\n"), "line 1 of the export is not the header"},
		{"a 50 MiB line", io.MultiReader(strings.NewReader(header), &repeat{'a', 50 << 20}), "line 2 of the export is longer than"},
		{"a NUL", strings.NewReader(header + "{\"event\":\x00}\n"), "line 2 of the export holds a NUL"},
		{"bad json", strings.NewReader(header + "{\"event\":\n"), "line 2 of the export does not decode"},
		{"an invalid event", strings.NewReader(header + `{"event":{"seq":0,"time":"2026-01-01T00:00:00Z","actor":{"kind":"alien","id":"x"},"action":"login","level":"none","outcome":"ok"}}` + "\n"), "line 2 of the export holds an invalid event"},
		{"an altered event", strings.NewReader(strings.Join(lines[:10], "") + altered + strings.Join(lines[11:], "")), "line 11 of the export holds event 9, which does not match its leaf hash"},
		{"out of order", strings.NewReader(swapped), "line 3 of the export holds event 0 after event 1"},
		{"no end", bytes.NewReader(export(t, w.evs[:50], false)), "no end line after 50 events"},
		{"broke off", strings.NewReader(strings.Join(lines[:5], "") + `{"error":"disk"}` + "\n"), "broke off at line 6"},
		{"wrong count", strings.NewReader(strings.Join(lines[:5], "") + `{"end":true,"events":9}` + "\n"), "says the export holds 9 events, but 4 came"},
		{"after the end", strings.NewReader(string(good) + lines[3]), "follows the export's end line"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Replay(c.r, New(Config{}), func(Alert) error { return nil })
			if err == nil || !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrInvalid saying %q", err, c.want)
			}
		})
	}
}
