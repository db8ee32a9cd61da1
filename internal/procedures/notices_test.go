package procedures

import (
	"strings"
	"testing"

	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// TestNoticesCarryTheTrackingLinkAndLocalDates pins what a notice says
// beside the status: the appointment as each language writes the unit's
// date, no date at all before there is an appointment, and the link to
// tracking the dossier on the public site.
func TestNoticesCarryTheTrackingLinkAndLocalDates(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		d := f.submitOnline(t)
		d = f.act(t, f.clerk, d.Code, ActionRequest{Action: ActReceive})
		f.mail.mu.Lock()
		notices := append([]Notice(nil), f.mail.notices...)
		f.mail.mu.Unlock()
		if len(notices) < 2 {
			t.Fatalf("%d notices, want the submission's and the receipt's", len(notices))
		}
		link := "https://dichvucong.test/track?code=" + d.Code
		for _, n := range notices {
			if strings.Count(n.Text, link) != 2 {
				t.Errorf("notice %q does not link tracking in both languages:\n%s", n.Subject, n.Text)
			}
			if strings.Contains(n.Text, "/0001") || strings.Contains(n.Text, "2025-") {
				t.Errorf("notice %q writes a machine's date:\n%s", n.Subject, n.Text)
			}
		}
		local := d.AppointmentAt.In(mustZone("Asia/Ho_Chi_Minh"))
		received := notices[len(notices)-1].Text
		if vi, en := local.Format("02/01/2006"), local.Format("2 January 2006"); !strings.Contains(received, vi) || !strings.Contains(received, en) {
			t.Errorf("the receipt's notice lacks the appointment as %q and %q:\n%s", vi, en, received)
		}
	})
}
