package procedures

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// applyOnline takes an application of procedure with form through the
// online steps as sub: draft, every required file, the fee paid,
// submission.
func (f *fixture) applyOnline(t *testing.T, sub authz.Subject, procedure string, form map[string]any) *Dossier {
	t.Helper()
	ctx := f.as(sub)
	d, err := f.svc.CreateDraft(ctx, sub, NewDraft{Procedure: procedure, UnitCode: consularCode, Form: form})
	if err != nil {
		t.Fatalf("CreateDraft %s: %v", procedure, err)
	}
	if err := attachDemoScans(ctx, f.svc, sub, d); err != nil {
		t.Fatal(err)
	}
	if d.FeeAmount > 0 {
		if err := f.svc.RecordPayment(ctx, PaymentReport{TransactionID: "tx-" + d.ID, OrderID: d.ID, Amount: d.FeeAmount,
			Currency: d.FeeCurrency, PaidAt: f.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := f.svc.SubmitDraft(ctx, sub, d.ID)
	if err != nil {
		t.Fatalf("SubmitDraft %s: %v", procedure, err)
	}
	return ds
}

// codesOf returns the codes of items, in order.
func codesOf(items []QueueItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Code
	}
	return out
}

func TestCitizenSearchesFiltersAndPagesTheirDossiers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.as(f.citizen)
		// Seven dossiers a day apart, newest last: five legalizations and
		// two passports (the 3rd and 6th); another citizen's one.
		start := f.clock.Now()
		var newestFirst, passports []string
		for i := range 7 {
			procedure, form := "1.900001", legalizationForm()
			if i == 2 || i == 5 {
				procedure, form = "1.900005", passportForm()
			}
			d := f.applyOnline(t, f.citizen, procedure, form)
			newestFirst = append([]string{d.Code}, newestFirst...)
			if procedure == "1.900005" {
				passports = append([]string{d.Code}, passports...)
			}
			f.clock.Advance(24 * time.Hour)
		}
		f.applyOnline(t, f.other, "1.900005", passportForm())
		received := f.act(t, f.clerk, passports[0], ActionRequest{Action: ActReceive})

		list := func(q CitizenQuery) CitizenPage {
			t.Helper()
			p, err := f.svc.CitizenDossiers(ctx, f.citizen, q)
			if err != nil {
				t.Fatalf("%+v: %v", q, err)
			}
			return p
		}
		// Pages of three cover every dossier once, newest first.
		var got []string
		for page := 1; ; page++ {
			p := list(CitizenQuery{Page: page, Size: 3})
			if p.Total != 7 || p.Pages() != 3 || p.Capped {
				t.Fatalf("page %d: total %d, pages %d, capped %v; want 7, 3", page, p.Total, p.Pages(), p.Capped)
			}
			if len(p.Items) == 0 {
				if page != 4 {
					t.Fatalf("page %d is empty", page)
				}
				break
			}
			got = append(got, codesOf(p.Items)...)
		}
		if strings.Join(got, " ") != strings.Join(newestFirst, " ") {
			t.Fatalf("pages = %v; want %v", got, newestFirst)
		}

		for _, tt := range []struct {
			name string
			q    CitizenQuery
			want []string
		}{
			{"a procedure's name with its marks", CitizenQuery{Text: "Hộ chiếu"}, passports},
			{"a procedure's name without marks, in capitals", CitizenQuery{Text: "HO CHIEU"}, passports},
			{"a procedure's code", CitizenQuery{Text: "1.900005"}, passports},
			{"part of a dossier's code, in small letters", CitizenQuery{Text: strings.ToLower(newestFirst[3][4:])}, newestFirst[3:4]},
			{"a LIKE wildcard is a character", CitizenQuery{Text: "%"}, nil},
			{"a status", CitizenQuery{Status: StatusReceived}, []string{received.Code}},
			{"a procedure", CitizenQuery{Procedure: "1.900005"}, passports},
			{"submitted from the 2nd to before the 4th day", CitizenQuery{From: start.Add(24 * time.Hour), To: start.Add(72 * time.Hour)}, newestFirst[4:6]},
			{"text and a status together", CitizenQuery{Text: "ho chieu", Status: StatusRegistered}, passports[1:]},
			{"a page past the end", CitizenQuery{Page: 9}, nil},
		} {
			p := list(tt.q)
			if strings.Join(codesOf(p.Items), " ") != strings.Join(tt.want, " ") {
				t.Errorf("%s: %v; want %v", tt.name, codesOf(p.Items), tt.want)
			}
		}

		for _, tt := range []struct {
			q     CitizenQuery
			field string
		}{
			{CitizenQuery{Status: 99}, "status"},
			{CitizenQuery{Procedure: "9.999999"}, "procedure"},
			{CitizenQuery{From: start.Add(48 * time.Hour), To: start}, "to"},
			{CitizenQuery{Text: "hộ\x00chiếu"}, "q"},
			{CitizenQuery{Text: "\u202ehộ chiếu"}, "q"},
			{CitizenQuery{Text: strings.Repeat("ộ", maxCitizenText+1)}, "q"},
			{CitizenQuery{Page: CitizenCountCap + 1, Size: 1}, "page"},
		} {
			var fe *errs.FieldError
			if _, err := f.svc.CitizenDossiers(ctx, f.citizen, tt.q); !errors.As(err, &fe) || fe.Field != tt.field {
				t.Errorf("%+v = %v; want a refusal of %q", tt.q, err, tt.field)
			}
		}
		if _, err := f.svc.CitizenDossiers(f.as(f.clerk), f.clerk, CitizenQuery{}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("a clerk's list = %v; want forbidden", err)
		}
		if p := list(CitizenQuery{Size: 1000}); p.Size != MaxCitizenPageSize || len(p.Items) != 7 {
			t.Errorf("a page of 1000 = size %d, %d items", p.Size, len(p.Items))
		}
	})
}

