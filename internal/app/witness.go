package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/exchange"
	"chancery/internal/exchange/registry"
	"chancery/internal/web"
)

// Missions witness headquarters' ledger (c2sp.org/tlog-witness). Every
// node serves the protocol's add-checkpoint at audit.WitnessPrefix and
// witnesses headquarters' log, whose key it knows from the signed global
// configuration. Headquarters reaches its missions only through the
// exchange (it knows no mission's web address), so it pushes its
// checkpoints there: each request is an asynchronous message from its
// subsystem "witness" to the mission's service witness/checkpoints/v1,
// answered by a message back to headquarters' witness/cosignatures/v1.
// A mission whose link is cut gets one request at a time, not a queue of
// them. Headquarters serves each checkpoint with the cosignatures it got.

const (
	witnessSubsystem    = "witness"
	witnessCheckpoints  = "checkpoints"
	witnessCosignatures = "cosignatures"
	witnessVersion      = "v1"
	witnessRequestType  = "text/x.tlog.add-checkpoint"
	witnessAnswerType   = "text/x.tlog.add-checkpoint-answer"
	// witnessWait is how long a push waits for a mission's answer; an
	// unanswered request stays the mission's only one until witnessRetry,
	// when another is sent (the first may have been refused by a mission
	// whose configuration did not list the service yet): a mission cut
	// off for an hour finds about sixty small requests when it returns,
	// and answers them all.
	witnessWait  = 20 * time.Second
	witnessRetry = time.Minute
	// witnessEvery is how often the witness inbox is read when no
	// arrival at this process woke the reader and no answer is awaited.
	witnessEvery = 10 * time.Second
)

func witnessClient(member string) exchange.ClientID {
	return exchange.ClientID{Instance: exchange.DefaultInstance, Class: exchange.ClassGOV, Member: member, Subsystem: witnessSubsystem}
}

// witnessName is the cosigner name of node's witness; its key is the
// node's signing key, as the global configuration lists it.
func witnessName(node string) string { return "chancery/witness/" + node }

// witnessActor names the system in the events of witnessing.
var witnessActor = audit.Origin{Actor: audit.System("witness")}

// witnesses holds this node's witnesses of headquarters' ledger, one per
// origin and key, and headquarters' requests waiting for an answer.
type witnesses struct {
	a  *App
	mu sync.Mutex
	// byLog caches a witness per origin and key: its lock is what makes
	// checking and storing one step.
	byLog map[string]*audit.Witness
	// waiting is headquarters' unanswered request to each mission node.
	waiting map[string]*witnessRequest
	// pushing is set while a push runs, so pushes do not pile up.
	pushing atomic.Bool
}

type witnessRequest struct {
	size   uint64
	sent   time.Time
	answer chan []byte
}

// witnessRoutes adds the witness's add-checkpoint route.
func (a *App) witnessRoutes(rt *web.Router) {
	audit.NewWitnessHandler(a.witnesses().resolve).Register(rt)
}

func (a *App) witnesses() *witnesses {
	a.witnessOnce.Do(func() {
		a.witness = &witnesses{a: a, byLog: map[string]*audit.Witness{}, waiting: map[string]*witnessRequest{}}
	})
	return a.witness
}

// resolve returns the witness of headquarters' log named origin. Only
// headquarters' ledger is witnessed, under its node's signing key in the
// global configuration (which headquarters signs); a node witnesses no
// log before it holds a configuration, nor its own.
func (ws *witnesses) resolve(ctx context.Context, origin string) (*audit.Witness, error) {
	conf, err := ws.a.Node.Conf()
	if err != nil {
		return nil, fmt.Errorf("%w: no global configuration yet", errs.ErrNotFound)
	}
	hq, ok := conf.Node(conf.HQ)
	if !ok || conf.HQ == ws.a.Node.ID() {
		return nil, fmt.Errorf("%w: headquarters witnesses no log", errs.ErrNotFound)
	}
	key := origin + "+" + hq.SigningKeyID
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if w, ok := ws.byLog[key]; ok {
		return w, nil
	}
	log, err := audit.NewNoteVerifier(origin, hq.SigningKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errs.ErrNotFound, err)
	}
	cosigner, err := audit.NewCosigner(witnessName(ws.a.Node.ID()), ws.a.Keys.Signer(), nil)
	if err != nil {
		return nil, err
	}
	w, err := audit.NewWitness(ws.a.DB, audit.WitnessOptions{Log: log, Cosigner: cosigner, OnConflict: func(ctx context.Context, c audit.Conflict) {
		ws.record(ctx, c.Event(witnessName(ws.a.Node.ID())))
	}})
	if err != nil {
		return nil, err
	}
	ws.byLog[key] = w
	return w, nil
}

