package exchange

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"chancery/internal/authz"
	"chancery/internal/store"
)

// The SQL of the message log's writes: exchange_log and exchange_batches.
// msglog.go decides what is written and when; this file says how.

// logColumns are the columns a log row fills, in the order of
// logRow.args.
const logColumns = `msg_id, direction, type, peer, sender, recipient, service, level, content_type, size,
	msg_time_us, logged_us, digest, state, reason, batch_id, batch_index, body, acked_us, log_batch, receipt`

// logColumnCount is the number of logColumns.
const logColumnCount = 21

// Log rows are inserted many to a statement, in statements of a power of
// two rows up to logRowsPerInsert, each prepared once: a group of any
// size takes at most a few statements, and the node keeps at most
// logInsertSizes of them. logRowsPerInsert rows of logColumnCount values
// stay far below SQLite's 32766 and PostgreSQL's 65535 parameters.
const (
	logRowsPerInsert = 256
	logInsertSizes   = 9 // 1, 2, 4, … 256
)

// logRow is one exchange_log row.
type logRow struct {
	msgID, direction, peer, sender, recipient, service, contentType, state, reason string
	typ                                                                            EnvelopeType
	level                                                                          int64
	size                                                                           int
	msgTime, logged                                                                int64 // microseconds
	digest, body                                                                   []byte
	// batchID and batchIndex place a received message in the batch its
	// sender signed; nil for the others.
	batchID    []byte
	batchIndex int64
	// acked marks a message handed over at once (the answer to a call),
	// which no inbox holds.
	acked bool
	// logBatch is the log batch that signs the row, when it is signed in
	// the transaction that inserts it; nil for SignLog to sign it.
	logBatch []byte
	// receipt: the message asked for a receipt (Header.Receipt).
	receipt bool
}

// envelopeRow makes e's row, with its sealed body, logged at logged.
func envelopeRow(direction, peer string, e *Envelope, digest, body []byte, state, reason string, logged time.Time) logRow {
	return logRow{
		msgID: e.ID, direction: direction, peer: peer, sender: e.Sender.String(), recipient: e.Recipient.String(),
		service: e.Service.String(), contentType: e.ContentType, state: state, reason: reason, typ: e.Type, level: int64(e.Level),
		size: len(e.Payload), msgTime: e.Time.UnixMicro(), logged: logged.UnixMicro(), digest: digest, body: body, receipt: e.Receipt,
	}
}

// args appends the row's values in the order of logColumns.
func (r *logRow) args(dst []any) []any {
	var acked, batchID, batchIndex, logBatch any
	receipt := int64(0)
	if r.receipt {
		receipt = 1
	}
	if r.acked {
		acked = r.logged
	}
	if r.batchID != nil {
		batchID, batchIndex = r.batchID, r.batchIndex
	}
	if r.logBatch != nil {
		logBatch = r.logBatch
	}
	return append(dst, r.msgID, r.direction, int64(r.typ), r.peer, r.sender, r.recipient, r.service,
		r.level, r.contentType, int64(r.size), r.msgTime, r.logged, r.digest, r.state, r.reason, batchID, batchIndex, r.body, acked, logBatch, receipt)
}

// logSQL holds the node's prepared log statements.
type logSQL struct {
	db      *store.DB
	mu      sync.Mutex
	inserts [logInsertSizes]*sql.Stmt // of 1<<i rows; guarded by mu
	// stmts are the other statements of the busy paths, by text: parsing
	// a statement costs SQLite as much as running it, so each is
	// prepared once, and a statement taking a list of values takes a
	// power of two of them (padded, see padded), so that there are few.
	stmts map[string]*sql.Stmt // guarded by mu
}

func newLogSQL(db *store.DB) *logSQL { return &logSQL{db: db, stmts: map[string]*sql.Stmt{}} }

// stmt returns the statement text (in the ? style) prepared, preparing
// it on first use.
func (q *logSQL) stmt(ctx context.Context, text string) (*sql.Stmt, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if s := q.stmts[text]; s != nil {
		return s, nil
	}
	s, err := q.db.PrepareContext(ctx, q.db.Rebind(text))
	if err != nil {
		return nil, fmt.Errorf("exchange: prepare a message log statement: %w", err)
	}
	q.stmts[text] = s
	return s, nil
}

