package records

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// suggestHistory registers n incoming documents per kind as sub: each
// kind's words, type and urgency, the documents of the kind at level l;
// when lead is set, the unit's leader assigns each to it.
func (f *fixture) suggestHistory(t testing.TB, sub authz.Subject, l authz.Level, n int, lead int64, kinds ...suggestKind) {
	t.Helper()
	for i := range n {
		for _, k := range kinds {
			in := NewIncoming{Type: k.typ, Sender: k.sender, Subject: fmt.Sprintf("%s (lần %d)", k.subject, i+1), Date: f.clock.now(),
				Urgency: k.urgency, Classify: Classify{Level: l}}
			if l > authz.Unclassified {
				in.Reason = "Danh mục bí mật nhà nước, mục 3"
			}
			d, err := f.svc.RegisterIncoming(f.as(sub), sub, in)
			if err != nil {
				t.Fatal(err)
			}
			if lead != 0 {
				if _, err := f.svc.Assign(f.as(f.leader), f.leader, d.ID, Instruction{Text: "Giao xử lý", Lead: AssignTo{UnitID: lead}}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

type suggestKind struct {
	typ, sender, subject string
	urgency              Urgency
}

var (
	kindVisa = suggestKind{"cong_van", "Bộ Công an", "V/v cấp thị thực cho phóng viên nước ngoài", Normal}
	kindCall = suggestKind{"giay_moi", "Ủy ban nhân dân tỉnh Quảng Ninh", "Giấy mời dự hội nghị xúc tiến đầu tư", Urgent}
	// kindCipher is what only the cleared may know: its words, its type
	// and its urgency appear nowhere else.
	kindCipher = suggestKind{"cong_dien", "Ban Cơ yếu Chính phủ", "Thay khóa mật mã tuyến liên lạc cơ yếu", Flash}
)

// TestSuggestLearnsTheUnitsHistory pins what the assistant suggests from
// the unit's own documents: the type, urgency and handling unit of the
// documents whose words the text shares, with confidences, and the
// subject line read from the text.
func TestSuggestLearnsTheUnitsHistory(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		text := "BỘ CÔNG AN\nSố: 77/BCA-A08\nV/v cấp thị thực cho phóng viên\nnước ngoài dự hội nghị\n\nKính gửi: Bộ Ngoại giao"
		// Too little history: no field is guessed, the subject line is read.
		s, err := f.svc.Suggest(ctx, f.clerk, text)
		if err != nil {
			t.Fatal(err)
		}
		if s.Type != nil || s.Urgency != nil || s.Handler != nil || s.Subject == nil ||
			s.Subject.Value != "V/v cấp thị thực cho phóng viên nước ngoài dự hội nghị" {
			t.Fatalf("with no history: %+v (subject %+v)", s, s.Subject)
		}
		f.suggestHistory(t, f.clerk, authz.Unclassified, 6, f.units["000.00.01.G12"], kindVisa)
		f.suggestHistory(t, f.clerk, authz.Unclassified, 6, f.units["000.00.03.G12"], kindCall)
		s, err = f.svc.Suggest(ctx, f.clerk, text)
		if err != nil {
			t.Fatal(err)
		}
		if s.Basis != 12 || s.Type == nil || s.Type.Value != "cong_van" || s.Type.Confidence < 0.9 || len(s.Type.Alternatives) != 1 ||
			s.Urgency.Value != "normal" || s.Handler.Value != strconv.FormatInt(f.units["000.00.01.G12"], 10) {
			t.Fatalf("suggestions %+v: type %+v urgency %+v handler %+v", s, s.Type, s.Urgency, s.Handler)
		}
		s, err = f.svc.Suggest(ctx, f.clerk, "GIẤY MỜI\nDự hội nghị xúc tiến đầu tư tỉnh Quảng Ninh")
		if err != nil {
			t.Fatal(err)
		}
		if s.Type.Value != "giay_moi" || s.Urgency.Value != "urgent" || s.Subject.Value != "Giấy mời dự hội nghị xúc tiến đầu tư tỉnh Quảng Ninh" {
			t.Fatalf("invitation: type %+v urgency %+v subject %+v", s.Type, s.Urgency, s.Subject)
		}
	})
}

// TestSuggestionsNeverLearnFromHiddenDocuments pins that a document the
// caller may not see leaves no trace in what the assistant suggests to
// them: the answer to a caller not cleared for the unit's secret
// documents, or of another unit, is the same with and without those
// documents; and the same documents do change the answer to a caller who
// may see them (so the comparison can fail).
func TestSuggestionsNeverLearnFromHiddenDocuments(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.suggestHistory(t, f.clerk, authz.Unclassified, 6, 0, kindVisa, kindCall)
		text := "CÔNG ĐIỆN\nThay khóa mật mã tuyến liên lạc cơ yếu của Ban Cơ yếu Chính phủ"
		ask := func(sub authz.Subject) *Suggestions {
			t.Helper()
			s, err := f.svc.Suggest(ctx, sub, text)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		lowBefore, clerkBefore, officeBefore := ask(f.lowOfficer), ask(f.clerk), ask(f.office)
		// The unit's secret documents, and another unit's open ones.
		f.suggestHistory(t, f.clerk, authz.Secret, 8, 0, kindCipher)
		f.suggestHistory(t, f.office, authz.Unclassified, 8, 0, kindCipher)
		if low := ask(f.lowOfficer); !reflect.DeepEqual(low, lowBefore) {
			t.Errorf("a caller cleared only confidential got %+v (type %+v), before the secret documents %+v (type %+v)",
				low, low.Type, lowBefore, lowBefore.Type)
		}
		if clerk := ask(f.clerk); clerk.Type.Value != "cong_dien" || clerk.Urgency.Value != "flash" || reflect.DeepEqual(clerk, clerkBefore) {
			t.Errorf("the cleared clerk was not taught by the documents it may see: type %+v urgency %+v", clerk.Type, clerk.Urgency)
		}
		// The Office learns from its own eight, and not from the
		// Consular Department's.
		if office := ask(f.office); office.Basis != 8 || officeBefore.Basis != 0 {
			t.Errorf("the Office learned from %d documents (before: %d), want its own 8", office.Basis, officeBefore.Basis)
		}
	})
}

// TestSubjectLine pins how a subject line is read from a document's text.
func TestSubjectLine(t *testing.T) {
	for _, tc := range []struct {
		text, want string
		conf       float64
	}{
		{"BỘ TÀI CHÍNH\nSố: 12/BTC-HCSN\nV/v   rà soát kinh phí\nđoàn ra năm 2026\nKính gửi: Bộ Ngoại giao", "V/v rà soát kinh phí đoàn ra năm 2026", subjectFromRegarding},
		{"Về việc cử cán bộ đi công tác.\n\nNội dung", "Về việc cử cán bộ đi công tác", subjectFromRegarding},
		{"ỦY BAN NHÂN DÂN\nQUYẾT ĐỊNH\nBan hành quy chế làm việc\n\nCăn cứ Luật", "Quyết định ban hành quy chế làm việc", subjectFromHeading},
		{"TỜ TRÌNH\n\nĐề nghị phê duyệt kế hoạch đoàn ra", "Tờ trình đề nghị phê duyệt kế hoạch đoàn ra", subjectFromHeading},
		{"Kính gửi anh. Đại sứ quán đề nghị hỗ trợ công dân gặp nạn. Trân trọng.", "Đại sứ quán đề nghị hỗ trợ công dân gặp nạn", subjectFromSentence},
		{"v/v có ký tự \u202eđảo chiều", "v/v có ký tự đảo chiều", subjectFromRegarding},
		{"Ngắn. Quá.", "", 0},
	} {
		got := subjectLine(tc.text)
		switch {
		case tc.want == "" && got != nil:
			t.Errorf("%q: got %+v, want none", tc.text, got)
		case tc.want != "" && (got == nil || got.Value != tc.want || got.Confidence != tc.conf):
			t.Errorf("%q: got %+v, want %q at %v", tc.text, got, tc.want, tc.conf)
		}
	}
	if s := subjectLine("V/v " + strings.Repeat("dài ", 2000)); s == nil || len(s.Value) > maxSubject {
		t.Errorf("a long subject line is not clipped to %d bytes", maxSubject)
	}
}

// TestAPISuggest pins the route: suggestions to a clerk, a clear 4xx for
// bad text, a refusal to a caller who registers nothing.
func TestAPISuggest(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a := newAPIFixture(t, db)
		a.suggestHistory(t, a.clerk, authz.Unclassified, 5, 0, kindVisa)
		rec := a.call(t, a.clerk, "POST", "/api/v1/documents/suggestions", map[string]string{"text": "V/v cấp thị thực cho phóng viên"})
		if rec.Code != http.StatusOK {
			t.Fatalf("suggestions: %d %s", rec.Code, rec.Body)
		}
		if s := decode[Suggestions](t, rec); s.Type == nil || s.Type.Value != "cong_van" || s.Subject == nil || s.Basis != 5 {
			t.Fatalf("suggestions: %s", rec.Body)
		}
		for _, tc := range []struct {
			name string
			body any
			code int
		}{
			{"empty", map[string]string{"text": "  "}, http.StatusBadRequest},
			{"NUL", map[string]string{"text": "V/v a\x00b"}, http.StatusBadRequest},
			{"bidi", map[string]string{"text": "V/v \u202e"}, http.StatusBadRequest},
			{"CR LF is a line break", map[string]string{"text": "V/v một\r\nhai"}, http.StatusOK},
			{"unknown field", map[string]string{"text": "a", "level": "x"}, http.StatusBadRequest},
			{"50 MiB", `{"text":"` + strings.Repeat("a", 50<<20) + `"}`, http.StatusRequestEntityTooLarge},
		} {
			if rec := a.call(t, a.clerk, "POST", "/api/v1/documents/suggestions", tc.body); rec.Code != tc.code {
				t.Errorf("%s: %d %.200s, want %d", tc.name, rec.Code, rec.Body, tc.code)
			}
		}
		if rec := a.call(t, a.auditor, "POST", "/api/v1/documents/suggestions", map[string]string{"text": "V/v a"}); rec.Code != http.StatusForbidden {
			t.Errorf("an auditor asked for suggestions: %d %s", rec.Code, rec.Body)
		}
	})
}

