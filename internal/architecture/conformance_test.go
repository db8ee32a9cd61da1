package architecture

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// TestTheRulesFindTheDemosDeliberateFlaws pins each shipped rule to the
// flaw the demo model was given for it, and to nothing else.
func TestTheRulesFindTheDemosDeliberateFlaws(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := mustService(t, db)
		ctx := as(architect)
		f.mustDemo(t)
		fs, err := f.svc.Findings(ctx, clerk, timeZero)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range fs {
			got = append(got, x.Rule+" "+x.Element)
		}
		want := []string{
			"duplication mofa-consular", "duplication mofa-consular-online",
			"exchange_flows mofa-dms",
			"protected_data mofa-archive", "protected_data mofa-consular",
			"reference_category mofa-archive", "reference_category mofa-dc",
			"retired_dependency mofa-consular",
		}
		if !slices.Equal(got, want) {
			t.Fatalf("findings:\n%v\nwant\n%v\n%+v", got, want, fs)
		}
		if !strings.Contains(fs[3].Message, "mfa") {
			t.Errorf("the archive's finding says %q", fs[3].Message)
		}
	})
}

func TestSecurityOfficersEditTheRules(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := mustService(t, db)
		ctx := as(secOff)
		src := "package chancery.rules.named\n\nfindings contains f if {\n\tsome id, e in input.elements\n\tnot e.name\n\tf := {\"element\": id, \"message\": \"no name\"}\n}\n"
		if _, err := f.svc.SaveRule(as(architect), architect, "named", src, 0); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("an architect edited a rule: %v", err)
		}
		for name, bad := range map[string]string{
			"syntax":        "package chancery.rules.named\nfindings contains if {",
			"wrong package": strings.Replace(src, "rules.named", "rules.other", 1),
			"nul":           src + "\x00",
		} {
			if _, err := f.svc.SaveRule(ctx, secOff, "named", bad, 0); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("%s: %v", name, err)
			}
		}
		r, err := f.svc.SaveRule(ctx, secOff, "named", src, 0)
		if err != nil || r.Version != 1 {
			t.Fatalf("save: %v %+v", err, r)
		}
		if _, err := f.svc.SaveRule(ctx, secOff, "named", src, 0); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("a stale edit: %v", err)
		}
		// An edited shipped rule replaces the shipped text.
		rules, _ := f.svc.Rules(ctx, clerk)
		i := slices.IndexFunc(rules, func(r Rule) bool { return r.Name == "reference_category" })
		off := strings.Replace(rules[i].Source, "count(object.keys(e.framework)) == 0", "false", 1)
		if _, err := f.svc.SaveRule(ctx, secOff, "reference_category", off, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SaveElement(as(architect), architect, Element{ID: "n1", Type: "Node", Name: nil}); err == nil {
			t.Fatal("a nameless element saved")
		}
		if _, err := f.svc.SaveElement(as(architect), architect, app("x1", "X")); err != nil {
			t.Fatal(err)
		}
		e := app("x2", "Y")
		e.Framework = nil
		if _, err := f.svc.SaveElement(as(architect), architect, e); err != nil {
			t.Fatal(err)
		}
		fs, err := f.svc.Findings(ctx, clerk, timeZero)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range fs {
			if x.Rule == "reference_category" {
				t.Fatalf("the edited rule still finds %+v", x)
			}
		}
		h, _ := f.svc.History(ctx, clerk, "rule", "reference_category", 0, 0)
		if len(h) != 1 || !strings.Contains(h[0].Actor, "staff:9") {
			t.Fatalf("the rule's history %+v", h)
		}
	})
}

func TestTheFindingsPagesAndAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := mustServer(t, db)
		s.f.mustDemo(t)
		webtest.PageHas(t, s.do(clerk, "GET", "/api/v1/architecture/findings?rule=duplication", "", ""), http.StatusOK, `"element":"mofa-consular-online"`)
		webtest.PageHas(t, s.do(clerk, "GET", "/api/v1/architecture/findings?element=mofa-dms", "", ""), http.StatusOK, `"rule":"exchange_flows"`)
		webtest.PageHas(t, s.do(clerk, "GET", "/api/v1/architecture/rules", "", ""), http.StatusOK, `"name":"protected_data"`)
		webtest.Problem(t, s.do(architect, "PUT", "/api/v1/architecture/rules/protected_data", "application/json", `{"source":"package x","version":0}`), http.StatusForbidden)
		p := webtest.Problem(t, s.do(secOff, "PUT", "/api/v1/architecture/rules/protected_data", "application/json", `{"source":"package chancery.rules.protected_data\nfindings contains","version":0}`), http.StatusBadRequest)
		if !strings.Contains(p.Detail, "rego_parse_error") {
			t.Errorf("a parse error says %q", p.Detail)
		}
		page := s.page
		webtest.PageHas(t, page(clerk, "/console/architecture/findings"), http.StatusOK, "Phần mềm cấp thị thực (cũ)", "retired_dependency")
		w := page(clerk, "/console/architecture/rules/duplication")
		webtest.PageHas(t, w, http.StatusOK, "package chancery.rules.duplication")
		if strings.Contains(w.Body.String(), `action="/console/architecture/rules/`) {
			t.Error("a clerk is offered the rule's edit form")
		}
		webtest.PageHas(t, page(secOff, "/console/architecture/rules/duplication"), http.StatusOK, `<textarea`)
		// After a save (the redirect's link), the page names the rule saved.
		webtest.PageHas(t, page(secOff, "/console/architecture/rules/duplication?done=rule&flash=architecture.flash.saved"), http.StatusOK,
			`<p class="flash" role="status">Đã lưu quy tắc «duplication».</p>`)
		if w := page(clerk, "/console/architecture/rules/nope"); w.Code != http.StatusNotFound {
			t.Errorf("a missing rule: %d", w.Code)
		}
	})
}

