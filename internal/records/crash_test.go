package records

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// The kill -9 test re-runs the test binary as a child that issues
// numbers until it is killed. TestMain hands control to issueChild when
// issueChildEnv is set.
const (
	issueChildEnv = "CHANCERY_RECORDS_ISSUE_DB"    // the child's database
	issueKeysEnv  = "CHANCERY_RECORDS_ISSUE_KEYS"  // its key directory
	issueClerkEnv = "CHANCERY_RECORDS_ISSUE_CLERK" // the issuing clerk: "id unit"
)

// issueChild issues every signed document of the clerk's unit from eight
// goroutines at once, printing "ack <id> <number and symbol>" for each
// issuance once it has committed, until all are issued or it is killed.
func issueChild() int {
	ctx := context.Background()
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "issue child:", err)
		return 2
	}
	db, err := store.Open(ctx, os.Getenv(issueChildEnv), "")
	if err != nil {
		return fail(err)
	}
	ring, err := keys.Load(ctx, keys.Options{DataDir: os.Getenv(issueKeysEnv), Purposes: Purposes()})
	if err != nil {
		return fail(err)
	}
	ledger, err := audit.New(ctx, db, ring, audit.Options{})
	if err != nil {
		return fail(err)
	}
	svc, err := NewService(Options{DB: db, Ring: ring, Recorder: ledger})
	if err != nil {
		return fail(err)
	}
	var id, unit int64
	if _, err := fmt.Sscan(os.Getenv(issueClerkEnv), &id, &unit); err != nil {
		return fail(err)
	}
	clerk := authz.Subject{Kind: authz.Staff, ID: id, Unit: unit, Roles: authz.RolesOf(authz.Clerk), Clearance: authz.TopSecret}
	ids, err := int64s(ctx, db, `SELECT id FROM record_documents WHERE unit_id = ? AND status = 'signed' ORDER BY id`, unit)
	if err != nil {
		return fail(err)
	}
	as := DemoStaff{Subject: clerk, Username: "clerk"}.as(ctx)
	var out sync.Mutex
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Bool
	for range 8 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(len(ids)) {
					return
				}
				d, err := svc.Issue(as, clerk, ids[i], IssueAs{OrgSymbol: "BNG"})
				if err != nil {
					fmt.Fprintln(os.Stderr, "issue child: issue:", err)
					failed.Store(true)
					return
				}
				out.Lock()
				os.Stdout.WriteString(fmt.Sprintf("ack %d %s\n", d.ID, d.Number)) // unbuffered: written before the next issuance
				out.Unlock()
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		return 1
	}
	return 0
}

// TestKillDuringIssuanceLosesNoNumber kills (SIGKILL: no deferred
// function, no rollback, no Close) a process issuing numbers from eight
// goroutines at random moments, restarts it, and finally lets it issue
// the rest; then each series holds 1..n exactly, every number is on one
// document, every issuance acknowledged before a kill kept its number
// (one committed but killed before its acknowledgement is simply issued),
// and each register's counter stands at its last number issued.
func TestKillDuringIssuanceLosesNoNumber(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db, dsn := storetest.MustOpenShared(t, d)
			f := newFixture(t, db)
			const n = 400
			f.signedDrafts(t, n)
			keyDir := t.TempDir()
			seed := uint64(time.Now().UnixNano())
			rnd := rand.New(rand.NewPCG(seed, 9))
			t.Logf("kill moments drawn with seed %d", seed)

			acked := map[int64]string{}
			run := func(killAfter int) (killed bool) {
				t.Helper()
				count := 0
				killed, err := storetest.RunChild(t, []string{issueChildEnv + "=" + dsn, issueKeysEnv + "=" + keyDir,
					issueClerkEnv + "=" + fmt.Sprintf("%d %d", f.clerk.ID, f.clerk.Unit)}, func(line string) bool {
					fields := strings.Fields(line)
					if len(fields) != 3 || fields[0] != "ack" {
						t.Fatalf("the child wrote %q", line)
					}
					id, err := strconv.ParseInt(fields[1], 10, 64)
					if err != nil {
						t.Fatalf("the child wrote %q", line)
					}
					if prev, ok := acked[id]; ok {
						t.Errorf("document %d issued twice: %s and %s", id, prev, fields[2])
					}
					acked[id] = fields[2]
					count++
					return count == killAfter
				})
				if !killed && err != nil {
					t.Fatalf("the child failed: %v", err)
				}
				return killed
			}
			kills := 0
			for range 5 {
				if !run(10 + rnd.IntN(90)) {
					break
				}
				kills++
			}
			run(-1) // the rest, to the end
			if kills == 0 {
				t.Fatal("the child was never killed while issuing")
			}

			issued, gaps, dups := f.checkSeries(t)
			if issued != n || gaps != 0 || dups != 0 {
				t.Errorf("after %d kills: %d of %d issued, %d gaps, %d duplicates", kills, issued, n, gaps, dups)
			}
			for id, number := range acked {
				r, err := loadDocument(ctx, db, id, time.Now(), false)
				if err != nil {
					t.Fatal(err)
				}
				if r.Number != number || r.Status != StatusIssued {
					t.Errorf("document %d was acknowledged as %s, is %s (%s)", id, number, r.Number, r.Status)
				}
			}
			// No number was taken and then lost: each counter stands at
			// the series' last number.
			var stray int
			if err := db.QueryRowContext(ctx, db.Rebind(`SELECT COUNT(*) FROM record_registers g WHERE g.unit_id = ? AND g.last !=
				(SELECT COUNT(*) FROM record_documents d WHERE d.unit_id = g.unit_id AND d.series = g.series AND d.register_year = g.year
				AND d.register_number > 0)`), f.clerk.Unit).Scan(&stray); err != nil {
				t.Fatal(err)
			}
			if stray != 0 {
				t.Errorf("%d registers' counters do not stand at their last number", stray)
			}
			t.Logf("%d kills; %d numbers issued without gap or duplicate", kills, issued)
		})
	}
}