// TestSuggestEval pins the evaluation: a time-ordered split, accuracy per
// field beside the majority baseline, printed by the subcommand.
func TestSuggestEval(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		// Three of one kind to one of the other: the baseline is 75 %.
		f.suggestHistory(t, f.clerk, authz.Unclassified, 5, 0, kindVisa, kindVisa, kindVisa, kindCall)
		evs, err := EvaluateSuggestions(context.Background(), db, f.units["000.00.03.G12"])
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].Train != 16 || evs[0].Test != 4 || evs[0].Fields[0].Field != "type" ||
			evs[0].Fields[0].Accuracy != 1 || evs[0].Fields[0].Baseline != 0.75 || evs[0].Fields[2].Tested != 0 {
			t.Fatalf("evaluation %+v", evs)
		}
		if _, err := EvaluateSuggestions(context.Background(), db, f.units["000.00.09.G12"]); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("a unit without documents: %v", err)
		}
		var out bytes.Buffer
		env := CommandEnv{Stdout: &out, Stderr: &out, Open: func(*flag.FlagSet) func(context.Context) (CommandStorage, func() error, error) {
			return func(context.Context) (CommandStorage, func() error, error) {
				return CommandStorage{Service: f.svc}, func() error { return nil }, nil
			}
		}}
		if err := Command(context.Background(), env, []string{"suggest-eval"}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "type     4       100.0%    75.0%") {
			t.Errorf("suggest-eval printed:\n%s", out.String())
		}
		if err := Command(context.Background(), env, []string{"suggest-eval", "--unit", "x"}); !errors.Is(err, errs.ErrUsage) {
			t.Errorf("a bad --unit: %v", err)
		}
	})
}