// padded returns the least power of two that is at least k: the number
// of values a list statement for k values takes, the rest padded with
// values that match no row.
func padded(k int) int {
	p := 1
	for p < k {
		p <<= 1
	}
	return p
}

// insert returns the prepared insert of 1<<i rows, preparing it on first
// use. A row whose key the log holds is skipped; the statement returns
// the seq and key of each row it inserted.
func (q *logSQL) insert(ctx context.Context, i int) (*sql.Stmt, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if s := q.inserts[i]; s != nil {
		return s, nil
	}
	k := 1 << i
	tuple := "(" + strings.Repeat("?, ", logColumnCount-1) + "?)"
	text := `INSERT INTO exchange_log (` + logColumns + `) VALUES ` + strings.Repeat(tuple+", ", k-1) + tuple +
		` ON CONFLICT (direction, type, msg_id) DO NOTHING RETURNING seq, direction, type, msg_id`
	s, err := q.db.PrepareContext(ctx, q.db.Rebind(text))
	if err != nil {
		return nil, fmt.Errorf("exchange: prepare a message log statement: %w", err)
	}
	q.inserts[i] = s
	return s, nil
}

// logKey is a log row's unique key.
type logKey struct {
	direction string
	typ       EnvelopeType
	msgID     string
}

func (r *logRow) key() logKey { return logKey{r.direction, r.typ, r.msgID} }

// insertRows inserts rows and returns the seq of each row inserted, by
// key; keys already logged are not in it, and of two rows with one key
// only the first is inserted.
func (q *logSQL) insertRows(ctx context.Context, tx *store.Tx, rows []logRow) (map[logKey]int64, error) {
	seqs := make(map[logKey]int64, len(rows))
	args := make([]any, 0, min(len(rows), logRowsPerInsert)*logColumnCount)
	for len(rows) > 0 {
		i := logInsertSizes - 1
		for 1<<i > len(rows) {
			i--
		}
		part := rows[:1<<i]
		rows = rows[1<<i:]
		stmt, err := q.insert(ctx, i)
		if err != nil {
			return nil, err
		}
		args = args[:0]
		for j := range part {
			args = part[j].args(args)
		}
		rs, err := tx.StmtContext(ctx, stmt).QueryContext(ctx, args...)
		if err != nil {
			return nil, err
		}
		if err := scanSeqs(rs, seqs); err != nil {
			return nil, err
		}
	}
	return seqs, nil
}

// scanSeqs reads the (seq, direction, type, msg_id) rows of an insert
// into seqs.
func scanSeqs(rows *sql.Rows, seqs map[logKey]int64) error {
	defer rows.Close()
	for rows.Next() {
		var (
			seq, typ int64
			k        logKey
		)
		if err := rows.Scan(&seq, &k.direction, &typ, &k.msgID); err != nil {
			return err
		}
		k.typ = EnvelopeType(typ)
		seqs[k] = seq
	}
	return rows.Err()
}

// insertBatch records a signed batch with its digests, once: when a node
// sends to itself, its sending and receiving sides record the same batch,
// in whichever order they commit.
func insertBatch(ctx context.Context, q store.Queryer, id [16]byte, direction, peer, signer, keyID string, root, sig []byte, digests [][]byte, at time.Time) error {
	all := make([]byte, 0, 32*len(digests))
	for _, d := range digests {
		all = append(all, d...)
	}
	_, err := q.ExecContext(ctx, q.Rebind(`INSERT INTO exchange_batches (batch_id, direction, peer, signer, key_id, root, signature, digests, created_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (batch_id) DO NOTHING`), id[:], direction, peer, signer, keyID, root, sig, all, at.UnixMicro())
	if err != nil {
		return fmt.Errorf("exchange: record batch %x: %w", id, err)
	}
	return nil
}

// priorBatch returns the batch an earlier copy of a received message
// came in.
func priorBatch(ctx context.Context, tx *store.Tx, typ EnvelopeType, msgID string) ([]byte, error) {
	var prior []byte
	err := tx.QueryRowContext(ctx, tx.Rebind(`SELECT batch_id FROM exchange_log WHERE direction = 'in' AND type = ? AND msg_id = ?`),
		int64(typ), msgID).Scan(&prior)
	return prior, err
}