// record writes an inconsistency to the ledger, where Sentinel's watcher
// raises its alert (and a mission forwards it to headquarters).
func (ws *witnesses) record(ctx context.Context, e audit.Event) {
	ctx = audit.WithOrigin(context.WithoutCancel(ctx), witnessActor)
	if _, err := ws.a.Audit.Append(ctx, e); err != nil {
		ws.a.log.Error("witness: record an inconsistency of the ledger", "err", err, "problem", e.Reason)
	}
	ws.a.log.Error("witness: the audit ledger and a witness disagree", "checkpoint", e.ResourceID, "witness", e.Attrs["witness"], "problem", e.Reason)
}

// runWitness starts, at headquarters, the push of each new checkpoint to
// the missions and the intake of their answers (runProvisioning registers
// the exchange's witness services); at a mission, the answering of
// headquarters' requests.
func (a *App) runWitness(spawn func(func(context.Context))) {
	ws := a.witnesses()
	// One replica of headquarters pushes and reads the answers: the others
	// would only race it to the witnesses' 409.
	spawn(a.onOne("audit.witness", func(ctx context.Context) {
		ctx = audit.WithOrigin(ctx, witnessActor)
		// Headquarters looks for a new checkpoint every second, and
		// pushes each at once, so the one served is cosigned within the
		// exchange's round trip; a mission only answers.
		var check <-chan time.Time
		if a.Node.Role() == exchange.RoleHQ {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			check = t.C
		}
		slow := time.NewTicker(witnessEvery)
		defer slow.Stop()
		var pushed uint64
		read := true
		for {
			// Taken before the read, so what commits during it wakes the next.
			arrived := a.Node.Arrived()
			// The inbox is read when something may be in it: an arrival
			// here, an answer awaited (another replica may have received
			// it), or the slow tick.
			if read || ws.awaiting() {
				if err := ws.takeMessages(ctx); err != nil && ctx.Err() == nil {
					a.log.Warn("witness: read the witness inbox (retried)", "err", err)
				}
			}
			if check != nil {
				if cp, err := a.Audit.LatestCheckpoint(ctx); err == nil && cp.Size != pushed && !ws.pushing.Load() {
					pushed = cp.Size
					go ws.push(ctx)
				}
			}
			read = false
			select {
			case <-ctx.Done():
				return
			case <-check:
			case <-slow.C:
				read = true
			case <-arrived:
				read = true
			}
		}
	}))
}

// awaiting reports whether a push waits for a mission's answer.
func (ws *witnesses) awaiting() bool {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return len(ws.waiting) > 0
}

// witnessProvision is witnessing's part of a node's provisioning
// (provisionPlan): member's witness subsystem; at headquarters, its
// cosignatures service; for a mission, its checkpoints service and the
// rights to send to both.
func witnessProvision(hq, member string, mission bool) registry.Plan {
	const description = "Nhân chứng (c2sp.org/tlog-witness): điểm kiểm tra sổ nhật ký kiểm toán của trụ sở và chữ ký đồng xác nhận."
	p := registry.Plan{Subsystems: []registry.NewSubsystem{backgroundSubsystem(member, witnessSubsystem, "Nhân chứng sổ nhật ký kiểm toán", authz.Confidential)}}
	answers := exchange.ServiceID{ClientID: witnessClient(hq), Service: witnessCosignatures, Version: witnessVersion}
	if !mission {
		p.Services = []registry.NewService{asyncService(answers, "Nhận chữ ký đồng xác nhận của các cơ quan đại diện", description)}
		return p
	}
	requests := exchange.ServiceID{ClientID: witnessClient(member), Service: witnessCheckpoints, Version: witnessVersion}
	p.Services = []registry.NewService{asyncService(requests, "Chứng kiến điểm kiểm tra sổ nhật ký của trụ sở", description)}
	p.Rights = []exchange.Right{{Service: requests, Client: witnessClient(hq)}, {Service: answers, Client: witnessClient(member)}}
	return p
}

