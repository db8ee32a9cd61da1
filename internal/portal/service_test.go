package portal

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/audit/audittest"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// fixture is a portal on a real database: a ministry with a press
// department and two missions, a press officer, a spokesperson and a
// clerk (who may do nothing here).
type fixture struct {
	db                          *store.DB
	svc                         *Service
	ledger                      *audit.Ledger
	dir                         *identity.Service
	press, spokes, clerk, admin authz.Subject
	paris, tokyo                identity.Unit
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("test")})
	l := audittest.MustLedger(t, db)
	dir := identity.NewService(db, l, nil)
	f := &fixture{db: db, ledger: l, dir: dir}
	root, err := dir.CreateUnit(ctx, "test", identity.NewUnit{Code: "000.00.00.G12", NameVI: "Bộ Ngoại giao", NameEN: "Ministry of Foreign Affairs",
		Kind: identity.KindMinistry, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"})
	if err != nil {
		t.Fatal(err)
	}
	unit := func(code, vi, en string, kind identity.UnitKind, country, zone string) identity.Unit {
		u, err := dir.CreateUnit(ctx, "test", identity.NewUnit{Code: code, NameVI: vi, NameEN: en, Kind: kind, ParentID: root.ID, Country: country, TimeZone: zone})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	pressUnit := unit("000.00.05.G12", "Vụ Thông tin Báo chí", "Department of Press and Information", identity.KindDepartment, "VN", "Asia/Ho_Chi_Minh")
	f.paris = unit("000.01.02.G12", "Đại sứ quán Việt Nam tại Pháp", "Embassy of Viet Nam in France", identity.KindEmbassy, "FR", "Europe/Paris")
	f.tokyo = unit("000.01.03.G12", "Đại sứ quán Việt Nam tại Nhật Bản", "Embassy of Viet Nam in Japan", identity.KindEmbassy, "JP", "Asia/Tokyo")
	staff := func(username string, roles ...authz.Role) authz.Subject {
		m, err := dir.SeedStaff(ctx, "test", identity.NewStaff{Username: username, FullName: username, UnitID: pressUnit.ID, Roles: authz.RolesOf(roles...)})
		if err != nil {
			t.Fatal(err)
		}
		return m.Subject()
	}
	f.press, f.spokes, f.clerk, f.admin = staff("press.officer", authz.PressOfficer), staff("spokesperson", authz.Spokesperson), staff("clerk", authz.Clerk), staff("admin", authz.Administrator)
	if f.svc, err = NewService(Options{DB: db, Recorder: l, Directory: dir}); err != nil {
		t.Fatal(err)
	}
	return f
}

// as returns a context whose origin is sub, as a request's would be.
func as(sub authz.Subject) context.Context {
	return audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.Staff(sub.ID, "u"), UnitID: sub.Unit})
}

func content(slug string) Content {
	return Content{Kind: News, Slug: slug, TitleVI: "Việt Nam hoan nghênh thỏa thuận", TitleEN: "Viet Nam welcomes the agreement",
		SummaryVI: "Tóm tắt", SummaryEN: "Summary", BodyVI: "Đoạn một.\n\nĐoạn hai.", BodyEN: "Paragraph one.\n\nParagraph two.", Tags: []string{"ASEAN", "Biển Đông", "asean"}}
}

// publish drafts, submits and has the spokesperson approve and publish c.
func (f *fixture) publish(t testing.TB, c Content) Item {
	t.Helper()
	it, err := f.svc.Create(as(f.press), f.press, c)
	if err != nil {
		t.Fatal(err)
	}
	if it, err = f.svc.Move(as(f.press), f.press, it.ID, StepRequest{Step: StepSubmit, Version: it.Version}); err != nil {
		t.Fatal(err)
	}
	if it, err = f.svc.Move(as(f.spokes), f.spokes, it.ID, StepRequest{Step: StepApprove, Version: it.Version, Publish: true}); err != nil {
		t.Fatal(err)
	}
	return it
}

