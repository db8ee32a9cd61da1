package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/web"
)

// The witness side of c2sp.org/tlog-witness: a log (headquarters' ledger)
// submits each new checkpoint with a consistency proof from the last one
// this witness cosigned, and gets back the witness's cosignature line.

// maxProofLines is the most consistency proof lines a request may carry
// (c2sp.org/tlog-witness: "MUST NOT send more than 63").
const maxProofLines = 63

// maxAddCheckpointBody bounds an add-checkpoint request: the old size,
// 63 proof lines and a checkpoint with its signatures.
const maxAddCheckpointBody = 64 + maxProofLines*46 + maxCheckpointNote

// AddCheckpointRequest is the body of an add-checkpoint request.
type AddCheckpointRequest struct {
	OldSize    uint64
	Proof      [][]byte
	Checkpoint []byte // the signed note, with any signatures
}

// Marshal encodes r as the protocol's request body.
func (r AddCheckpointRequest) Marshal() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", r.OldSize)
	for _, h := range r.Proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h) + "\n")
	}
	b.WriteString("\n")
	b.Write(r.Checkpoint)
	return b.Bytes()
}

// ParseAddCheckpointRequest parses a request body. It returns an error
// wrapping errs.ErrInvalid that names what is wrong.
func ParseAddCheckpointRequest(body []byte) (AddCheckpointRequest, error) {
	var r AddCheckpointRequest
	rest := body
	line := func() (string, bool) {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return "", false
		}
		l := string(rest[:i])
		rest = rest[i+1:]
		return l, true
	}
	first, ok := line()
	size, found := strings.CutPrefix(first, "old ")
	if !ok || !found {
		return r, fmt.Errorf("%w: the request must start with a line \"old <size>\"", errs.ErrInvalid)
	}
	var err error
	if r.OldSize, err = parseSize(size); err != nil {
		return r, fmt.Errorf("%w: the old size %.32q is not a decimal number without leading zeros", errs.ErrInvalid, size)
	}
	for {
		l, ok := line()
		if !ok {
			return r, fmt.Errorf("%w: the proof lines must end with an empty line before the checkpoint", errs.ErrInvalid)
		}
		if l == "" {
			break
		}
		if len(r.Proof) == maxProofLines {
			return r, fmt.Errorf("%w: more than %d consistency proof lines", errs.ErrInvalid, maxProofLines)
		}
		h, err := base64.StdEncoding.Strict().DecodeString(l)
		if err != nil || len(h) != hashSize {
			return r, fmt.Errorf("%w: consistency proof line %d is not a base64 SHA-256 hash", errs.ErrInvalid, len(r.Proof)+1)
		}
		r.Proof = append(r.Proof, h)
	}
	if len(rest) == 0 {
		return r, fmt.Errorf("%w: the request has no checkpoint after the empty line", errs.ErrInvalid)
	}
	r.Checkpoint = bytes.Clone(rest)
	return r, nil
}

// WitnessError is a refusal of add-checkpoint, with the status
// c2sp.org/tlog-witness gives it.
type WitnessError struct {
	Status int
	// Known is, for a 409, the size of the latest checkpoint cosigned.
	Known   uint64
	Message string
}

func (e *WitnessError) Error() string { return "audit: witness: " + e.Message }

func witnessRefusal(status int, format string, args ...any) *WitnessError {
	return &WitnessError{Status: status, Message: fmt.Sprintf(format, args...)}
}

// checkOrigin returns the checkpoint parsed and verified as the witnessed
// log's, or a refusal: 404 for another origin, 403 for a signature that
// does not verify or a malformed checkpoint.
func (w *Witness) checkOrigin(signed []byte) (Checkpoint, error) {
	origin, _, _ := strings.Cut(string(signed), "\n")
	if origin != w.log.Name() {
		return Checkpoint{}, witnessRefusal(http.StatusNotFound, "this witness does not witness the log %.80q", origin)
	}
	cp, err := ParseCheckpoint(signed, w.log)
	if err != nil {
		return Checkpoint{}, witnessRefusal(http.StatusForbidden, "%v", err)
	}
	return cp, nil
}

// Caller returns who presents signed: the peer node whose ledger key
// signed it, as an authz subject (authz.Node named by the log's origin),
// or the refusal add-checkpoint answers when it is not the witnessed
// log's. The signature is the protocol's only authentication: whoever
// holds a checkpoint the log signed may present it, and gains nothing by
// presenting an old one.
func (w *Witness) Caller(signed []byte) (authz.Subject, error) {
	if _, err := w.checkOrigin(signed); err != nil {
		return authz.Subject{}, err
	}
	return authz.Subject{Kind: authz.Node, Subsystem: w.log.Name()}, nil
}

