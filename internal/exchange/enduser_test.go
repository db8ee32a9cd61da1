package exchange

import (
	"net/http"
	"testing"

	"chancery/internal/store"
)

// TestCallCarriesTheEndUserAndPurposeToTheProvider pins issue 10's item
// 5 on the exchange's side: the caller's end user and purpose (X-Road's
// X-Road-UserId and X-Road-Issue) reach the provider's backend, and both
// nodes' message logs keep them in the sealed request.
func TestCallCarriesTheEndUserAndPurposeToTheProvider(t *testing.T) {
	g := newGwNet(t, store.SQLite)
	ctx := testCtx()
	h := http.Header{}
	h.Set(HeaderUserID, "citizen:7")
	h.Set(HeaderIssue, "prefill 1.900001")
	h.Set("X-Other", "dropped")
	resp, err := g.mission.Call(ctx, consular, &Request{Service: lookupSvc, Method: http.MethodGet, Path: "/citizens/001188004215", Header: h})
	if err != nil {
		t.Fatal(err)
	}
	req, _, n := g.backend.last("/citizens/001188004215")
	if n != 1 {
		t.Fatalf("the backend was called %d times", n)
	}
	if got, want := req.Header.Get(HeaderUserID)+" | "+req.Header.Get(HeaderIssue), "citizen:7 | prefill 1.900001"; got != want {
		t.Errorf("the backend saw end user and purpose %q, want %q", got, want)
	}
	if req.Header.Get("X-Other") != "" {
		t.Error("a header outside the list crossed the gateway")
	}
	for _, end := range []struct {
		n         *testNode
		direction string
	}{{g.mission, "out"}, {g.hq, "in"}} {
		row := readGwLogRow(t, end.n, end.direction, TypeRequest, resp.MessageID)
		payload, err := end.n.ring.Open(ctx, keyPurpose, row.body, bodyAD(end.direction, resp.MessageID))
		if err != nil {
			t.Fatal(err)
		}
		logged, err := decodeRequest(payload)
		if err != nil {
			t.Fatal(err)
		}
		if logged.Header.Get(HeaderUserID) != "citizen:7" || logged.Header.Get(HeaderIssue) != "prefill 1.900001" {
			t.Errorf("%s's message log (%s) holds end user %q and purpose %q", end.n.ID(), end.direction,
				logged.Header.Get(HeaderUserID), logged.Header.Get(HeaderIssue))
		}
	}
}