func TestPublicationIsPublishedOnlyAfterTheSpokespersonApproves(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		it, err := f.svc.Create(as(f.press), f.press, content("agreement"))
		if err != nil {
			t.Fatal(err)
		}
		if it.Status != Draft || strings.Join(it.Tags, ",") != "ASEAN,Biển Đông" {
			t.Fatalf("draft = %s with tags %v", it.Status, it.Tags)
		}
		if _, err := f.svc.Published(ctx, "agreement"); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("a draft to the public: %v, want not found", err)
		}
		if _, err := f.svc.Move(as(f.press), f.press, it.ID, StepRequest{Step: StepPublish, Version: it.Version}); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("publishing a draft: %v, want conflict", err)
		}
		it, err = f.svc.Move(as(f.press), f.press, it.ID, StepRequest{Step: StepSubmit, Version: it.Version})
		if err != nil {
			t.Fatal(err)
		}
		// The press officer cannot approve their own work: no role.
		if _, err := f.svc.Move(as(f.press), f.press, it.ID, StepRequest{Step: StepApprove, Version: it.Version}); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("press officer approves: %v, want forbidden", err)
		}
		if _, err := f.svc.Move(as(f.spokes), f.spokes, it.ID, StepRequest{Step: StepReject, Version: it.Version}); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("reject without a reason: %v, want invalid", err)
		}
		it, err = f.svc.Move(as(f.spokes), f.spokes, it.ID, StepRequest{Step: StepReject, Version: it.Version, Reason: "Thêm trích dẫn"})
		if err != nil || it.Status != Draft || it.Note != "Thêm trích dẫn" {
			t.Fatalf("rejected: %+v, %v", it, err)
		}
		it, _ = f.svc.Move(as(f.press), f.press, it.ID, StepRequest{Step: StepSubmit, Version: it.Version})
		it, err = f.svc.Move(as(f.spokes), f.spokes, it.ID, StepRequest{Step: StepApprove, Version: it.Version})
		if err != nil || it.Status != Approved {
			t.Fatalf("approved: %s, %v", it.Status, err)
		}
		if _, err := f.svc.Published(ctx, "agreement"); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("approved, unpublished, to the public: %v", err)
		}
		it, err = f.svc.Move(as(f.press), f.press, it.ID, StepRequest{Step: StepPublish, Version: it.Version})
		if err != nil || it.Status != Published || it.PublishedAt.IsZero() {
			t.Fatalf("published: %+v, %v", it, err)
		}
		got, err := f.svc.Published(ctx, "agreement")
		if err != nil || got.TitleEN != "Viet Nam welcomes the agreement" || len(got.Paragraphs("vi")) != 2 {
			t.Fatalf("public item: %+v, %v", got, err)
		}
		// Every step is in the ledger, by whom it was taken.
		if _, err := f.ledger.Integrate(ctx); err != nil {
			t.Fatal(err)
		}
		events, err := f.ledger.Search(ctx, audit.Query{ResourceType: "publication", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for i := len(events) - 1; i >= 0; i-- {
			actions = append(actions, events[i].Action)
		}
		want := "portal.create portal.submit portal.reject portal.submit portal.approve portal.publish"
		if strings.Join(actions, " ") != want {
			t.Errorf("ledger: %s, want %s", strings.Join(actions, " "), want)
		}
		// Withdrawn, it is gone from the public again.
		if _, err := f.svc.Move(as(f.spokes), f.spokes, it.ID, StepRequest{Step: StepWithdraw, Version: it.Version, Reason: "Sai số liệu"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Published(ctx, "agreement"); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("withdrawn, to the public: %v", err)
		}
	})
}

func TestEditingAnApprovedPublicationNeedsApprovalAgain(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		it, _ := f.svc.Create(as(f.press), f.press, content("edited"))
		it, _ = f.svc.Move(as(f.press), f.press, it.ID, StepRequest{Step: StepSubmit, Version: it.Version})
		if _, err := f.svc.Edit(as(f.press), f.press, it.ID, it.Version, content("edited")); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("editing under review: %v, want conflict", err)
		}
		it, _ = f.svc.Move(as(f.spokes), f.spokes, it.ID, StepRequest{Step: StepApprove, Version: it.Version})
		c := content("edited")
		c.TitleEN = "Changed after approval"
		it, err := f.svc.Edit(as(f.press), f.press, it.ID, it.Version, c)
		if err != nil || it.Status != Draft {
			t.Fatalf("edit after approval: %s, %v", it.Status, err)
		}
		if _, err := f.svc.Move(as(f.press), f.press, it.ID, StepRequest{Step: StepPublish, Version: it.Version}); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("publishing the changed text: %v, want conflict", err)
		}
		if _, err := f.svc.Edit(as(f.press), f.press, it.ID, it.Version-1, c); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("stale version: %v, want conflict", err)
		}
	})
}

