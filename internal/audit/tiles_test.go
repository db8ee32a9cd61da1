package audit_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"chancery/internal/audit"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
	"chancery/internal/web"
	"chancery/internal/web/webtest"
)

// tilesServer serves n's routes over HTTP to every request as p.
func tilesServer(t *testing.T, n *node) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := webtest.Serve(n.shell, audit.RequestOrigin(n.rt), asAuditor, r)
		for k, v := range got.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(got.Code)
		w.Write(got.Body.Bytes()) //nolint:errcheck // the client went away
	}))
	t.Cleanup(srv.Close)
	return srv
}

// treeOf verifies a checkpoint as an outside client does and returns its
// tree.
func treeOf(t *testing.T, signed []byte, v note.Verifier) tlog.Tree {
	t.Helper()
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		t.Fatalf("the checkpoint does not verify: %v\n%s", err, signed)
	}
	cp, err := torchwood.ParseCheckpoint(n.Text)
	if err != nil {
		t.Fatal(err)
	}
	return cp.Tree
}

// An off-the-shelf tlog-tiles client (filippo.io/torchwood) reads the
// ledger from its tiles: it verifies entries' inclusion in the tree its
// checkpoint signs, and the consistency of an older checkpoint with the
// newer one. Its hashes are RFC 6962's, as the ledger's.
func TestTorchwoodVerifiesTheLedgerFromItsTiles(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n := newNode(t, db, fixtureRing(t), audit.Options{Origin: fixtureOrigin})
		fixtureAppend(t, n.l, 0, 300)
		old, err := n.l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fixtureAppend(t, n.l, 300, 600)
		if _, err := n.l.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		srv := tilesServer(t, n)
		fetcher, err := torchwood.NewTileFetcher(srv.URL+audit.TilesPrefix, torchwood.WithHTTPClient(srv.Client()))
		if err != nil {
			t.Fatal(err)
		}
		signed, err := fetcher.ReadEndpoint(ctx, "checkpoint")
		if err != nil {
			t.Fatal(err)
		}
		v, _ := n.l.Verifier()
		tree := treeOf(t, signed, v)
		if tree.N != 600 {
			t.Fatalf("the checkpoint served has size %d, want 600", tree.N)
		}
		client, err := torchwood.NewClient(fetcher)
		if err != nil {
			t.Fatal(err)
		}
		for _, seq := range []int64{0, 255, 256, 517, 599} {
			entry, _, err := client.Entry(ctx, tree, seq)
			if err != nil {
				t.Fatalf("entry %d: %v", seq, err)
			}
			e, _ := n.l.Event(ctx, uint64(seq))
			if want, _ := e.MarshalLeaf(); !bytes.Equal(entry, want) {
				t.Errorf("entry %d is not the event's canonical encoding", seq)
			}
		}
		oldTree := treeOf(t, old.Note, v)
		hr := torchwood.TileHashReaderWithContext(ctx, tree, fetcher)
		p, err := tlog.ProveTree(tree.N, oldTree.N, hr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckTree(p, tree.N, tree.Hash, oldTree.N, oldTree.Hash); err != nil {
			t.Errorf("the tree of 300 events is not proven a prefix of the tree of 600: %v", err)
		}

		for _, c := range []struct {
			who    web.Principal
			path   string
			status int
		}{
			{asAuditor, "/tile/0/001", http.StatusOK},
			{asAuditor, "/tile/0/002.p/88", http.StatusOK},
			{asAuditor, "/tile/1/000.p/2", http.StatusOK},
			{asAuditor, "/tile/entries/000", http.StatusOK},
			{asAuditor, "/tile/0/002", http.StatusNotFound}, // beyond the tree
			{asAuditor, "/tile/entries/003.p/1", http.StatusNotFound},
			{asAuditor, "/tile/0/1", http.StatusBadRequest},       // not canonical
			{asAuditor, "/tile/0/001.p/0", http.StatusBadRequest}, // no width 0
			{asAuditor, "/tile/9/000", http.StatusBadRequest},
			{asUncleared, "/tile/0/000", http.StatusNotFound}, // a tile holds events above their clearance
			{web.Principal{}, "/tile/0/000", http.StatusUnauthorized},
		} {
			w := n.get(c.who, audit.TilesPrefix+c.path)
			if w.Code != c.status {
				t.Errorf("GET %s as %q: %d %s, want %d", c.path, c.who.Username, w.Code, w.Body, c.status)
			}
			if w.Code == http.StatusOK && w.Header().Get("Cache-Control") != "private, max-age=31536000, immutable" {
				t.Errorf("GET %s: Cache-Control %q, want immutable", c.path, w.Header().Get("Cache-Control"))
			}
		}
		if w := n.get(asAuditor, audit.TilesPrefix+"/tile/0/002.p/88"); w.Body.Len() != 88*32 {
			t.Errorf("the partial tile of 88 hashes is %d bytes", w.Body.Len())
		}
	})
}