// markSentTx marks the rows of seqs sent in batch id, each with its index
// in seqs, in one statement; with logBatch, it also gives the rows not
// signed yet that log batch (see markSent).
func (q *logSQL) markSentTx(ctx context.Context, tx *store.Tx, id, logBatch []byte, seqs []int64) error {
	k := padded(len(seqs))
	args := make([]any, 0, 2*k+2)
	for i, seq := range seqs {
		args = append(args, seq, i)
	}
	for range k - len(seqs) {
		args = append(args, -1, 0) // no row has seq -1
	}
	args = append(args, id, logBatch)
	stmt, err := q.stmt(ctx, `WITH v (s, i) AS (VALUES `+strings.Repeat("(CAST(? AS BIGINT), CAST(? AS BIGINT)), ", k-1)+`(CAST(? AS BIGINT), CAST(? AS BIGINT)))
		UPDATE exchange_log SET state = 'sent', batch_id = ?, batch_index = v.i, log_batch = COALESCE(log_batch, ?)
		FROM v WHERE exchange_log.seq = v.s AND exchange_log.state = 'pending'`)
	if err != nil {
		return err
	}
	_, err = tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
	return err
}

// failRowTx marks a pending row failed, with the reason.
func failRowTx(ctx context.Context, tx *store.Tx, seq int64, reason string) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE exchange_log SET state = 'failed', reason = ? WHERE seq = ? AND state = 'pending'`), reason, seq)
	return err
}

// unsignedTx reads the seq and digest of the oldest unsigned rows, at
// most limit.
func unsignedTx(ctx context.Context, tx *store.Tx, limit int) (seqs []int64, digests [][]byte, err error) {
	rows, err := tx.QueryContext(ctx, tx.Rebind(`SELECT seq, digest FROM exchange_log WHERE log_batch IS NULL ORDER BY seq LIMIT ?`), limit)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seq int64
			d   []byte
		)
		if err := rows.Scan(&seq, &d); err != nil {
			return nil, nil, err
		}
		seqs, digests = append(seqs, seq), append(digests, d)
	}
	return seqs, digests, rows.Err()
}

// markSignedTx marks exactly the rows of seqs, which unsignedTx read in
// tx, signed in log batch id. On SQLite the transaction has held the only
// write lock since before the read, so they are the unsigned rows of the
// range first..last, which one short statement marks; on PostgreSQL a row
// with a seq inside the range can commit after the read, and it is not in
// the batch.
func markSignedTx(ctx context.Context, tx *store.Tx, id []byte, seqs []int64) error {
	q, args := `UPDATE exchange_log SET log_batch = ? WHERE seq BETWEEN ? AND ? AND log_batch IS NULL`, []any{id, seqs[0], seqs[len(seqs)-1]}
	if tx.Dialect != store.SQLite {
		args = make([]any, 0, len(seqs)+1)
		args = append(args, id)
		for _, seq := range seqs {
			args = append(args, seq)
		}
		q = `UPDATE exchange_log SET log_batch = ? WHERE seq IN (?` + strings.Repeat(", ?", len(seqs)-1) + `)`
	}
	_, err := tx.ExecContext(ctx, tx.Rebind(q), args...)
	return err
}

// ackTx marks the delivered, unacknowledged messages of recipient with
// the given ids acknowledged at us, and returns how many it marked.
func (q *logSQL) ackTx(ctx context.Context, tx *store.Tx, recipient string, us int64, ids []string) (int64, error) {
	k := padded(len(ids))
	args := make([]any, 0, k+2)
	args = append(args, us, recipient)
	for _, id := range ids {
		args = append(args, id)
	}
	for range k - len(ids) {
		args = append(args, "") // no message has an empty id
	}
	stmt, err := q.stmt(ctx, `UPDATE exchange_log SET acked_us = ? WHERE recipient = ? AND direction = 'in' AND type = 1 AND state = 'delivered' AND acked_us IS NULL
		AND msg_id IN (?`+strings.Repeat(", ?", k-1)+`)`)
	if err != nil {
		return 0, err
	}
	res, err := tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// inbox reads up to limit unacknowledged messages delivered to recipient
// after seq after.
func (q *logSQL) inbox(ctx context.Context, recipient string, after int64, limit int) (*sql.Rows, error) {
	stmt, err := q.stmt(ctx, `SELECT seq, msg_id, sender, service, level, content_type, msg_time_us, body FROM exchange_log
		WHERE recipient = ? AND direction = 'in' AND state = 'delivered' AND acked_us IS NULL AND seq > ? ORDER BY seq LIMIT ?`)
	if err != nil {
		return nil, err
	}
	return stmt.QueryContext(ctx, recipient, after, limit)
}

// markDeadTx moves a delivered, unacknowledged message of recipient to
// the dead letters, with the recipient's answer, and reports whether it
// was still there.
func markDeadTx(ctx context.Context, tx *store.Tx, msgID, recipient, answer string, at int64) (bool, error) {
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE exchange_log SET state = 'dead', dead_us = ?, reason = ?
		WHERE direction = 'in' AND type = 1 AND msg_id = ? AND recipient = ? AND state = 'delivered' AND acked_us IS NULL`),
		at, answer, msgID, recipient)
	if err != nil {
		return false, err
	}
	k, _ := res.RowsAffected()
	return k > 0, nil
}