// AddCheckpoint is c2sp.org/tlog-witness's add-checkpoint: it checks that
// req's checkpoint is signed by the witnessed log, that req.OldSize is the
// size of the latest checkpoint cosigned (zero for none), and that the
// proof shows the new tree extends that one; then it stores the
// checkpoint and returns the witness's cosignature line. Checking and
// storing happen under one lock, so two requests cannot roll the state
// back.
//
// A refusal is a *WitnessError with the protocol's status: 400 for an old
// size above the checkpoint's, 403 for a checkpoint not signed by the
// log, 404 for another log, 409 (with the known size) for a stale old
// size or another root at the known size, 422 for a proof that does not
// verify. A checkpoint signed by the log that contradicts the one known
// (another root at its size, a smaller tree not cosigned before, or a
// proof that does not connect them) is kept as evidence, with the
// OnConflict hook told.
func (w *Witness) AddCheckpoint(ctx context.Context, req AddCheckpointRequest) ([]byte, error) {
	cp, err := w.checkOrigin(req.Checkpoint)
	if err != nil {
		return nil, err
	}
	if req.OldSize > cp.Size {
		return nil, witnessRefusal(http.StatusBadRequest, "the old size %d is above the checkpoint's size %d", req.OldSize, cp.Size)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	known, err := latestWitnessed(ctx, w.db, cp.Origin)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		known = witnessed{}
	case err != nil:
		return nil, err
	}
	stale := func() error {
		return &WitnessError{Status: http.StatusConflict, Known: known.size,
			Message: fmt.Sprintf("the latest checkpoint cosigned has size %d, not %d", known.size, req.OldSize)}
	}
	if req.OldSize != known.size {
		if cp.Size < known.size {
			// A smaller tree than the one cosigned, not itself cosigned
			// before: the log went back.
			root, err := witnessedRoot(ctx, w.db, cp.Origin, cp.Size)
			switch {
			case errors.Is(err, errs.ErrNotFound) || (err == nil && !bytes.Equal(root, cp.Root)):
				if err := w.keepConflict(ctx, known.note, cp.Note, fmt.Sprintf("the log went back from %d to %d events: it was rewound", known.size, cp.Size)); err != nil {
					return nil, err
				}
			case err != nil:
				return nil, err
			}
		}
		return nil, stale()
	}
	if known.size > 0 && cp.Size == known.size {
		if !bytes.Equal(cp.Root, known.root) {
			if err := w.keepConflict(ctx, known.note, cp.Note, fmt.Sprintf("two different roots at size %d: the log's history was rewritten", cp.Size)); err != nil {
				return nil, err
			}
			return nil, stale()
		}
		return w.cosign(ctx, cp, false)
	}
	if known.size == 0 {
		if len(req.Proof) != 0 {
			return nil, witnessRefusal(http.StatusUnprocessableEntity, "the proof must be empty when the old size is zero")
		}
		return w.cosign(ctx, cp, true)
	}
	if err := VerifyConsistency(known.size, cp.Size, req.Proof, known.root, cp.Root); err != nil {
		if err := w.keepConflict(ctx, known.note, cp.Note, fmt.Sprintf("no proof shows the tree of size %d extends the one of size %d: the log's history may have been rewritten", cp.Size, known.size)); err != nil {
			return nil, err
		}
		return nil, witnessRefusal(http.StatusUnprocessableEntity, "the consistency proof from %d to %d does not verify", known.size, cp.Size)
	}
	return w.cosign(ctx, cp, true)
}

// keepConflict stores the evidence of two signed, inconsistent views of
// the log and tells the OnConflict hook. w.mu must be held.
func (w *Witness) keepConflict(ctx context.Context, known, offered []byte, problem string) error {
	c := Conflict{Origin: w.log.Name(), Known: known, Offered: offered, Problem: problem, Found: w.now().UTC()}
	if err := insertConflict(ctx, w.db, c); err != nil {
		return err
	}
	if w.onConflict != nil {
		w.onConflict(ctx, c)
	}
	return nil
}

// cosign countersigns cp, stores it if store, and returns the witness's
// cosignature line. w.mu must be held.
func (w *Witness) cosign(ctx context.Context, cp Checkpoint, store bool) ([]byte, error) {
	if store {
		var err error
		if cp, err = w.accept(ctx, cp); err != nil {
			return nil, err
		}
	} else {
		n, err := note.Open(cp.Note, note.VerifierList(w.log))
		if err != nil {
			return nil, fmt.Errorf("audit: witness %s: %w", cp.Origin, err)
		}
		if cp.Note, err = note.Sign(n, w.cosigner); err != nil {
			return nil, fmt.Errorf("audit: witness %s: cosign: %w", cp.Origin, err)
		}
	}
	line := signatureLine(cp.Note, w.cosigner.Name(), w.cosigner.KeyHash())
	if line == nil {
		return nil, fmt.Errorf("audit: witness %s: the cosigned note has no signature by %s", cp.Origin, w.cosigner.Name())
	}
	return line, nil
}