// TestFindingsSpeakVietnameseAndEnglish pins every shipped rule's findings
// to a message in each language, each naming the element in that language,
// on the API (message, message_vi) and on the pages; a rule edited without
// message_vi is shown in English.
func TestFindingsSpeakVietnameseAndEnglish(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := mustServer(t, db)
		s.f.mustDemo(t)
		fs, err := s.f.svc.Findings(as(clerk), clerk, timeZero)
		if err != nil {
			t.Fatal(err)
		}
		rules := map[string]bool{}
		for _, f := range fs {
			rules[f.Rule] = true
			if f.MessageVI == "" || f.MessageVI == f.Message || f.In("vi") != f.MessageVI || f.In("en") != f.Message {
				t.Errorf("%s %s: en %q, vi %q", f.Rule, f.Element, f.Message, f.MessageVI)
			}
		}
		if len(rules) != 5 {
			t.Fatalf("findings of %d rules, want the 5 shipped", len(rules))
		}
		want := map[string][2]string{ // rule/element → a phrase of each message
			"retired_dependency/mofa-consular": {"Hệ thống quản lý hộ chiếu và công tác lãnh sự đang vận hành dựa vào Phần mềm cấp thị thực (cũ), thành phần đã ngừng sử dụng", "Passport and consular system runs on Visa issuing software (legacy), which was retired"},
			"protected_data/mofa-archive":      {"Hệ thống lưu trữ tài liệu điện tử lưu dữ liệu mật nhưng thiếu xác thực đa yếu tố", "Digital archive system holds classified data but lacks mfa"},
			"reference_category/mofa-dc":       {"chưa gắn với danh mục nào", "Ministry data centre (Node) maps to no reference-model category"},
			"exchange_flows/mofa-dms":          {"sang cơ quan khác mà không qua nền tảng", "Document management system → National Population Database crosses"},
			"duplication/mofa-consular-online": {"không ghi lý do trùng lặp", "Missions' online consular application realises Consular services"},
		}
		for _, f := range fs {
			if w, ok := want[f.Rule+"/"+f.Element]; ok {
				if !strings.Contains(f.MessageVI, w[0]) || !strings.Contains(f.Message, w[1]) {
					t.Errorf("%s %s:\n vi %q\n en %q", f.Rule, f.Element, f.MessageVI, f.Message)
				}
				delete(want, f.Rule+"/"+f.Element)
			}
		}
		if len(want) > 0 {
			t.Errorf("no findings for %v", want)
		}
		webtest.PageHas(t, s.do(clerk, "GET", "/api/v1/architecture/findings?element=mofa-dc", "", ""), http.StatusOK, `"message":"Ministry data centre (Node) maps`, `"message_vi":"Trung tâm dữ liệu Bộ Ngoại giao (Node) chưa gắn`)
		clerkIn := func(lang i18n.Lang, target string) *httptest.ResponseRecorder {
			return webtest.GetIn(s.shell, s.h, web.Principal{Subject: clerk, Username: "u", Stage: "full"}, lang, target)
		}
		webtest.PageHas(t, clerkIn("vi", "/console/architecture/findings?element=mofa-dc"), http.StatusOK, "Trung tâm dữ liệu Bộ Ngoại giao (Node) chưa gắn với danh mục nào")
		webtest.PageHas(t, clerkIn("en", "/console/architecture/findings?element=mofa-dc"), http.StatusOK, "Ministry data centre (Node) maps to no reference-model category")
		webtest.PageHas(t, clerkIn("vi", "/console/architecture/rules/retired_dependency"), http.StatusOK, "thành phần đã ngừng sử dụng")

		// A security officer's rule with an English message only.
		src := "package chancery.rules.reference_category\n\nfindings contains f if {\n\tsome id, e in input.elements\n\te.type == \"Node\"\n\te.origin == \"model\"\n\tf := {\"element\": id, \"message\": sprintf(\"%s: check its category\", [e.name_en])}\n}\n"
		if _, err := s.f.svc.SaveRule(as(secOff), secOff, "reference_category", src, 0); err != nil {
			t.Fatal(err)
		}
		webtest.PageHas(t, clerkIn("vi", "/console/architecture/findings?element=mofa-dc"), http.StatusOK, "Ministry data centre: check its category")
	})
}
