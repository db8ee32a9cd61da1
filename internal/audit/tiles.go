package audit

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/tlog"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// The ledger as a c2sp.org/tlog-tiles log, for off-the-shelf clients
// (filippo.io/torchwood, the Go module's tlog): the cosigned checkpoint,
// hash tiles of 256 hashes each and entry bundles of 256 events each in
// their canonical encoding (Event.MarshalLeaf), whose RFC 6962 leaf hashes
// are the tree's leaves.

// TilesPrefix is where the ledger is served as tlog-tiles.
const TilesPrefix = "/api/v1/audit/log"

// tileHeight is the tiles' height: 2⁸ = 256 hashes or entries a tile.
const tileHeight = 8

const tileWidth = 1 << tileHeight

// registerTiles adds the tlog-tiles routes. Like every route of the
// ledger they need a role that reads audit events; a tile holds 256
// events of every level, so it is served only to whom authz lets read
// the top level (see readsEveryLevel).
func (h *Handler) registerTiles(rt *web.Router, read web.Access) {
	rt.HandleFunc("GET "+TilesPrefix+"/checkpoint", read, h.tilesCheckpoint)
	rt.HandleFunc("GET "+TilesPrefix+"/tile/{path...}", read, h.tile)
}

// readsEveryLevel returns nil if s may read audit events of every level,
// else the refusal (concealed: a 404).
func readsEveryLevel(s authz.Subject) error {
	r := authz.Resource{Kind: authz.KindAuditEvent, Level: authz.TopSecret}
	if d, reason := authz.Decide(s, authz.Read, r); d != authz.Allowed {
		return authz.Refuse(authz.Concealed, reason, authz.Read, r, "tile")
	}
	return nil
}

// tilesCheckpoint serves the latest checkpoint with its witnesses'
// cosignatures: the one resource of the log that changes.
func (h *Handler) tilesCheckpoint(w http.ResponseWriter, r *http.Request) {
	cp, err := h.l.CosignedCheckpoint(r.Context())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(cp.Note) //nolint:errcheck // the client went away
}

// parseTile parses a tile path after "tile/": <L>/<N>[.p/<W>] or
// entries/<N>[.p/<W>], with N in groups of three digits (x001/x234/067).
// Only the canonical spelling is accepted, so one tile has one URL.
func parseTile(path string) (tlog.Tile, error) {
	full := "tile/8/" + path
	if rest, ok := strings.CutPrefix(path, "entries/"); ok {
		full = "tile/8/data/" + rest
	}
	t, err := tlog.ParseTilePath(full)
	if err != nil || t.H != tileHeight || t.Path() != full || t.L > 7 {
		return tlog.Tile{}, errs.Invalid("path", "must be a tile path of c2sp.org/tlog-tiles, such as tile/0/x001/234, tile/1/005.p/17 or tile/entries/012")
	}
	return t, nil
}

// tile serves a hash tile or an entry bundle. Every tile, full or partial,
// is immutable once the tree covers it; one beyond the tree is not found.
func (h *Handler) tile(w http.ResponseWriter, r *http.Request) {
	t, err := parseTile(r.PathValue("path"))
	if err == nil {
		err = readsEveryLevel(web.SubjectFrom(r.Context()))
	}
	var data []byte
	if err == nil {
		if t.L < 0 {
			data, err = h.l.entryBundle(r.Context(), uint64(t.N), t.W)
		} else {
			data, err = h.l.hashTile(r.Context(), t.L, uint64(t.N), t.W)
		}
	}
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	// Private: the ledger is for its auditors; immutable: a tile never
	// changes once served.
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data) //nolint:errcheck // the client went away
}

// covered checks that the integrated tree holds the leaves up to end.
func (l *Ledger) covered(ctx context.Context, end uint64) error {
	if err := l.checkTreeSize(ctx, end); err != nil {
		return fmt.Errorf("%w: the tile lies beyond the ledger's tree", errs.ErrNotFound)
	}
	return nil
}

// hashTile returns the tile of width w at level level and index n: the
// hashes of the tree's nodes at height 8·level, indices 256·n to
// 256·n+w-1, concatenated.
func (l *Ledger) hashTile(ctx context.Context, level int, n uint64, w int) ([]byte, error) {
	height := uint(tileHeight * level)
	first := n * tileWidth
	if first>>(61-height) != 0 {
		return nil, fmt.Errorf("%w: the tile lies beyond any ledger", errs.ErrNotFound)
	}
	if err := l.covered(ctx, (first+uint64(w))<<height); err != nil {
		return nil, err
	}
	var hashes [][]byte
	var err error
	if level == 0 {
		hashes, err = selectLeaves(ctx, l.db, first, first+uint64(w))
	} else {
		ids := make([]compact.NodeID, w)
		for i := range ids {
			ids[i] = compact.NewNodeID(height, first+uint64(i))
		}
		hashes, err = selectNodes(ctx, l.db, nodeKeys(ids))
	}
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, w*hashSize)
	for _, h := range hashes {
		out = append(out, h...)
	}
	return out, nil
}

// entryBundle returns the entry bundle of width w at index n: events
// 256·n to 256·n+w-1, each as a big-endian 16-bit length and its
// canonical encoding. Events archived to blob storage are not served
// here (their rows are gone).
func (l *Ledger) entryBundle(ctx context.Context, n uint64, w int) ([]byte, error) {
	first := n * tileWidth
	if first >= maxTreeSize {
		return nil, fmt.Errorf("%w: the tile lies beyond any ledger", errs.ErrNotFound)
	}
	if err := l.covered(ctx, first+uint64(w)); err != nil {
		return nil, err
	}
	rows, err := l.db.QueryContext(ctx, l.db.Rebind("SELECT "+selectEventColumns+" FROM audit_events WHERE seq >= ? AND seq < ? ORDER BY seq"),
		int64(first), int64(first+uint64(w)))
	if err != nil {
		return nil, fmt.Errorf("audit: read entries: %w", err)
	}
	defer rows.Close()
	var out []byte
	next := first
	for rows.Next() {
		var e eventRow
		if err := scanEvent(rows, &e); err != nil {
			return nil, fmt.Errorf("audit: read entries: %w", err)
		}
		if e.err != nil || e.ev.Seq != next {
			return nil, fmt.Errorf("%w: event %d is archived or unreadable; the archive holds it", errs.ErrNotFound, next)
		}
		leaf, err := e.ev.MarshalLeaf()
		if err != nil || len(leaf) > 1<<16-1 {
			return nil, fmt.Errorf("audit: event %d cannot be encoded as a tile entry", next)
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(leaf)))
		out = append(out, leaf...)
		next++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: read entries: %w", err)
	}
	if next != first+uint64(w) {
		return nil, fmt.Errorf("%w: event %d is archived; the archive holds it", errs.ErrNotFound, next)
	}
	return out, nil
}