func TestMyDossiersPageSearchesFiltersAndPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		var codes []string // newest first
		for i := range DefaultCitizenPageSize + 2 {
			procedure, form := "1.900001", legalizationForm()
			if i%5 == 0 {
				procedure, form = "1.900005", passportForm()
			}
			codes = append([]string{s.applyOnline(t, s.citizen, procedure, form).Code}, codes...)
			s.clock.Advance(time.Hour)
		}
		first := page(s.get(t, "citizen", "/my/dossiers"))
		for _, want := range []string{`id="mine-q"`, `id="mine-status"`, `id="mine-procedure"`, `type="date" id="mine-from"`,
			`href="/my/dossiers/` + codes[0] + `"`, `data-label="Trạng thái"`, `aria-current="page">1<`, `href="/my/dossiers?page=2" rel="next"`,
			"Có 22 hồ sơ."} {
			if !strings.Contains(first, want) {
				t.Errorf("the first page lacks %s", want)
			}
		}
		if strings.Contains(first, codes[DefaultCitizenPageSize]) {
			t.Error("the first page shows a dossier of the second")
		}
		second := page(s.get(t, "citizen", "/my/dossiers?page=2"))
		if !strings.Contains(second, codes[DefaultCitizenPageSize+1]) || strings.Contains(second, codes[0]) || !strings.Contains(second, `rel="prev"`) {
			t.Error("the second page does not hold the oldest two dossiers alone")
		}
		// A search keeps its filters on its pages' links.
		found := page(s.get(t, "citizen", "/my/dossiers?q=ho+chieu&status=1"))
		if !strings.Contains(found, "Có 5 hồ sơ.") || strings.Count(found, `<a href="/my/dossiers/`) != 5 || !strings.Contains(found, `value="ho chieu"`) ||
			!strings.Contains(found, `href="/my/dossiers"`) || strings.Contains(found, `class="pager"`) {
			t.Errorf("a search for passports:\n%s", found)
		}
		if rec := s.get(t, "citizen", "/my/dossiers?q=khong+co+gi"); !strings.Contains(page(rec), "Không có hồ sơ nào phù hợp") {
			t.Error("an empty search says nothing")
		}
		// Bad filters are shown beside their field, with no list.
		for _, tt := range []struct{ query, field string }{
			{"status=abc", "status"}, {"status=42", "status"}, {"procedure=1.999999", "procedure"},
			{"from=2025-02-30", "from"}, {"from=2025-03-20&to=2025-03-10", "to"},
			{"q=" + strings.Repeat("a", 300), "q"}, {"page=-1", ""}, {"page=99999999", ""}, {"q=%00", ""},
		} {
			rec := s.get(t, "citizen", "/my/dossiers?"+tt.query)
			body := page(rec)
			// A page number is no field: its refusal stands above the form.
			// NUL is refused before any page is drawn.
			beside := tt.field == "" || strings.Contains(body, `id="mine-`+tt.field+`-error"`)
			if rec.Code != http.StatusBadRequest || !beside || strings.Contains(body, `id="mine-list"`) {
				t.Errorf("%s = %d; want 400 with the error beside %s\n%s", tt.query, rec.Code, tt.field, body)
			}
		}
		// Another citizen's list holds none of them; staff and visitors have none.
		if body := page(s.get(t, "other", "/my/dossiers")); strings.Contains(body, codes[0]) || !strings.Contains(body, "Bạn chưa nộp hồ sơ nào") {
			t.Error("another citizen sees these dossiers")
		}
		if rec := s.get(t, "", "/my/dossiers"); rec.Code < 300 || rec.Code == http.StatusOK {
			t.Errorf("a visitor's list = %d", rec.Code)
		}
	})
}