// TestIncomingFormShowsSuggestionsTheClerkAccepts: the incoming form's
// "suggest" shows the assistant's suggestions for the pasted text, with
// their confidence, and fills nothing; "use" puts the one chosen in its
// field; neither registers anything. Empty text is refused on the form.
func TestIncomingFormShowsSuggestionsTheClerkAccepts(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPageSite(t, db, HandlerOptions{})
		s.suggestHistory(t, s.clerk, authz.Unclassified, 6, s.units["000.00.01.G12"], kindVisa)
		s.suggestHistory(t, s.clerk, authz.Unclassified, 6, 0, kindCall)
		count := func() (n int) {
			if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM record_documents`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := count()
		text := "BỘ CÔNG AN\nSố: 77/BCA-A08\nV/v cấp thị thực cho phóng viên\nnước ngoài dự hội nghị"
		form := url.Values{"channel": {"paper"}, "sender": {"Bộ Công an"}, "text": {text}, "suggest": {"1"}}
		w := s.upload(s.clerk, form, "", "", nil)
		has(t, w, http.StatusOK, `id="suggestions"`, "Loại văn bản:</strong> Công văn", "Trích yếu:</strong> V/v cấp thị thực cho phóng viên nước ngoài dự hội nghị",
			"Đơn vị thường xử lý:</strong>", "Độ tin cậy", `value="Bộ Công an"`)
		if strings.Contains(w.Body.String(), `<option value="cong_van" selected>`) {
			t.Error("the suggestion filled the type by itself")
		}
		form.Del("suggest")
		form.Set("use", "type")
		w = s.upload(s.clerk, form, "", "", nil)
		has(t, w, http.StatusOK, `<option value="cong_van" selected>`, `id="suggestions"`)
		has(t, s.upload(s.clerk, url.Values{"text": {"\n"}, "suggest": {"1"}}, "", "", nil), http.StatusUnprocessableEntity, `id="in-text-error"`)
		if n := count(); n != before {
			t.Fatalf("asking for suggestions registered %d documents", n-before)
		}
	})
}