// members returns headquarters' member and this node's, empty when the
// configuration names none yet.
func (ws *witnesses) members() (*exchange.GlobalConf, string, string) {
	conf, err := ws.a.Node.Conf()
	if err != nil {
		return nil, "", ""
	}
	hq, self := sentinelMembers(conf, ws.a.Node.ID())
	return conf, hq, self
}

// takeMessages handles what arrived on this node's witness subsystem: at
// a mission, headquarters' requests, each answered by a message back; at
// headquarters, the missions' answers, handed to the push waiting for
// them. Each is acknowledged once handled.
func (ws *witnesses) takeMessages(ctx context.Context) error {
	conf, hq, self := ws.members()
	if self == "" || hq == "" {
		return nil
	}
	inbox := witnessClient(self)
	got, err := ws.a.Node.Inbox(ctx, inbox, 0, 100)
	if errors.Is(err, errs.ErrNotFound) {
		return nil // the subsystem is not registered yet
	}
	if err != nil {
		return err
	}
	for _, d := range got {
		from, _ := conf.NodeOf(d.Sender)
		if d.ContentType == witnessRequestType && ws.a.Node.Role() == exchange.RoleMission {
			answer := encodeWitnessAnswer(d.Payload, ws.answer(ctx, d.Payload))
			to := exchange.ServiceID{ClientID: witnessClient(hq), Service: witnessCosignatures, Version: witnessVersion}
			if _, err := ws.a.Node.Send(ctx, exchange.Outgoing{From: inbox, To: to, Level: authz.Unclassified, ContentType: witnessAnswerType, Payload: answer}); err != nil {
				return err
			}
		} else if d.ContentType == witnessAnswerType {
			ws.deliver(from, d.Payload)
		}
		if _, err := ws.a.Node.Ack(ctx, inbox, d.ID); err != nil {
			return err
		}
	}
	return nil
}

// answer answers one request as the HTTP route does.
func (ws *witnesses) answer(ctx context.Context, body []byte) error {
	line, err := audit.AnswerAddCheckpoint(ctx, ws.resolve, body)
	if err == nil {
		return &witnessLine{line}
	}
	return err
}

// witnessLine carries a cosignature line through answer's error result.
type witnessLine struct{ line []byte }

func (w *witnessLine) Error() string { return string(w.line) }

// encodeWitnessAnswer is a mission's answer to the request req: the size
// of the checkpoint it answers, the protocol's status and its body.
func encodeWitnessAnswer(req []byte, result error) []byte {
	size := uint64(0)
	if r, err := audit.ParseAddCheckpointRequest(req); err == nil {
		if lines := strings.SplitN(string(r.Checkpoint), "\n", 3); len(lines) > 1 {
			size, _ = strconv.ParseUint(lines[1], 10, 64)
		}
	}
	status, body := http.StatusInternalServerError, "the witness failed; see its log"
	var line *witnessLine
	var refusal *audit.WitnessError
	switch {
	case errors.As(result, &line):
		status, body = http.StatusOK, string(line.line)
	case errors.As(result, &refusal) && refusal.Status == http.StatusConflict:
		status, body = refusal.Status, strconv.FormatUint(refusal.Known, 10)+"\n"
	case errors.As(result, &refusal):
		status, body = refusal.Status, refusal.Message
	}
	return fmt.Appendf(nil, "size %d\nstatus %d\n%s", size, status, body)
}

