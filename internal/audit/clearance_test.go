package audit_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
)

// seqsOf lists the events' sequence numbers.
func seqsOf(events []audit.Event) []uint64 {
	var out []uint64
	for _, e := range events {
		out = append(out, e.Seq)
	}
	return out
}

// The fixture's event i is at level i%4: of events 0..7, the uncleared
// auditor may read 0 and 4, an auditor cleared for secret all but 3 and 7.
func TestEventsAboveTheReadersClearanceAreNeitherListedShownProvedNorExported(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		n := newNode(t, db, fixtureRing(t), audit.Options{})
		vkey, _ := n.l.VerifierKey()
		fixtureAppend(t, n.l, 0, 8)
		asSecret := staffPrincipal(11, "auditor.secret", authz.Auditor)
		asSecret.Subject.Clearance = authz.Secret

		for _, tt := range []struct {
			who  string
			p    web.Principal
			want []uint64
		}{
			{"uncleared auditor", asUncleared, []uint64{4, 0}},
			{"auditor cleared for secret", asSecret, []uint64{6, 5, 4, 2, 1, 0}},
			{"auditor cleared for top secret", asAuditor, []uint64{7, 6, 5, 4, 3, 2, 1, 0}},
		} {
			// Paging one event at a time: every page holds one event the
			// reader may see, and the cursor ends with the last of them.
			var got []uint64
			next, pages := "", 0
			for {
				p := decode[eventPage](t, n.get(tt.p, "/api/v1/audit/events?resource_type=record&limit=1&after="+next), http.StatusOK)
				pages++
				if len(p.Items) != 1 {
					t.Fatalf("%s: page %d holds %d events, want 1 (an empty or short page tells of hidden events)", tt.who, pages, len(p.Items))
				}
				got = append(got, seqsOf(p.Items)...)
				if next = p.Next; next == "" || pages > 10 {
					break
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("%s searched and saw %v, want %v", tt.who, got, tt.want)
			}
			if all := decode[eventPage](t, n.get(tt.p, "/api/v1/audit/events?resource_type=record"), http.StatusOK); fmt.Sprint(seqsOf(all.Items)) != fmt.Sprint(tt.want) {
				t.Errorf("%s's one page = %v, want %v", tt.who, seqsOf(all.Items), tt.want)
			}
			if events := exportLines(t, n.get(tt.p, "/api/v1/audit/export?from_seq=0&to_seq=7").Body.Bytes(), vkey); fmt.Sprint(reversed(seqsOf(events))) != fmt.Sprint(tt.want) {
				t.Errorf("%s exported %v, want %v", tt.who, seqsOf(events), tt.want)
			}
		}

		secret := fixtureEvent(2) // level secret
		for _, target := range []string{
			"/api/v1/audit/events/2",
			"/api/v1/audit/proofs/inclusion?seq=2&size=8",
			"/console/audit/events/2",
		} {
			w := n.get(asUncleared, target)
			if w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), secret.RequestID) || strings.Contains(w.Body.String(), secret.ResourceID) {
				t.Errorf("uncleared auditor GET %s = %d, want 404 telling nothing: %s", target, w.Code, w.Body)
			}
			if w := n.get(asAuditor, target); w.Code != http.StatusOK {
				t.Errorf("cleared auditor GET %s = %d, want 200", target, w.Code)
			}
		}
		for _, target := range []string{"/api/v1/audit/events/4", "/api/v1/audit/proofs/inclusion?seq=4&size=8", "/console/audit/events/4"} {
			if w := n.get(asUncleared, target); w.Code != http.StatusOK {
				t.Errorf("uncleared auditor GET %s (an unclassified event) = %d, want 200", target, w.Code)
			}
		}

		page := n.get(asUncleared, "/console/audit")
		if page.Code != http.StatusOK || strings.Contains(page.Body.String(), secret.ResourceID) || !strings.Contains(page.Body.String(), fixtureEvent(4).ResourceID) {
			t.Errorf("uncleared auditor's search page = %d; want it to list event 4 and not event 2:\n%s", page.Code, page.Body)
		}
		form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
		w := n.do(asUncleared, http.MethodPost, "/console/audit/export", form, url.Values{"from_seq": {"0"}, "to_seq": {"7"}}.Encode())
		if events := exportLines(t, w.Body.Bytes(), vkey); fmt.Sprint(seqsOf(events)) != "[0 4]" {
			t.Errorf("uncleared auditor's console export = %v, want [0 4]", seqsOf(events))
		}
	})
}

func reversed(s []uint64) []uint64 {
	out := make([]uint64, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}
