package procedures

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestMissionWithoutCalendarDataTakesApplicationsAndWarns pins issue 10's
// item 20: a mission created in a country without calendar data (Germany)
// broke its citizens' draft page with "no calendar for DE". Its creation
// now records a warning for the administrator in the ledger, and its
// deadlines count on Viet Nam's holidays with the host's weekend.
func TestMissionWithoutCalendarDataTakesApplicationsAndWarns(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newPublicSite(t, db)
		dir := identity.NewService(db, s.svc.opts.Recorder, s.clock.Now)
		dir.OnCreate(s.svc.CheckNewUnitTx)
		admin := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.Staff(1, "admin")})
		berlin, err := dir.CreateUnit(admin, "admin", identity.NewUnit{Code: "000.01.40.G12", NameVI: "Đại sứ quán Việt Nam tại Đức",
			NameEN: "Embassy in Berlin", Kind: identity.KindEmbassy, ParentID: s.units["000.00.00.G12"], Country: "DE", TimeZone: "Europe/Berlin"})
		if err != nil {
			t.Fatalf("creating a mission in Germany: %v", err)
		}
		var warned int
		if err := db.QueryRowContext(context.Background(), db.Rebind(`SELECT COUNT(*) FROM audit_events WHERE action = ?`),
			"unit.calendar_fallback").Scan(&warned); err != nil {
			t.Fatal(err)
		}
		if warned != 1 {
			t.Errorf("the mission's creation recorded %d calendar warnings, want 1", warned)
		}
		if _, err := dir.CreateUnit(admin, "admin", identity.NewUnit{Code: "000.01.41.G12", NameVI: "Đại sứ quán Việt Nam tại Nhật Bản",
			NameEN: "Embassy in Tokyo", Kind: identity.KindEmbassy, ParentID: s.units["000.00.00.G12"], Country: "JP", TimeZone: "Asia/Tokyo"}); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(context.Background(), db.Rebind(`SELECT COUNT(*) FROM audit_events WHERE action = ?`),
			"unit.calendar_fallback").Scan(&warned); err != nil || warned != 1 {
			t.Errorf("a mission in a country with calendar data was warned about too: %d, %v", warned, err)
		}

		cal, err := s.svc.Calendar(context.Background(), berlin.ID)
		if err != nil || !cal.FellBack() {
			t.Fatalf("the Berlin mission's calendar = fallback %v, %v", cal.FellBack(), err)
		}
		d, err := s.svc.CreateDraft(s.as(s.citizen), s.citizen, NewDraft{Procedure: "1.900014", UnitCode: berlin.Code, Form: protectionForm()})
		if err != nil {
			t.Fatal(err)
		}
		rec := s.get(t, "citizen", "/applications/"+d.ID)
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Errorf("the draft page of an application to Berlin = %d %s, want 200 HTML:\n%s", rec.Code, rec.Header().Get("Content-Type"), page(rec))
		}
	})
}
