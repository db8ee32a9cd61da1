-- +goose Up
-- The exchange node (internal/exchange): this node's identity, the API
-- tokens of the information systems it serves, and the message log, which
-- is also the outbox and the inbox. Times are microseconds since the Unix
-- epoch (UTC), as in the audit ledger, because some are covered by digests.

-- This node: its id and role, its private hybrid encryption key sealed by
-- the keyring, the headquarters key it trusts (its trust anchor), where
-- headquarters is, and the latest signed global configuration it holds.
CREATE TABLE exchange_node (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    node_id     TEXT NOT NULL,
    role        TEXT NOT NULL,          -- hq | mission
    kem_sealed  BLOB NOT NULL,
    anchor      BLOB NOT NULL,            -- Ed25519 public key of headquarters
    hq_url      TEXT NOT NULL,          -- empty at headquarters
    leaf_urls   TEXT NOT NULL,          -- comma-separated, empty at headquarters
    conf        BLOB,                     -- signed global configuration
    conf_serial INTEGER NOT NULL DEFAULT 0,
    updated_us  INTEGER NOT NULL
);

-- Bearer tokens of client subsystems on this node, stored as SHA-256.
CREATE TABLE exchange_tokens (
    token_hash  BLOB PRIMARY KEY,
    client      TEXT NOT NULL,          -- instance/class/member/subsystem
    label       TEXT NOT NULL,
    created_us  INTEGER NOT NULL,
    revoked_us  INTEGER
);
CREATE INDEX exchange_tokens_client ON exchange_tokens(client);

-- Webhooks: where this node pushes a client subsystem's inbox.
CREATE TABLE exchange_webhooks (
    client      TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    secret      BLOB NOT NULL,            -- sealed; HMAC key of the signature header
    created_us  INTEGER NOT NULL,
    failures    INTEGER NOT NULL DEFAULT 0,
    next_try_us INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT ''
);

-- Batches as signed by their sender: the sender's signature over the
-- Merkle root of the batch's envelope digests (concatenated, 32 bytes
-- each, in order), kept so that each message has a proof of origin.
-- direction 'log' marks this node's own signed batches of log entries.
CREATE TABLE exchange_batches (
    batch_id    BLOB PRIMARY KEY,
    direction   TEXT NOT NULL,          -- out | in | log
    peer        TEXT NOT NULL,          -- the other node ('' for log)
    signer      TEXT NOT NULL,          -- node id of the signer
    key_id      TEXT NOT NULL,
    root        BLOB NOT NULL,
    signature   BLOB NOT NULL,
    digests     BLOB NOT NULL,
    created_us  INTEGER NOT NULL,
    audit_id    INTEGER                      -- provisional id of the ledger event
);

-- The message log. One row per envelope this node sent or received, in
-- either type (message, request, response). An outgoing message is
-- 'pending' until its batch is published, then 'sent'; an incoming one is
-- 'delivered' (in the recipient's inbox until acknowledged) or 'refused'.
-- body is the payload sealed by the keyring, erased after the retention;
-- digest stays, so proofs stay valid.
CREATE TABLE exchange_log (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    msg_id       TEXT NOT NULL,
    direction    TEXT NOT NULL,         -- out | in
    type         INTEGER NOT NULL,           -- exchange.EnvelopeType
    peer         TEXT NOT NULL,         -- the other node
    sender       TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    service      TEXT NOT NULL,
    level        INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    msg_time_us  INTEGER NOT NULL,
    logged_us    INTEGER NOT NULL,
    digest       BLOB NOT NULL,
    state        TEXT NOT NULL,         -- pending | sent | delivered | refused | answered | failed
    reason       TEXT NOT NULL DEFAULT '',
    batch_id     BLOB,                    -- the sender's batch, for async messages
    batch_index  INTEGER,
    log_batch    BLOB,                    -- this node's signed log batch, once signed
    body         BLOB,                    -- sealed payload; NULL once erased
    acked_us     INTEGER
);
-- Exactly once: an id is taken once per direction and type.
CREATE UNIQUE INDEX exchange_log_msg ON exchange_log(direction, type, msg_id);
CREATE INDEX exchange_log_inbox ON exchange_log(recipient, seq) WHERE direction = 'in' AND state = 'delivered' AND acked_us IS NULL;
CREATE INDEX exchange_log_pending ON exchange_log(peer, seq) WHERE state = 'pending';
CREATE INDEX exchange_log_unsigned ON exchange_log(seq) WHERE log_batch IS NULL;
CREATE INDEX exchange_log_retention ON exchange_log(logged_us) WHERE body IS NOT NULL;

-- +goose Down
DROP TABLE exchange_log;
DROP TABLE exchange_batches;
DROP TABLE exchange_webhooks;
DROP TABLE exchange_tokens;
DROP TABLE exchange_node;