// signatureLine returns the signature line ("— name base64\n") of the
// key name/hash in signed, or nil.
func signatureLine(signed []byte, name string, hash uint32) []byte {
	_, sigs, ok := bytes.Cut(signed, []byte("\n\n"))
	if !ok {
		return nil
	}
	prefix := "— " + name + " "
	for l := range strings.Lines(string(sigs)) {
		b64, ok := strings.CutPrefix(l, prefix)
		if !ok {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(b64, "\n"))
		if err == nil && len(raw) >= 4 && uint32(raw[0])<<24|uint32(raw[1])<<16|uint32(raw[2])<<8|uint32(raw[3]) == hash {
			return []byte(strings.TrimSuffix(l, "\n") + "\n")
		}
	}
	return nil
}

// WitnessResolver returns this node's witness of the log named origin,
// or an error wrapping errs.ErrNotFound if it witnesses no such log.
type WitnessResolver func(ctx context.Context, origin string) (*Witness, error)

// Resolver returns the resolver of w alone.
func (w *Witness) Resolver() WitnessResolver {
	return func(_ context.Context, origin string) (*Witness, error) {
		if origin != w.log.Name() {
			return nil, fmt.Errorf("%w: no witness of %.80q here", errs.ErrNotFound, origin)
		}
		return w, nil
	}
}

// AnswerAddCheckpoint answers an add-checkpoint request body, however it
// came (over HTTP, through the exchange): the witness resolve finds for
// the checkpoint's origin checks it, once authz lets the peer node that
// signed it present it. A refusal is a *WitnessError.
func AnswerAddCheckpoint(ctx context.Context, resolve WitnessResolver, body []byte) ([]byte, error) {
	req, err := ParseAddCheckpointRequest(body)
	if err != nil {
		return nil, witnessRefusal(http.StatusBadRequest, "%s", strings.TrimPrefix(err.Error(), errs.ErrInvalid.Error()+": "))
	}
	origin, _, _ := strings.Cut(string(req.Checkpoint), "\n")
	w, err := resolve(ctx, origin)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return nil, witnessRefusal(http.StatusNotFound, "this witness does not witness the log %.80q", origin)
	case err != nil:
		return nil, err
	}
	caller, err := w.Caller(req.Checkpoint)
	if err != nil {
		return nil, err
	}
	if d, reason := authz.Decide(caller, authz.Create, authz.Resource{Kind: authz.KindCheckpoint}); d != authz.Allowed {
		return nil, witnessRefusal(http.StatusForbidden, "%s", reason)
	}
	return w.AddCheckpoint(ctx, req)
}

// WitnessHandler serves this node's witnesses over HTTP as
// c2sp.org/tlog-witness describes: POST <prefix>/add-checkpoint.
type WitnessHandler struct{ resolve WitnessResolver }

// NewWitnessHandler returns the HTTP face of the witnesses resolve finds.
func NewWitnessHandler(resolve WitnessResolver) *WitnessHandler {
	return &WitnessHandler{resolve: resolve}
}

// WitnessPrefix is the witness's submission prefix on every node.
const WitnessPrefix = "/api/v1/audit/witness"

// Register adds POST WitnessPrefix/add-checkpoint to rt. The route is
// public at the router: the protocol's caller has no session, and is
// known by the key that signed the checkpoint it presents (see Caller);
// authz decides what that peer node may do (nodeGrants).
func (h *WitnessHandler) Register(rt *web.Router) {
	rt.HandleFunc("POST "+WitnessPrefix+"/add-checkpoint", web.Public, h.addCheckpoint)
}

func (h *WitnessHandler) addCheckpoint(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAddCheckpointBody))
	if err != nil {
		web.Error(w, r, fmt.Errorf("%w: the request is larger than %d bytes", errs.ErrTooLarge, maxAddCheckpointBody))
		return
	}
	line, err := AnswerAddCheckpoint(r.Context(), h.resolve, body)
	var refusal *WitnessError
	switch {
	case errors.As(err, &refusal) && refusal.Status == http.StatusConflict:
		w.Header().Set("Content-Type", "text/x.tlog.size")
		w.WriteHeader(http.StatusConflict)
		fmt.Fprintf(w, "%d\n", refusal.Known)
	case errors.As(err, &refusal):
		web.Problem(w, r, web.ProblemDetails{Status: refusal.Status, Detail: web.Clip(refusal.Message)})
	case err != nil:
		web.Error(w, r, err)
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(line) //nolint:errcheck // the log went away
	}
}

// readSize parses a 409's body: the witness's known size.
func readSize(body io.Reader) (uint64, error) {
	l, err := bufio.NewReader(io.LimitReader(body, 64)).ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("audit: a 409 from a witness without its size: %w", err)
	}
	return strconv.ParseUint(strings.TrimSuffix(l, "\n"), 10, 64)
}
