package audit

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"

	"chancery/internal/errs"
)

// The log side of c2sp.org/tlog-witness: headquarters pushes each new
// checkpoint of its ledger to its witnesses (the missions' nodes), keeps
// the cosignatures they return and serves them with the checkpoint.

// WitnessClient is a witness as the ledger reaches it: over HTTP
// (HTTPWitness), through the exchange, or a *Witness in the same process.
// A refusal is a *WitnessError with the protocol's status.
type WitnessClient interface {
	AddCheckpoint(ctx context.Context, req AddCheckpointRequest) ([]byte, error)
}

// WitnessPeer is one witness of the ledger.
type WitnessPeer struct {
	// Verifier checks the witness's cosignatures; its name is the
	// witness's name.
	Verifier note.Verifier
	Client   WitnessClient
}

// WitnessRefusal is a witness's refusal to cosign because it knows a
// checkpoint of this ledger inconsistent with the one offered: the ledger
// was forked or rewound (or the witness's state was). It is stored as
// evidence (see Ledger.WitnessRefusals).
type WitnessRefusal struct {
	Witness string
	Size    uint64 // the size of the checkpoint offered
	Note    []byte // the checkpoint offered
	Status  int
	Detail  string
	Found   time.Time
}

// cosignParallel is how many witnesses Cosign asks at once.
const cosignParallel = 16

// CosignOptions configure Ledger.Cosign.
type CosignOptions struct {
	Peers []WitnessPeer
	// OnRefusal, if set, is told of each inconsistency a witness reports,
	// once its evidence is stored: the node raises an alert. It may be
	// called from several goroutines at once.
	OnRefusal func(context.Context, WitnessRefusal)
}

// Cosign pushes the latest checkpoint to every witness in opts.Peers that
// has not cosigned it, with a consistency proof from the size each last
// cosigned, and stores the cosignatures returned. It returns the number
// of new cosignatures and the errors of the witnesses that failed, joined.
//
// A witness that answers 409 with a size the ledger holds is sent the
// proof from that size once more (its state was lost here, or it is new).
// A witness that knows a larger tree than the ledger's, or a different
// root at a size, or refuses the proof (422), has seen a history this
// ledger does not extend: that is kept as a WitnessRefusal and told to
// opts.OnRefusal.
func (l *Ledger) Cosign(ctx context.Context, opts CosignOptions) (int, error) {
	cp, err := l.LatestCheckpoint(ctx)
	if err != nil {
		return 0, err
	}
	// Witnesses answer at their own pace (a mission's link may be slow
	// or cut): they are asked side by side, a few at a time.
	var (
		mu     sync.Mutex
		failed []error
		n      int
		wg     sync.WaitGroup
		slots  = make(chan struct{}, cosignParallel)
	)
	for _, p := range opts.Peers {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			added, err := l.cosignWith(ctx, cp, p, opts.OnRefusal)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = append(failed, fmt.Errorf("witness %s: %w", p.Verifier.Name(), err))
			}
			if added {
				n++
			}
		}()
	}
	wg.Wait()
	return n, errors.Join(failed...)
}

// cosignWith asks one witness to cosign cp, and reports whether it did.
func (l *Ledger) cosignWith(ctx context.Context, cp Checkpoint, p WitnessPeer, onRefusal func(context.Context, WitnessRefusal)) (bool, error) {
	name := p.Verifier.Name()
	old, err := lastCosigned(ctx, l, name)
	if err != nil {
		return false, err
	}
	if old == cp.Size {
		if has, err := hasCosignature(ctx, l, cp.Size, name); err != nil || has {
			return false, err
		}
	}
	refuse := func(status int, detail string) (bool, error) {
		r := WitnessRefusal{Witness: name, Size: cp.Size, Note: cp.Note, Status: status, Detail: detail, Found: l.now().UTC()}
		if err := insertRefusal(ctx, l, r); err != nil {
			return false, err
		}
		if onRefusal != nil {
			onRefusal(ctx, r)
		}
		return false, fmt.Errorf("%w: %s", errs.ErrConflict, detail)
	}
	for attempt := 0; ; attempt++ {
		if old > cp.Size {
			return refuse(http.StatusConflict, fmt.Sprintf("the witness cosigned a tree of %d events, but the ledger holds %d: the ledger was rewound", old, cp.Size))
		}
		req := AddCheckpointRequest{OldSize: old, Checkpoint: cp.Note}
		if old > 0 && old < cp.Size {
			if req.Proof, err = l.ConsistencyProof(ctx, old, cp.Size); err != nil {
				return false, err
			}
		}
		line, err := p.Client.AddCheckpoint(ctx, req)
		var refusal *WitnessError
		switch {
		case err == nil:
			return true, l.keepCosignature(ctx, cp, p.Verifier, line)
		case !errors.As(err, &refusal):
			return false, err
		case refusal.Status == http.StatusConflict && refusal.Known != old && attempt == 0:
			old = refusal.Known // the witness's state differs from ours: prove from its size
			continue
		case refusal.Status == http.StatusConflict:
			return refuse(refusal.Status, fmt.Sprintf("the witness cosigned another tree of %d events than the ledger's: the ledger's history differs from what it saw", refusal.Known))
		case refusal.Status == http.StatusUnprocessableEntity:
			return refuse(refusal.Status, fmt.Sprintf("the witness refused the proof that the tree of %d events extends the one of %d it cosigned: %s", cp.Size, old, refusal.Message))
		}
		return false, err
	}
}