// deliver hands a mission's answer to the push waiting for it; an answer
// nobody waits for any more is dropped (the next push starts from what
// the mission answers then).
func (ws *witnesses) deliver(node string, answer []byte) {
	var size uint64
	if _, err := fmt.Sscanf(string(answer), "size %d\n", &size); err != nil {
		return
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if r, ok := ws.waiting[node]; ok && r.size == size {
		delete(ws.waiting, node)
		r.answer <- answer
	}
}

// push asks every mission node to cosign the latest checkpoint, and
// serves it with their cosignatures.
func (ws *witnesses) push(ctx context.Context) {
	if !ws.pushing.CompareAndSwap(false, true) {
		return
	}
	defer ws.pushing.Store(false)
	conf, hq, _ := ws.members()
	if hq == "" {
		return
	}
	var peers []audit.WitnessPeer
	for _, n := range conf.Nodes {
		if _, revoked := conf.Revocation(n.ID); n.Role != exchange.RoleMission || n.Member == "" || revoked {
			continue
		}
		v, err := audit.NewCosignatureVerifier(witnessName(n.ID), n.SigningKey)
		if err != nil {
			continue
		}
		peers = append(peers, audit.WitnessPeer{Verifier: v, Client: exchangeWitness{ws: ws, node: n.ID, hq: hq, member: n.Member}})
	}
	if len(peers) == 0 {
		return
	}
	origin := ws.a.Audit.Origin()
	_, err := ws.a.Audit.Cosign(ctx, audit.CosignOptions{Peers: peers, OnRefusal: func(ctx context.Context, r audit.WitnessRefusal) {
		ws.record(ctx, r.Event(origin))
	}})
	switch {
	case err == nil || ctx.Err() != nil || errors.Is(err, errs.ErrNotFound):
	case errors.Is(err, errs.ErrUnavailable) && !errors.Is(err, errs.ErrConflict):
		ws.a.log.Info("witness: missions not reached this time (their links may be down)", "err", err)
	default:
		ws.a.log.Warn("witness: some missions did not cosign the latest checkpoint", "err", err)
	}
}

// exchangeWitness is a mission's witness reached through the exchange.
type exchangeWitness struct {
	ws               *witnesses
	node, hq, member string
}

// AddCheckpoint sends req to the mission and waits for its answer. While
// an earlier request is unanswered (the mission's link is cut), it sends
// nothing and says so, until witnessRetry has passed.
func (x exchangeWitness) AddCheckpoint(ctx context.Context, req audit.AddCheckpointRequest) ([]byte, error) {
	lines := strings.SplitN(string(req.Checkpoint), "\n", 3)
	size, _ := strconv.ParseUint(lines[min(1, len(lines)-1)], 10, 64)
	ws := x.ws
	ws.mu.Lock()
	if r, ok := ws.waiting[x.node]; ok && time.Since(r.sent) < witnessRetry {
		ws.mu.Unlock()
		return nil, fmt.Errorf("%w: still waiting for the answer to the request of %s", errs.ErrUnavailable, r.sent.UTC().Format(time.RFC3339))
	}
	r := &witnessRequest{size: size, sent: time.Now(), answer: make(chan []byte, 1)}
	ws.waiting[x.node] = r
	ws.mu.Unlock()
	to := exchange.ServiceID{ClientID: witnessClient(x.member), Service: witnessCheckpoints, Version: witnessVersion}
	if _, err := ws.a.Node.Send(ctx, exchange.Outgoing{From: witnessClient(x.hq), To: to, Level: authz.Unclassified,
		ContentType: witnessRequestType, Payload: req.Marshal()}); err != nil {
		ws.mu.Lock()
		delete(ws.waiting, x.node)
		ws.mu.Unlock()
		return nil, err
	}
	select {
	case answer := <-r.answer:
		return decodeWitnessAnswer(answer)
	case <-time.After(witnessWait):
		return nil, fmt.Errorf("%w: no answer within %s", errs.ErrUnavailable, witnessWait)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// decodeWitnessAnswer turns a mission's answer back into what an HTTP
// witness's would be.
func decodeWitnessAnswer(answer []byte) ([]byte, error) {
	_, rest, _ := bytes.Cut(answer, []byte("\n"))
	head, body, _ := bytes.Cut(rest, []byte("\n"))
	var status int
	if _, err := fmt.Sscanf(string(head), "status %d", &status); err != nil {
		return nil, fmt.Errorf("%w: a malformed answer from the witness", errs.ErrBadGateway)
	}
	switch status {
	case http.StatusOK:
		return body, nil
	case http.StatusConflict:
		known, err := strconv.ParseUint(strings.TrimSuffix(string(body), "\n"), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: a 409 from the witness without its size", errs.ErrBadGateway)
		}
		return nil, &audit.WitnessError{Status: status, Known: known, Message: "the witness's latest cosigned size is " + strconv.FormatUint(known, 10)}
	}
	return nil, &audit.WitnessError{Status: status, Message: string(body)}
}