// settleDeadTx gives a dead letter its new state (delivered again, or
// discarded), and reports whether it was still a dead letter.
func settleDeadTx(ctx context.Context, tx *store.Tx, msgID, state string, dead sql.NullInt64, reason string) (bool, error) {
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE exchange_log SET state = ?, dead_us = ?, reason = ?
		WHERE direction = 'in' AND type = 1 AND msg_id = ? AND state = 'dead'`), state, dead, reason, msgID)
	if err != nil {
		return false, err
	}
	k, _ := res.RowsAffected()
	return k > 0, nil
}

// eraseBodies erases the bodies of rows logged before us.
func eraseBodies(ctx context.Context, db *store.DB, us int64) (int64, error) {
	res, err := db.ExecContext(ctx, db.Rebind(`UPDATE exchange_log SET body = NULL WHERE body IS NOT NULL AND logged_us < ?`), us)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// receiptCopy is what a receipt is checked against: the copy's row.
type receiptCopy struct {
	sender, recipient string
	digest            []byte
}

// copyForReceiptTx reads the outgoing copy msgID that asked for a
// receipt; nil when there is none.
func copyForReceiptTx(ctx context.Context, tx *store.Tx, msgID string) (*receiptCopy, error) {
	c := &receiptCopy{}
	err := tx.QueryRowContext(ctx, tx.Rebind(`SELECT sender, recipient, digest FROM exchange_log
		WHERE direction = 'out' AND type = 1 AND msg_id = ? AND receipt = 1`), msgID).Scan(&c.sender, &c.recipient, &c.digest)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return c, err
}

// applyReceiptTx keeps rc as its copy's latest receipt, unless the copy
// holds one as recent, and reports whether it did. The reason, which
// another node wrote, is kept printable for the pages and the API; the
// receipt itself is kept as signed.
func applyReceiptTx(ctx context.Context, tx *store.Tx, rc *Receipt) (bool, error) {
	us := rc.Time.UnixMicro()
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE exchange_circular_recipients SET outcome = ?, outcome_us = ?, reason = ?, receipt = ?
		WHERE msg_id = ? AND recipient = ? AND (outcome_us IS NULL OR outcome_us < ?)`),
		rc.Outcome, us, printable(rc.Reason, 1000), rc.encode(), rc.Copy, rc.From.String(), us)
	if err != nil {
		return false, err
	}
	k, err := res.RowsAffected()
	return k > 0, err
}

// receiptSourceTx reads the incoming message msgID as the copy a receipt
// acknowledges, and the node it came from; nil when it asked for no
// receipt.
func receiptSourceTx(ctx context.Context, tx *store.Tx, msgID string) (*Envelope, []byte, string, error) {
	var (
		sender, recipient, service, peer string
		level                            int64
		digest                           []byte
	)
	err := tx.QueryRowContext(ctx, tx.Rebind(`SELECT sender, recipient, service, level, digest, peer FROM exchange_log
		WHERE direction = 'in' AND type = 1 AND msg_id = ? AND receipt = 1`), msgID).Scan(&sender, &recipient, &service, &level, &digest, &peer)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, "", nil
	}
	if err != nil {
		return nil, nil, "", err
	}
	e := &Envelope{Header: Header{ID: msgID, Type: TypeMessage, Level: authz.Level(level), Receipt: true}}
	if e.Sender, err = ParseClientID(sender); err == nil {
		if e.Recipient, err = ParseClientID(recipient); err == nil {
			e.Service, err = ParseServiceID(service)
		}
	}
	if err != nil {
		return nil, nil, "", fmt.Errorf("message %s has a malformed id in the log: %w", msgID, err)
	}
	return e, digest, peer, nil
}
