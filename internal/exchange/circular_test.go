package exchange

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"chancery/internal/authz"
	"chancery/internal/store"
)

// Three more subsystems of the mission, each offering notice/v1: visaSys and
// archiveSys grant headquarters' procedures system the right to send to
// them, pressSys grants nobody.
var (
	visaSys    = ClientID{DefaultInstance, ClassGOV, missionMember, "visa"}
	archiveSys = ClientID{DefaultInstance, ClassGOV, missionMember, "archive"}
	pressSys   = ClientID{DefaultInstance, ClassGOV, missionMember, "press"}
)

// circularNet is the linked test network with the subsystems above.
func circularNet(tb testing.TB, d store.Dialect) *linkedNet {
	tb.Helper()
	ln := newLinkedNet(tb, d, nil)
	ln.publish(tb, func(c *GlobalConf) {
		for _, id := range []ClientID{visaSys, archiveSys, pressSys} {
			svc := ServiceID{ClientID: id, Service: "notice", Version: "v1"}
			c.Subsystems = append(c.Subsystems, Subsystem{ID: id, Title: id.Subsystem, Clearance: authz.Confidential})
			c.Services = append(c.Services, Service{ID: svc, Kind: KindAsync, Title: "Notice", MaxLevel: authz.Secret})
			if id != pressSys {
				c.Rights = append(c.Rights, Right{Service: svc, Client: procedures})
			}
		}
	})
	ln.waitLinked(tb)
	return ln
}

// count returns the number of rows of table on n.
func count(tb testing.TB, n *testNode, table string) int {
	tb.Helper()
	var k int
	if err := n.db.QueryRowContext(testCtx(), `SELECT COUNT(*) FROM `+table).Scan(&k); err != nil {
		tb.Fatalf("count %s: %v", table, err)
	}
	return k
}

// TestACircularReachesEachRecipientWithItsOwnCopy pins issue 17 item 8:
// one circular to three recipients is one circular row and three
// ordinary outgoing messages, each with its own id, delivered to each
// recipient's own inbox, and the sender reads who has it per recipient.
func TestACircularReachesEachRecipientWithItsOwnCopy(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ln := circularNet(t, d)
			ctx := testCtx()
			before := count(t, ln.hq, "exchange_log")
			to := []ClientID{consular, visaSys, archiveSys}
			id, copies, err := ln.hq.Publish(ctx, Circular{From: procedures, Service: "notice/v1", Recipients: to,
				Level: authz.Confidential, ContentType: "text/plain", Payload: []byte("circular 1/2026")})
			if err != nil {
				t.Fatalf("Publish: %v", err)
			}
			if len(copies) != 3 || count(t, ln.hq, "exchange_circulars") != 1 || count(t, ln.hq, "exchange_circular_recipients") != 3 ||
				count(t, ln.hq, "exchange_log") != before+3 {
				t.Fatalf("Publish wrote %d copies, %d circulars, %d recipients, %d log rows; want 3, 1, 3, %d", len(copies),
					count(t, ln.hq, "exchange_circulars"), count(t, ln.hq, "exchange_circular_recipients"), count(t, ln.hq, "exchange_log"), before+3)
			}
			ids := map[string]bool{}
			for i, r := range to {
				in := waitInbox(t, ln.mission.Node, r, 1, 20*time.Second)
				if in[0].ID != copies[i].MessageID || string(in[0].Payload) != "circular 1/2026" || in[0].Sender != procedures ||
					in[0].Service != (ServiceID{ClientID: r, Service: "notice", Version: "v1"}) {
					t.Errorf("%s got %+v, want copy %s", r, in[0], copies[i].MessageID)
				}
				ids[in[0].ID] = true
			}
			if len(ids) != 3 {
				t.Errorf("the recipients got %d distinct message ids, want 3", len(ids))
			}
			var st *CircularStatus
			waitFor(t, 10*time.Second, "every copy delivered", func() bool {
				if st, err = ln.hq.CircularStatus(ctx, owner, id); err != nil {
					t.Fatalf("CircularStatus: %v", err)
				}
				delivered := 0
				for _, c := range st.Copies {
					if c.State == outcomeDelivered {
						delivered++
					}
				}
				return delivered == 3
			})
			if len(st.Copies) != 3 || st.Sender != procedures || st.Service != "notice/v1" {
				t.Errorf("status = %+v, want 3 copies from %s", st, procedures)
			}
			other := authz.Subject{Kind: authz.Client, Subsystem: consular.String()}
			if _, err := ln.hq.CircularStatus(ctx, other, id); err == nil {
				t.Errorf("another subsystem reads the circular's status")
			}
		})
	}
}

