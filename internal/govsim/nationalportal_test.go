package govsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"chancery/internal/errs"
)

// validUpdate returns the fields of a valid status update, changed by
// mods.
func validUpdate(mods ...func(map[string]any)) map[string]any {
	m := map[string]any{
		"dossier_code": "000.00.03.G12-250301-0007", "procedure_code": "1.000487", "status": 4, "status_name": "Đang xử lý",
		"channel": 2, "paid": true, "paid_online": true, "updated_at": "2025-03-05T10:15:00+07:00", "agency_code": "000.00.00.G12",
	}
	for _, mod := range mods {
		mod(m)
	}
	return m
}

func set(field string, v any) func(map[string]any) { return func(m map[string]any) { m[field] = v } }

func without(field string) func(map[string]any) { return func(m map[string]any) { delete(m, field) } }

func encode(tb testing.TB, m map[string]any) []byte {
	tb.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

var updateFields = []string{"dossier_code", "procedure_code", "status", "status_name", "channel", "paid", "paid_online", "updated_at", "agency_code"}

func TestDecodeStatusUpdateAcceptsAValidUpdate(t *testing.T) {
	tests := []struct {
		name string
		mods []func(map[string]any)
		want StatusUpdate
	}{
		{"paid online", nil, StatusUpdate{DossierCode: "000.00.03.G12-250301-0007", ProcedureCode: "1.000487", Status: 4,
			StatusName: "Đang xử lý", Channel: Online, Paid: true, PaidOnline: true,
			UpdatedAt: time.Date(2025, 3, 5, 3, 15, 0, 0, time.UTC), AgencyCode: "000.00.00.G12"}},
		{"in person, unpaid, first minute of the day of receipt in Hà Nội", []func(map[string]any){
			set("channel", 1), set("paid", false), set("paid_online", false), set("status", 1), set("status_name", "  Mới đăng ký "),
			set("updated_at", "2025-02-28T17:00:00Z"), set("dossier_code", "000.01.02.G12-250301-1")},
			StatusUpdate{DossierCode: "000.01.02.G12-250301-1", ProcedureCode: "1.000487", Status: 1, StatusName: "Mới đăng ký",
				Channel: InPerson, UpdatedAt: time.Date(2025, 2, 28, 17, 0, 0, 0, time.UTC), AgencyCode: "000.00.00.G12"}},
		{"postal, paid at the counter, result returned, within the clock skew", []func(map[string]any){
			set("channel", 3), set("paid_online", false), set("status", 10), set("status_name", "Đã trả kết quả"),
			set("updated_at", "2025-03-10T09:04:59.5Z"), set("dossier_code", "000.00.03.G12-250310-12345678")},
			StatusUpdate{DossierCode: "000.00.03.G12-250310-12345678", ProcedureCode: "1.000487", Status: 10, StatusName: "Đã trả kết quả",
				Channel: Postal, Paid: true, UpdatedAt: time.Date(2025, 3, 10, 9, 4, 59, 5e8, time.UTC), AgencyCode: "000.00.00.G12"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeStatusUpdate(encode(t, validUpdate(tt.mods...)), testNow)
			if err != nil {
				t.Fatalf("decodeStatusUpdate: %v", err)
			}
			if !got.UpdatedAt.Equal(tt.want.UpdatedAt) {
				t.Errorf("updated_at %v, want %v", got.UpdatedAt, tt.want.UpdatedAt)
			}
			got.UpdatedAt, tt.want.UpdatedAt = time.Time{}, time.Time{}
			if got != tt.want {
				t.Errorf("decoded %+v,\nwant    %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeStatusUpdateNamesTheFieldAtFault(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(map[string]any)
		field string
		fault string
	}{
		{"dossier code without sequence", set("dossier_code", "000.00.03.G12-250301"), "dossier_code", "{agency code}-{yymmdd}-{sequence}"},
		{"dossier code without agency code", set("dossier_code", "G12-250301-0007"), "dossier_code", "{agency code}"},
		{"dossier code in lower case", set("dossier_code", "000.00.03.g12-250301-0007"), "dossier_code", "{agency code}"},
		{"dossier code with a space", set("dossier_code", " 000.00.03.G12-250301-0007"), "dossier_code", "{agency code}"},
		{"dossier sequence of nine digits", set("dossier_code", "000.00.03.G12-250301-123456789"), "dossier_code", "{sequence}"},
		{"dossier dated 30 February", set("dossier_code", "000.00.03.G12-250230-0007"), "dossier_code", "250230 is not a day"},
		{"dossier dated month 13", set("dossier_code", "000.00.03.G12-251301-0007"), "dossier_code", "251301 is not a day"},
		{"dossier dated tomorrow", set("dossier_code", "000.00.03.G12-250311-0007"), "dossier_code", "has not come yet"},
		{"dossier code a number", set("dossier_code", 7), "dossier_code", "must be a string"},
		{"procedure code without dot", set("procedure_code", "1000487"), "procedure_code", "a digit, a dot and six digits"},
		{"procedure code too short", set("procedure_code", "1.00048"), "procedure_code", "a digit, a dot and six digits"},
		{"old-style procedure code", set("procedure_code", "B-BNG-285312-TT"), "procedure_code", "a digit, a dot and six digits"},
		{"status 0", set("status", 0), "status", "from 1 to 10, not 0"},
		{"status 11", set("status", 11), "status", "from 1 to 10, not 11"},
		{"status negative", set("status", -4), "status", "not -4"},
		{"status a string", set("status", "4"), "status", "must be a number"},
		{"status a fraction", set("status", 4.5), "status", "must be a number"},
		{"status name empty", set("status_name", ""), "status_name", "must not be blank"},
		{"status name blank", set("status_name", " \u00a0 "), "status_name", "must not be blank"},
		{"status name too long", set("status_name", strings.Repeat("ử", 201)), "status_name", "longer than 200"},
		{"status name with a line break", set("status_name", "Đang\nxử lý"), "status_name", "control characters"},
		{"channel 0", set("channel", 0), "channel", "not 0"},
		{"channel 4", set("channel", 4), "channel", "1 (in person), 2 (online) or 3 (postal), not 4"},
		{"paid a string", set("paid", "yes"), "paid", "true or false"},
		{"paid online but not paid", set("paid", false), "paid_online", "cannot be true while paid is false"},
		{"time without offset", set("updated_at", "2025-03-05T10:15:00"), "updated_at", "RFC 3339"},
		{"time with a space", set("updated_at", "2025-03-05 10:15:00+07:00"), "updated_at", "RFC 3339"},
		{"time a number", set("updated_at", 1741144500), "updated_at", "must be a string"},
		{"time before the day of receipt", set("updated_at", "2025-02-28T23:59:59+07:00"), "updated_at", "before the day"},
		{"time beyond the clock skew", set("updated_at", "2025-03-10T09:05:01Z"), "updated_at", "in the future"},
		{"agency code in lower case", set("agency_code", "000.00.00.g12"), "agency_code", "NNN.NN.NN.XNN"},
		{"agency code short", set("agency_code", "G12"), "agency_code", "NNN.NN.NN.XNN"},
		{"unknown field", set("note", "x"), "note", "unknown field"},
		{"null dossier code", set("dossier_code", nil), "dossier_code", "is required"},
	}
	for _, f := range updateFields {
		tests = append(tests, struct {
			name  string
			mod   func(map[string]any)
			field string
			fault string
		}{"missing " + f, without(f), f, "is required"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeStatusUpdate(encode(t, validUpdate(tt.mod)), testNow)
			var fe *errs.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("decodeStatusUpdate = %v, want a FieldError for %s", err, tt.field)
			}
			if fe.Field != tt.field || !strings.Contains(fe.Message, tt.fault) {
				t.Errorf("FieldError %s: %q, want %s: …%s…", fe.Field, fe.Message, tt.field, tt.fault)
			}
		})
	}
}

func TestDecodeStatusUpdateRefusesBodiesThatAreNotOneObject(t *testing.T) {
	valid := string(encode(t, validUpdate()))
	tests := []struct {
		name, body string
		kind       error
	}{
		{"empty", "", errs.ErrInvalid},
		{"array", "[" + valid + "]", errs.ErrInvalid},
		{"two objects", valid + valid, errs.ErrInvalid},
		{"truncated", valid[:len(valid)-1], errs.ErrInvalid},
		{"not UTF-8", strings.Replace(valid, "Đang", "\xff", 1), errs.ErrInvalid},
		{"over the limit", strings.Replace(valid, "Đang xử lý", strings.Repeat(" ", maxStatusBody), 1), errs.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeStatusUpdate([]byte(tt.body), testNow); !errors.Is(err, tt.kind) {
				t.Errorf("decodeStatusUpdate = %v, want %v", err, tt.kind)
			}
		})
	}
}

// nationalPortalServer serves a portal simulator with the test clock.
type nationalPortalServer struct {
	p   *NationalPortal
	url string
}

func serveNationalPortal(tb testing.TB, capacity int) nationalPortalServer {
	tb.Helper()
	p := newNationalPortal(capacity, fixedClock)
	srv := httptest.NewServer(p.handler(discard))
	tb.Cleanup(srv.Close)
	return nationalPortalServer{p: p, url: srv.URL}
}

func (s nationalPortalServer) post(tb testing.TB, contentType string, body []byte) *http.Response {
	tb.Helper()
	resp, err := http.Post(s.url+"/v1/dossier-statuses", contentType, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	return resp
}

// postOK posts an update and fails unless it is answered 204.
func (s nationalPortalServer) postOK(tb testing.TB, m map[string]any) {
	tb.Helper()
	resp := s.post(tb, "application/json", encode(tb, m))
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		tb.Fatalf("POST = %d, want 204", resp.StatusCode)
	}
}

func (s nationalPortalServer) list(tb testing.TB, query string) []StatusUpdate {
	tb.Helper()
	resp := get(tb, s.url+"/v1/dossier-statuses"+query)
	defer resp.Body.Close()
	var l struct{ Updates []StatusUpdate }
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s = %d, %v", query, resp.StatusCode, err)
	}
	return l.Updates
}

func TestNationalPortalRefusesBadUpdatesWithAProblemAndStoresNothing(t *testing.T) {
	s := serveNationalPortal(t, NationalPortalCapacity)
	tests := []struct {
		name, contentType string
		body              []byte
		status            int
		field             string
	}{
		{"bad status", "application/json", encode(t, validUpdate(set("status", 12))), http.StatusBadRequest, "status"},
		{"unknown field", "application/json", encode(t, validUpdate(set("priority", 1))), http.StatusBadRequest, "priority"},
		{"missing agency code", "application/json; charset=utf-8", encode(t, validUpdate(without("agency_code"))), http.StatusBadRequest, "agency_code"},
		{"form content type", "application/x-www-form-urlencoded", encode(t, validUpdate()), http.StatusBadRequest, ""},
		{"no content type", "", encode(t, validUpdate()), http.StatusBadRequest, ""},
		{"over the limit", "application/json", bytes.Repeat([]byte(" "), maxStatusBody+1), http.StatusRequestEntityTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := readProblem(t, s.post(t, tt.contentType, tt.body), tt.status)
			if tt.field != "" && p.Errors[tt.field] == "" {
				t.Errorf("problem %+v does not name %s", p, tt.field)
			}
		})
	}
	if n := s.p.Len(); n != 0 {
		t.Errorf("%d refused updates were stored", n)
	}
}

func TestNationalPortalStoresARedeliveredUpdateOnce(t *testing.T) {
	s := serveNationalPortal(t, NationalPortalCapacity)
	first := validUpdate()
	s.postOK(t, first)
	s.postOK(t, first)
	// The same instant written in UTC is the same update.
	s.postOK(t, validUpdate(set("updated_at", "2025-03-05T03:15:00Z")))
	// Another name for the status, in a redelivery, changes nothing.
	s.postOK(t, validUpdate(set("status_name", "In progress")))
	if got := s.list(t, ""); len(got) != 1 || got[0].StatusName != "Đang xử lý" {
		t.Fatalf("after four deliveries of one update, the portal holds %+v", got)
	}
	// Another status, or another time, is another update.
	s.postOK(t, validUpdate(set("status", 5), set("status_name", "Yêu cầu bổ sung giấy tờ")))
	s.postOK(t, validUpdate(set("updated_at", "2025-03-05T10:15:01+07:00")))
	s.postOK(t, validUpdate(set("dossier_code", "000.00.03.G12-250301-0008")))
	if n := s.p.Len(); n != 4 {
		t.Errorf("the portal holds %d updates, want 4", n)
	}
	if got := s.p.Updates("")[0]; !got.ReceivedAt.Equal(testNow) {
		t.Errorf("received_at %v, want the simulator's clock %v", got.ReceivedAt, testNow)
	}
}

func TestNationalPortalListsUpdatesNewestFirstByDossier(t *testing.T) {
	s := serveNationalPortal(t, NationalPortalCapacity)
	a, b := "000.00.03.G12-250301-0001", "000.01.02.G12-250302-0002"
	for i, step := range []struct {
		code   string
		status int
	}{{a, 1}, {b, 1}, {a, 2}, {a, 4}, {b, 2}} {
		s.postOK(t, validUpdate(set("dossier_code", step.code), set("status", step.status),
			set("updated_at", fmt.Sprintf("2025-03-05T10:%02d:00+07:00", i))))
	}
	tests := []struct {
		query string
		want  []string // dossier code/status, newest first
	}{
		{"", []string{b + "/2", a + "/4", a + "/2", b + "/1", a + "/1"}},
		{"?dossier_code=" + a, []string{a + "/4", a + "/2", a + "/1"}},
		{"?dossier_code=" + b, []string{b + "/2", b + "/1"}},
		{"?dossier_code=000.00.03.G12-250301-0099", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, u := range s.list(t, tt.query) {
			got = append(got, fmt.Sprintf("%s/%d", u.DossierCode, u.Status))
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("GET %q lists %v, want %v", tt.query, got, tt.want)
		}
	}
	p := readProblem(t, get(t, s.url+"/v1/dossier-statuses?dossier_code=nonsense"), http.StatusBadRequest)
	if p.Errors["dossier_code"] == "" {
		t.Errorf("problem %+v does not name dossier_code", p)
	}
}

func TestNationalPortalEvictsTheOldestPastItsCapacity(t *testing.T) {
	p := newNationalPortal(3, fixedClock)
	update := func(seq int) StatusUpdate {
		return StatusUpdate{DossierCode: fmt.Sprintf("000.00.03.G12-250301-%d", seq), Status: 2, UpdatedAt: testNow}
	}
	codes := func() []int {
		var out []int
		for _, u := range p.Updates("") {
			var seq int
			fmt.Sscanf(u.DossierCode[len("000.00.03.G12-250301-"):], "%d", &seq)
			out = append(out, seq)
		}
		return out
	}
	steps := []struct {
		receive int
		stored  bool
		want    []int // held, newest first
	}{
		{1, true, []int{1}},
		{2, true, []int{2, 1}},
		{3, true, []int{3, 2, 1}},
		{4, true, []int{4, 3, 2}},
		{5, true, []int{5, 4, 3}},
		{4, false, []int{5, 4, 3}}, // a redelivery of one held
		{1, true, []int{1, 5, 4}},  // one evicted is new again
		{6, true, []int{6, 1, 5}},
		{7, true, []int{7, 6, 1}},
	}
	for _, st := range steps {
		if stored := p.receive(update(st.receive)); stored != st.stored {
			t.Errorf("receive(%d) stored: %v, want %v", st.receive, stored, st.stored)
		}
		if got := codes(); fmt.Sprint(got) != fmt.Sprint(st.want) {
			t.Fatalf("after receive(%d), held %v, want %v", st.receive, got, st.want)
		}
		if p.Len() != len(st.want) || len(p.seen) != len(st.want) {
			t.Fatalf("after receive(%d), Len %d and %d keys, want %d", st.receive, p.Len(), len(p.seen), len(st.want))
		}
	}
	if NationalPortalCapacity != 10_000 || newNationalPortal(NationalPortalCapacity, fixedClock).Capacity() != NationalPortalCapacity {
		t.Errorf("the portal's bound is %d; the package documents 10,000", NationalPortalCapacity)
	}
}

func TestNationalPortalIsSafeForConcurrentUse(t *testing.T) {
	t.Run("redeliveries over HTTP", func(t *testing.T) {
		s := serveNationalPortal(t, NationalPortalCapacity)
		const senders, updates = 8, 25
		var wg sync.WaitGroup
		for range senders {
			wg.Go(func() {
				// Every sender delivers the same updates: each must be stored
				// once. (t.Fatal may not be called from this goroutine.)
				for i := range updates {
					body := encode(t, validUpdate(set("dossier_code", fmt.Sprintf("000.00.03.G12-250301-%d", i))))
					resp, err := http.Post(s.url+"/v1/dossier-statuses", "application/json", bytes.NewReader(body))
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusNoContent {
						t.Errorf("POST = %d, want 204", resp.StatusCode)
					}
					if resp, err = http.Get(s.url + "/v1/dossier-statuses"); err == nil {
						resp.Body.Close()
					}
				}
			})
		}
		wg.Wait()
		if n := s.p.Len(); n != updates {
			t.Errorf("the portal holds %d updates, want %d", n, updates)
		}
	})
	t.Run("eviction", func(t *testing.T) {
		p := newNationalPortal(16, fixedClock)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 200 {
					p.receive(StatusUpdate{DossierCode: fmt.Sprintf("000.00.03.G12-250301-%d", g*1000+i), Status: 1, UpdatedAt: testNow})
					p.Updates("")
				}
			})
		}
		wg.Wait()
		held := p.Updates("")
		keys := map[updateKey]bool{}
		for _, u := range held {
			keys[keyOf(u)] = true
		}
		if len(held) != 16 || len(keys) != 16 || len(p.seen) != 16 {
			t.Errorf("held %d updates, %d distinct, %d keys; want 16 of each", len(held), len(keys), len(p.seen))
		}
		for k := range keys {
			if _, ok := p.seen[k]; !ok {
				t.Errorf("held update %v is not among the keys", k)
			}
		}
	})
}