// keepCosignature checks line as a cosignature of cp by v and stores it.
func (l *Ledger) keepCosignature(ctx context.Context, cp Checkpoint, v note.Verifier, line []byte) error {
	if !bytes.HasPrefix(line, []byte("— ")) || !bytes.HasSuffix(line, []byte("\n")) || bytes.Count(line, []byte("\n")) != 1 {
		return fmt.Errorf("%w: the witness answered %.80q, not one signature line", errs.ErrInvalid, line)
	}
	n, err := note.Open(append(bytes.Clone(cp.Note), line...), note.VerifierList(v))
	if err != nil || len(n.Sigs) != 1 || n.Sigs[0].Name != v.Name() {
		return fmt.Errorf("%w: the witness's answer is not its valid cosignature of the checkpoint at size %d", errs.ErrInvalid, cp.Size)
	}
	_, err = l.db.ExecContext(ctx, l.db.Rebind(
		"INSERT INTO audit_cosignatures (size, witness, line, received_us) VALUES (?, ?, ?, ?) ON CONFLICT (size, witness) DO NOTHING"),
		int64(cp.Size), v.Name(), string(line), l.now().UTC().UnixMicro())
	if err != nil {
		return fmt.Errorf("audit: store the cosignature of %s: %w", v.Name(), err)
	}
	return nil
}

// lastCosigned returns the size of the latest checkpoint witness
// cosigned, zero for none.
func lastCosigned(ctx context.Context, l *Ledger, witness string) (uint64, error) {
	var size sql.NullInt64
	err := l.db.QueryRowContext(ctx, l.db.Rebind("SELECT MAX(size) FROM audit_cosignatures WHERE witness = ?"), witness).Scan(&size)
	if err != nil {
		return 0, fmt.Errorf("audit: read the cosignatures of %s: %w", witness, err)
	}
	return uint64(size.Int64), nil
}

func hasCosignature(ctx context.Context, l *Ledger, size uint64, witness string) (bool, error) {
	var n int
	err := l.db.QueryRowContext(ctx, l.db.Rebind("SELECT COUNT(*) FROM audit_cosignatures WHERE size = ? AND witness = ?"), int64(size), witness).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("audit: read the cosignatures of %s: %w", witness, err)
	}
	return n > 0, nil
}

func insertRefusal(ctx context.Context, l *Ledger, r WitnessRefusal) error {
	_, err := l.db.ExecContext(ctx, l.db.Rebind(
		"INSERT INTO audit_witness_refusals (witness, size, note, status, detail, found_us) VALUES (?, ?, ?, ?, ?, ?)"),
		r.Witness, int64(r.Size), string(r.Note), r.Status, r.Detail, r.Found.UnixMicro())
	if err != nil {
		return fmt.Errorf("audit: store the refusal of witness %s: %w", r.Witness, err)
	}
	return nil
}

// WitnessRefusals returns the evidence of every inconsistency the
// ledger's witnesses reported, newest first.
func (l *Ledger) WitnessRefusals(ctx context.Context) ([]WitnessRefusal, error) {
	rows, err := l.db.QueryContext(ctx, "SELECT witness, size, note, status, detail, found_us FROM audit_witness_refusals ORDER BY id DESC")
	if err != nil {
		return nil, fmt.Errorf("audit: read witness refusals: %w", err)
	}
	defer rows.Close()
	var out []WitnessRefusal
	for rows.Next() {
		var (
			r         WitnessRefusal
			size, fus int64
			noteText  string
		)
		if err := rows.Scan(&r.Witness, &size, &noteText, &r.Status, &r.Detail, &fus); err != nil {
			return nil, fmt.Errorf("audit: read witness refusals: %w", err)
		}
		r.Size, r.Note, r.Found = uint64(size), []byte(noteText), time.UnixMicro(fus).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: read witness refusals: %w", err)
	}
	return out, nil
}