// TestACircularWithARefusedRecipientWritesNothing: a recipient the sender
// has no right to send to refuses the whole circular, naming it, and
// nothing is stored; "all missions" takes pressSys too, and is refused the
// same way.
func TestACircularWithARefusedRecipientWritesNothing(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ln := circularNet(t, d)
			ctx := testCtx()
			before := count(t, ln.hq, "exchange_log")
			for _, c := range []Circular{
				{From: procedures, Service: "notice/v1", Recipients: []ClientID{consular, pressSys, visaSys}, ContentType: "text/plain", Payload: []byte("x")},
				{From: procedures, Service: "notice/v1", AllMissions: true, ContentType: "text/plain", Payload: []byte("x")},
			} {
				_, _, err := ln.hq.Publish(ctx, c)
				if re, ok := err.(*RefusedError); !ok || re.Reason != ReasonNoRight || !strings.Contains(err.Error(), pressSys.String()) ||
					strings.Contains(err.Error(), visaSys.String()) {
					t.Errorf("Publish = %v, want a refusal naming %s only", err, pressSys)
				}
			}
			if count(t, ln.hq, "exchange_log") != before || count(t, ln.hq, "exchange_circulars") != 0 || count(t, ln.hq, "exchange_circular_recipients") != 0 {
				t.Errorf("a refused circular left rows behind")
			}
		})
	}
}

// TestTheCircularAPI: the routes answer 202 with the copies, the status
// per recipient to the sender only (404 to others), and 400 or 403 to
// hostile input with nothing stored.
func TestTheCircularAPI(t *testing.T) {
	ln := circularNet(t, store.SQLite)
	ctx := testCtx()
	hqURL, missionURL := apiServer(t, ln.hq.Node), apiServer(t, ln.mission.Node)
	token, err := ln.hq.IssueToken(ctx, procedures, "procedures system")
	if err != nil {
		t.Fatal(err)
	}
	consularToken, err := ln.mission.IssueToken(ctx, consular, "consular system")
	if err != nil {
		t.Fatal(err)
	}
	post := func(body map[string]any) (int, []byte) {
		b, _ := json.Marshal(body)
		code, _, resp := call(t, http.MethodPost, hqURL+"/api/v1/exchange/circulars", token, "application/json", b)
		return code, resp
	}
	good := func() map[string]any {
		return map[string]any{"service": "notice/v1", "recipients": []string{consular.String(), visaSys.String(), archiveSys.String()},
			"content_type": "text/plain", "payload": []byte("hello")}
	}
	for _, c := range []struct {
		name   string
		change func(map[string]any)
		want   int
	}{
		{"NUL in the content type", func(m map[string]any) { m["content_type"] = "text/plain\x00" }, http.StatusBadRequest},
		{"CR LF in the content type", func(m map[string]any) { m["content_type"] = "text/plain\r\nX: 1" }, http.StatusBadRequest},
		{"an empty payload", func(m map[string]any) { m["payload"] = []byte{} }, http.StatusBadRequest},
		{"no payload", func(m map[string]any) { delete(m, "payload") }, http.StatusBadRequest},
		{"a duplicate recipient", func(m map[string]any) {
			m["recipients"] = []string{consular.String(), visaSys.String(), consular.String()}
		}, http.StatusBadRequest},
		{"no service", func(m map[string]any) { delete(m, "service") }, http.StatusBadRequest},
		{"a payload over the limit", func(m map[string]any) { m["payload"] = make([]byte, 2<<20) }, http.StatusRequestEntityTooLarge},
		{"no recipients", func(m map[string]any) { delete(m, "recipients") }, http.StatusBadRequest},
		{"recipients and all missions", func(m map[string]any) { m["all_missions"] = true }, http.StatusBadRequest},
		{"a malformed recipient", func(m map[string]any) { m["recipients"] = []string{"VN/GOV\x00/x"} }, http.StatusBadRequest},
		{"a malformed service", func(m map[string]any) { m["service"] = "notice/v1/x" }, http.StatusBadRequest},
		{"a recipient without a right", func(m map[string]any) {
			m["recipients"] = []string{consular.String(), pressSys.String()}
		}, http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := good()
			c.change(body)
			if code, resp := post(body); code != c.want {
				t.Errorf("POST = %d %s, want %d", code, resp, c.want)
			}
		})
	}
	if count(t, ln.hq, "exchange_circulars") != 0 {
		t.Fatalf("refused circulars were stored")
	}

	code, resp := post(good())
	var got CircularResponse
	if code != http.StatusAccepted || json.Unmarshal(resp, &got) != nil || len(got.Copies) != 3 {
		t.Fatalf("POST = %d %s, want 202 with 3 copies", code, resp)
	}
	code, _, resp = call(t, http.MethodGet, hqURL+"/api/v1/exchange/circulars/"+got.ID, token, "", nil)
	var st CircularStatus
	if code != http.StatusOK || json.Unmarshal(resp, &st) != nil || len(st.Copies) != 3 || st.Copies[0].State == "" {
		t.Errorf("GET = %d %s, want 200 with 3 copies and their states", code, resp)
	}
	// The circular is headquarters' procedures system's: another system
	// learns nothing of it, nor of an id that names nothing.
	for _, u := range []string{missionURL + "/api/v1/exchange/circulars/" + got.ID, hqURL + "/api/v1/exchange/circulars/nope"} {
		tok := consularToken
		if strings.HasPrefix(u, hqURL) {
			tok = token
		}
		if code, _, resp := call(t, http.MethodGet, u, tok, "", nil); code != http.StatusNotFound {
			t.Errorf("GET %s = %d %s, want 404", u, code, resp)
		}
	}
}