func TestNationalPortalOpenAPIDescribesWhatIsServed(t *testing.T) {
	d := parseOpenAPI(t, NationalPortalOpenAPI())
	checkSchema(t, "StatusUpdate", d.Components.Schemas["StatusUpdate"], slices.Sorted(slices.Values(updateFields)))
	methods := map[string][]string{}
	for path, ops := range d.Paths {
		for m := range ops {
			methods[path] = append(methods[path], m)
		}
	}
	if fmt.Sprint(len(methods["/v1/dossier-statuses"]), len(methods["/v1/openapi.json"]), len(methods)) != "2 1 2" {
		t.Errorf("paths and methods %v", methods)
	}
	s := serveNationalPortal(t, NationalPortalCapacity)
	s.postOK(t, validUpdate())
	s.list(t, "")
	resp := get(t, s.url+"/v1/openapi.json")
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v1/openapi.json = %d", resp.StatusCode)
	}
}

// FuzzDecodeStatusUpdate pins that no body, however hostile, panics the
// decoder or is refused as anything but bad input; and that what it
// accepts keeps the portal's rules.
func FuzzDecodeStatusUpdate(f *testing.F) {
	valid := validUpdate()
	f.Add(encode(f, valid))
	for _, field := range updateFields {
		f.Add(encode(f, validUpdate(without(field))))
	}
	for _, seed := range []string{``, `{}`, `[]`, `null`, `{"status": 1e999}`, `{"status": "1"}`, `{"dossier_code": "\ud800"}`,
		`{"paid": null}`, "{\"status_name\": \"\xff\"}", `{"updated_at": "2025-13-45T99:99:99Z"}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := decodeStatusUpdate(body, testNow)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) && !errors.Is(err, errs.ErrTooLarge) {
				t.Fatalf("decodeStatusUpdate(%q) = %v, of neither kind ErrInvalid nor ErrTooLarge", body, err)
			}
			return
		}
		if u.Status < 1 || u.Status > 10 || u.Channel < InPerson || u.Channel > Postal || (u.PaidOnline && !u.Paid) ||
			u.StatusName == "" || !dossierCodePattern.MatchString(u.DossierCode) || !agencyCodePattern.MatchString(u.AgencyCode) ||
			u.UpdatedAt.After(testNow.Add(clockSkew)) {
			t.Fatalf("decodeStatusUpdate(%q) accepted %+v", body, u)
		}
		// What was accepted, sent again as the portal would echo it, is the same update.
		again, err := decodeStatusUpdate(encode(t, map[string]any{
			"dossier_code": u.DossierCode, "procedure_code": u.ProcedureCode, "status": u.Status, "status_name": u.StatusName,
			"channel": u.Channel, "paid": u.Paid, "paid_online": u.PaidOnline, "updated_at": u.UpdatedAt.Format(time.RFC3339Nano),
			"agency_code": u.AgencyCode,
		}), testNow)
		if err != nil || keyOf(again) != keyOf(u) {
			t.Fatalf("re-encoded %+v: %v, %+v", u, err, again)
		}
	})
}