func TestHostileContentIsRefusedAndNothingIsStored(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.publish(t, content("taken"))
		for _, tt := range []struct {
			name  string
			edit  func(*Content)
			field string
			kind  error
		}{
			{"NUL in a title", func(c *Content) { c.TitleVI = "a\x00b" }, "title_vi", errs.ErrInvalid},
			{"CR LF in a title", func(c *Content) { c.TitleEN = "Header\r\nInjected: yes" }, "title_en", errs.ErrInvalid},
			{"bidi override", func(c *Content) { c.TitleEN = "evil\u202Etxt.exe" }, "title_en", errs.ErrInvalid},
			{"huge body", func(c *Content) { c.BodyEN = strings.Repeat("x", MaxBody+1) }, "body_en", errs.ErrInvalid},
			{"missing English", func(c *Content) { c.BodyEN = "  " }, "body_en", errs.ErrInvalid},
			{"bad slug", func(c *Content) { c.Slug = "../etc/passwd" }, "slug", errs.ErrInvalid},
			{"unknown kind", func(c *Content) { c.Kind = "rumour" }, "kind", errs.ErrInvalid},
			{"advisory without level", func(c *Content) { c.Kind, c.Country = Advisory, "FR" }, "level", errs.ErrInvalid},
			{"news with a country", func(c *Content) { c.Country = "FR" }, "country", errs.ErrInvalid},
			{"too many tags", func(c *Content) { c.Tags = strings.Fields("a b c d e f g h i j k l m") }, "tags", errs.ErrInvalid},
			{"duplicate slug", func(c *Content) { c.Slug = "taken" }, "", errs.ErrConflict},
		} {
			t.Run(tt.name, func(t *testing.T) {
				c := content("fresh")
				tt.edit(&c)
				_, err := f.svc.Create(as(f.press), f.press, c)
				if !errors.Is(err, tt.kind) {
					t.Fatalf("err = %v, want %v", err, tt.kind)
				}
				var fe *errs.FieldError
				if tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field) {
					t.Fatalf("err = %v, want field %s", err, tt.field)
				}
			})
		}
		page, err := f.svc.List(as(f.press), f.press, Filter{})
		if err != nil || page.Total != 1 {
			t.Fatalf("stored: %d, %v; want only the one published", page.Total, err)
		}
	})
}

func TestOnlyThePressDepartmentDraftsAndReads(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		if _, err := f.svc.Create(as(f.clerk), f.clerk, content("clerk")); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("clerk drafts: %v, want forbidden", err)
		}
		if _, err := f.svc.Create(as(f.spokes), f.spokes, content("spokes")); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("spokesperson drafts: %v, want forbidden", err)
		}
		if _, err := f.svc.List(as(f.clerk), f.clerk, Filter{}); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("clerk lists drafts: %v, want forbidden", err)
		}
		if _, err := f.svc.List(as(f.spokes), f.spokes, Filter{Status: Submitted}); err != nil {
			t.Fatalf("spokesperson lists what waits: %v", err)
		}
	})
}

func TestConcurrentApprovalsTakeOneStep(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		it, _ := f.svc.Create(as(f.press), f.press, content("race"))
		it, _ = f.svc.Move(as(f.press), f.press, it.ID, StepRequest{Step: StepSubmit, Version: it.Version})
		var wg sync.WaitGroup
		errsOf := make([]error, 4)
		for i := range errsOf {
			wg.Add(1)
			go func() {
				defer wg.Done()
				step := StepApprove
				if i%2 == 1 {
					step = StepReject
				}
				_, errsOf[i] = f.svc.Move(as(f.spokes), f.spokes, it.ID, StepRequest{Step: step, Version: it.Version, Reason: "x"})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errsOf {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, errs.ErrConflict):
				t.Errorf("a losing step: %v, want conflict", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of 4 concurrent decisions succeeded, want 1", ok)
		}
	})
}

func TestPublicListSearchesTagsAndPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		for i, title := range []string{"Hợp tác kinh tế với Nhật Bản", "Họp báo thường kỳ", "Tuyên bố về Biển Đông"} {
			c := content(Slugify(title))
			c.TitleVI, c.Tags = title, []string{[]string{"kinh-te", "hop-bao", "bien-dong"}[i]}
			f.publish(t, c)
		}
		draft := content("secret-draft")
		draft.TitleVI = "Hợp tác bí mật"
		if _, err := f.svc.Create(as(f.press), f.press, draft); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			f    Filter
			want int
		}{
			{Filter{}, 3},
			{Filter{Query: "hop tac"}, 1}, // without diacritics; the draft is not found
			{Filter{Query: "BIỂN đông"}, 1},
			{Filter{Tag: "hop-bao"}, 1},
			{Filter{PerPage: 2, Page: 2}, 1},
			{Filter{Query: "100%_"}, 0},
			// The full-text index (migration 00028): words match from
			// their start, as prefixes; the engines' query syntax never
			// reaches them.
			{Filter{Query: "hop"}, 2},
			{Filter{Query: "kinh t"}, 1},
			{Filter{Query: "ac"}, 0},
			{Filter{Query: `hop" OR "bien`}, 0},
			{Filter{Query: `hop) (tac* -kinh: | & !`}, 1},
		} {
			page, err := f.svc.PublishedList(ctx, tt.f)
			if err != nil || len(page.Items) != tt.want {
				t.Errorf("%+v: %d items, %v; want %d", tt.f, len(page.Items), err, tt.want)
			}
		}
		tags, err := f.svc.Tags(ctx)
		if err != nil || len(tags) != 3 {
			t.Fatalf("tags: %v, %v", tags, err)
		}
		// An edit is found by its new words, not its old ones.
		it, err := f.svc.Create(as(f.press), f.press, content("edited"))
		if err != nil {
			t.Fatal(err)
		}
		c := content("edited")
		c.TitleVI = "Thông cáo về quan hệ đối tác chiến lược"
		if _, err := f.svc.Edit(as(f.press), f.press, it.ID, it.Version, c); err != nil {
			t.Fatal(err)
		}
		for q, want := range map[string]int{"chien luoc": 1, "hoan nghenh": 0} {
			page, err := f.svc.List(ctx, f.press, Filter{Query: q})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, x := range page.Items {
				if x.ID == it.ID {
					n++
				}
			}
			if n != want {
				t.Errorf("%q finds the edited item %d times, want %d", q, n, want)
			}
		}
	})
}

func TestAdvisoryInForceIsTheLatestPerCountry(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for i, lv := range []int{2, 3} {
			c := content("advisory-fr-" + string(rune('a'+i)))
			c.Kind, c.Country, c.Level = Advisory, "fr", lv
			f.publish(t, c)
		}
		c := content("advisory-jp")
		c.Kind, c.Country, c.Level = Advisory, "JP", 1
		f.publish(t, c)
		got, err := f.svc.Advisories(context.Background())
		if err != nil || len(got) != 2 || got[0].Country != "FR" || got[0].Level != 3 || got[1].Country != "JP" {
			t.Fatalf("advisories: %+v, %v", got, err)
		}
		// Advisories are not news.
		page, _ := f.svc.PublishedList(context.Background(), Filter{})
		if page.Total != 0 {
			t.Fatalf("news lists %d advisories", page.Total)
		}
	})
}

func TestMissionDetailsAreKeptByPressOfficersAndAdministrators(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d := MissionDetails{AmbassadorVI: "Đại sứ Nguyễn Văn A", AmbassadorEN: "Ambassador Nguyen Van A", Address: "61 rue de Miromesnil, 75008 Paris",
			Phone: "+33 1 44 14 64 00", Email: "lanhsu@example.org", HoursVI: "Thứ Hai–Thứ Sáu, 9:00–12:00", HoursEN: "Mon–Fri 9:00–12:00", Hotline: "+33 6 00 00 00 00"}
		if _, err := f.svc.UpdateMission(as(f.clerk), f.clerk, f.paris.Code, d); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("clerk edits a mission: %v", err)
		}
		m, err := f.svc.UpdateMission(as(f.press), f.press, f.paris.Code, d)
		if err != nil || m.Version != 1 {
			t.Fatalf("press officer: %+v, %v", m, err)
		}
		if _, err := f.svc.UpdateMission(as(f.admin), f.admin, f.paris.Code, d); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("stale version: %v, want conflict", err)
		}
		d.Version, d.Phone = 1, "+33 1 44 14 64 01"
		if _, err := f.svc.UpdateMission(as(f.admin), f.admin, f.paris.Code, d); err != nil {
			t.Fatalf("administrator: %v", err)
		}
		bad := d
		bad.Hotline = "call me\u202E"
		if _, err := f.svc.UpdateMission(as(f.admin), f.admin, f.paris.Code, bad); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("bidi hotline: %v", err)
		}
		ms, err := f.svc.Missions(context.Background())
		if err != nil || len(ms) != 2 || ms[0].Region != "asia" || ms[1].Phone != "+33 1 44 14 64 01" {
			t.Fatalf("missions: %+v, %v", ms, err)
		}
		if _, err := f.svc.Mission(context.Background(), "000.00.05.G12"); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("a department as a mission: %v", err)
		}
		if hs := ms[1].Holidays(2026); len(hs) == 0 {
			t.Fatal("the Paris embassy's calendar has no holidays")
		}
	})
}
