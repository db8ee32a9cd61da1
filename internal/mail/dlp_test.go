package mail

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/audit/audittest"
	"chancery/internal/authz"
	"chancery/internal/dlp"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// The outbox passes each notice through data-loss prevention before it
// sends it: a marked notice fails for good, one with 200 e-mail
// addresses waits (pending) until a security officer approves it and
// then goes, an ordinary one goes at once.
func TestOutboxPassesDataLossPrevention(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("test")})
		l := audittest.MustLedger(t, db)
		dir := identity.NewService(db, l, nil)
		root, err := dir.CreateUnit(ctx, "test", identity.NewUnit{Code: "000.00.00.G12", NameVI: "Bộ", NameEN: "Ministry",
			Kind: identity.KindMinistry, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"})
		if err != nil {
			t.Fatal(err)
		}
		m, err := dir.SeedStaff(ctx, "test", identity.NewStaff{Username: "security.officer", FullName: "security.officer", UnitID: root.ID, Roles: authz.RolesOf(authz.SecurityOfficer)})
		if err != nil {
			t.Fatal(err)
		}
		officer := m.Subject()
		svc, err := dlp.NewService(dlp.Options{DB: db, Recorder: l})
		if err != nil {
			t.Fatal(err)
		}
		srv := startServer(t, ServerConfig{})
		cfg := fast
		cfg.MaxAttempts, cfg.Egress = 1000, svc.Gate(dlp.WayMail)
		o := NewOutbox(db, plainSender(t, srv.Addr()), cfg)
		var many strings.Builder
		for i := range 200 {
			fmt.Fprintf(&many, "nguoi%d@example.vn\n", i)
		}
		for _, msg := range []Message{
			{To: []string{"a@example.vn"}, Subject: "Công điện", Text: "Độ mật: Mật\nNội dung"},
			{To: []string{"b@example.vn"}, Subject: "Danh sách", Text: many.String()},
			numbered(1),
		} {
			if err := o.Enqueue(ctx, msg); err != nil {
				t.Fatal(err)
			}
		}
		runOutbox(t, o)
		failed := waitState(t, o, Failed, 1)
		if !strings.Contains(failed[0].LastError, "data-loss prevention") {
			t.Errorf("the marked notice failed with %q", failed[0].LastError)
		}
		waitState(t, o, Sent, 1)
		var holds []dlp.Hold
		for deadline := time.Now().Add(10 * time.Second); len(holds) == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if holds, _, err = svc.Holds(ctx, officer, dlp.HoldFilter{Status: dlp.StatusHeld}); err != nil {
				t.Fatal(err)
			}
		}
		if len(holds) != 1 || holds[0].Findings["email_address"] != 200 || strings.Contains(holds[0].Destination, "@") {
			t.Fatalf("holds %+v", holds)
		}
		if _, err := svc.Decide(audit.WithOrigin(ctx, audit.Origin{Actor: audit.Staff(officer.ID, "so")}), officer, holds[0].ID, true, ""); err != nil {
			t.Fatal(err)
		}
		waitState(t, o, Sent, 2)
	})
}