// TestConcurrentCircularsAndSendsArriveOnceInOrder: circulars published
// at once with ordinary sends to the same node take the committers' own
// locks, so every copy arrives exactly once and each recipient's inbox
// keeps the order of the sender's log.
func TestConcurrentCircularsAndSendsArriveOnceInOrder(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ln := circularNet(t, d)
			ctx := testCtx()
			var wg sync.WaitGroup
			errc := make(chan error, 64)
			for g := 0; g < 4; g++ {
				wg.Add(2)
				go func() {
					defer wg.Done()
					for i := 0; i < 5; i++ {
						_, _, err := ln.hq.Publish(ctx, Circular{From: procedures, Service: "notice/v1", Recipients: []ClientID{consular, visaSys, archiveSys},
							ContentType: "text/plain", Payload: []byte(fmt.Sprintf("circular %d.%d", g, i))})
						errc <- err
					}
				}()
				go func() {
					defer wg.Done()
					for i := 0; i < 3; i++ {
						_, err := ln.hq.Send(ctx, notice(fmt.Sprintf("notice %d.%d", g, i)))
						errc <- err
					}
				}()
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				if err != nil {
					t.Fatalf("Publish or Send: %v", err)
				}
			}
			for r, want := range map[ClientID]int{consular: 20 + 12, visaSys: 20, archiveSys: 20} {
				in := waitInbox(t, ln.mission.Node, r, want, 30*time.Second)
				rows, err := ln.hq.db.QueryContext(ctx, ln.hq.db.Rebind(`SELECT msg_id FROM exchange_log WHERE direction = 'out' AND recipient = ? ORDER BY seq`), r.String())
				if err != nil {
					t.Fatal(err)
				}
				var order []string
				for rows.Next() {
					var id string
					if err := rows.Scan(&id); err != nil {
						t.Fatal(err)
					}
					order = append(order, id)
				}
				rows.Close()
				for i := range in {
					if i >= len(order) || in[i].ID != order[i] {
						t.Fatalf("%s's inbox differs from the sender's log at %d", r, i)
					}
				}
			}
		})
	}
}