// CosignedCheckpoint returns the latest checkpoint with the cosignature
// lines its witnesses returned appended to its note.
func (l *Ledger) CosignedCheckpoint(ctx context.Context) (Checkpoint, error) {
	cp, err := l.LatestCheckpoint(ctx)
	if err != nil {
		return cp, err
	}
	return l.withCosignatures(ctx, cp)
}

// withCosignatures returns cp with the cosignature lines its witnesses
// returned appended to its note.
func (l *Ledger) withCosignatures(ctx context.Context, cp Checkpoint) (Checkpoint, error) {
	rows, err := l.db.QueryContext(ctx, l.db.Rebind("SELECT line FROM audit_cosignatures WHERE size = ? ORDER BY witness"), int64(cp.Size))
	if err != nil {
		return cp, fmt.Errorf("audit: read the cosignatures at size %d: %w", cp.Size, err)
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return cp, fmt.Errorf("audit: read the cosignatures at size %d: %w", cp.Size, err)
		}
		cp.Note = append(cp.Note, line...)
	}
	return cp, rows.Err()
}

// HTTPWitness is a witness reached over HTTP at its submission prefix, as
// c2sp.org/tlog-witness describes.
type HTTPWitness struct {
	URL    string // the submission prefix, such as https://paris.example/api/v1/audit/witness
	Client *http.Client
}

// NewHTTPWitness returns the witness at the submission prefix prefix. It
// returns an error wrapping errs.ErrInvalid for a URL that is not http or
// https.
func NewHTTPWitness(prefix string, client *http.Client) (*HTTPWitness, error) {
	u, err := url.Parse(prefix)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: witness URL %.80q must be http(s)://host/prefix", errs.ErrInvalid, prefix)
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &HTTPWitness{URL: strings.TrimSuffix(prefix, "/"), Client: client}, nil
}

// AddCheckpoint posts req to the witness and returns its cosignature
// lines, or a *WitnessError with its status.
func (h *HTTPWitness) AddCheckpoint(ctx context.Context, req AddCheckpointRequest) ([]byte, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL+"/add-checkpoint", bytes.NewReader(req.Marshal()))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "text/plain; charset=utf-8")
	res, err := h.Client.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("%w: witness %s: %v", errs.ErrUnavailable, h.URL, err)
	}
	defer res.Body.Close()
	switch res.StatusCode {
	case http.StatusOK:
		body, err := io.ReadAll(io.LimitReader(res.Body, 4<<10))
		if err != nil {
			return nil, fmt.Errorf("%w: witness %s: %v", errs.ErrUnavailable, h.URL, err)
		}
		return body, nil
	case http.StatusConflict:
		known, err := readSize(res.Body)
		if err != nil {
			return nil, err
		}
		return nil, &WitnessError{Status: res.StatusCode, Known: known, Message: fmt.Sprintf("the witness's latest cosigned size is %d", known)}
	}
	detail, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
	var problem struct{ Detail string }
	if json.Unmarshal(detail, &problem) == nil && problem.Detail != "" {
		detail = []byte(problem.Detail)
	}
	return nil, &WitnessError{Status: res.StatusCode, Message: fmt.Sprintf("the witness answered %s: %s", res.Status, clipText(string(detail), 200))}
}

// InconsistencyAction is the ledger action that records an inconsistency
// between a log and its witness, on either side: Sentinel raises an alert
// on it (rule ledger_inconsistency), and a mission's alert reaches
// headquarters too.
const InconsistencyAction = "audit.detect_inconsistency"

// inconsistencyEvent is the ledger event of an inconsistency about log
// origin's checkpoint at size, found by side ("witness" or "log").
func inconsistencyEvent(side, origin, witness string, size uint64, problem string) Event {
	return Event{Actor: System("witness"), Action: InconsistencyAction, ResourceType: "audit_checkpoint",
		ResourceID: clipText(origin, maxResourceID-24) + "@" + strconv.FormatUint(size, 10), Outcome: Failed, Reason: clipText(problem, 400),
		Attrs: map[string]string{"side": side, "witness": clipText(witness, 200), "size": strconv.FormatUint(size, 10)}}
}

// Event returns the ledger event that records c on the witness's node.
func (c Conflict) Event(witness string) Event {
	size := uint64(0)
	if lines := strings.SplitN(string(c.Offered), "\n", 3); len(lines) > 1 {
		size, _ = strconv.ParseUint(lines[1], 10, 64)
	}
	return inconsistencyEvent("witness", c.Origin, witness, size, c.Problem)
}

// Event returns the ledger event that records r on the log's node.
func (r WitnessRefusal) Event(origin string) Event {
	return inconsistencyEvent("log", origin, r.Witness, r.Size, r.Detail)
}

// clipText cuts s to at most n bytes on a character boundary, with its
// control characters (a remote answer's line breaks) made spaces.
func clipText(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
