-- +goose Up
-- The audit ledger (internal/audit): an RFC 6962 Merkle log of events.
-- Times are microseconds since the Unix epoch (UTC) in integers, because
-- an event's time is part of the bytes its leaf hash covers and must read
-- back exactly, on both dialects.

-- Events. id is provisional, given at insert; seq is the leaf index, given
-- by the integrator in the order it sees commits (NULL until then).
-- leaf_hash is the RFC 6962 leaf hash of the event's canonical encoding,
-- computed at append. Rows are never updated except to set seq, and never
-- deleted except by archiving.
CREATE TABLE audit_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    seq           INTEGER UNIQUE,
    time_us       INTEGER NOT NULL,
    actor_kind    TEXT NOT NULL,   -- staff | citizen | system | member
    actor_id      TEXT NOT NULL,
    actor_name    TEXT NOT NULL,
    unit_id       INTEGER NOT NULL, -- 0: none
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    level         INTEGER NOT NULL, -- authz.Level, 0 none .. 3 top secret
    outcome       TEXT NOT NULL,   -- allowed | denied | ok | failed
    reason        TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    attrs         TEXT NOT NULL,   -- JSON object of strings
    leaf_hash     BLOB NOT NULL
);
-- The integrator's queue.
CREATE INDEX audit_events_pending ON audit_events(id) WHERE seq IS NULL;
-- Auditors' searches, newest first.
CREATE INDEX audit_events_actor ON audit_events(actor_kind, actor_id, id);
CREATE INDEX audit_events_resource ON audit_events(resource_type, resource_id, id);
CREATE INDEX audit_events_unit ON audit_events(unit_id, id);
CREATE INDEX audit_events_time ON audit_events(time_us);

-- Hashes of the tree's perfect subtrees, leaves included. id is the
-- node's position in post-order, 2e - popcount(e) + level where e is the
-- last leaf the node covers: the order in which an append-only tree
-- completes its nodes, so the integrator only ever appends here and
-- verification reads the table in one ordered pass.
CREATE TABLE audit_nodes (
    id   INTEGER PRIMARY KEY,
    hash BLOB NOT NULL
);

-- The integrated tree: one row, also the integrators' lock.
CREATE TABLE audit_tree (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    origin TEXT NOT NULL,      -- the checkpoint origin, fixed on first use
    size   INTEGER NOT NULL,
    root   BLOB NOT NULL
);
INSERT INTO audit_tree (id, origin, size, root)
VALUES (1, '', 0, X'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');

-- Signed checkpoints (c2sp.org/tlog-checkpoint notes), one per size.
CREATE TABLE audit_checkpoints (
    size       INTEGER PRIMARY KEY,
    root       BLOB NOT NULL,
    note       TEXT NOT NULL,
    created_us INTEGER NOT NULL
);

-- Ranges of events moved to blob storage; their rows are deleted, their
-- leaves stay in audit_nodes.
CREATE TABLE audit_archives (
    first_seq  INTEGER PRIMARY KEY,
    end_seq    INTEGER NOT NULL,
    blob_key   TEXT NOT NULL,
    created_us INTEGER NOT NULL
);

-- Checkpoints of other nodes' ledgers this node has witnessed, each with
-- this node's cosignature appended.
CREATE TABLE audit_witnessed (
    origin       TEXT NOT NULL,
    size         INTEGER NOT NULL,
    root         BLOB NOT NULL,
    note         TEXT NOT NULL,
    witnessed_us INTEGER NOT NULL,
    PRIMARY KEY (origin, size)
);

-- Checkpoints a witness refused: two signed, inconsistent views of one
-- log are the evidence that it was rewritten.
CREATE TABLE audit_witness_conflicts (
    id           INTEGER PRIMARY KEY,
    origin       TEXT NOT NULL,
    known_note   TEXT NOT NULL,
    offered_note TEXT NOT NULL,
    problem      TEXT NOT NULL,
    found_us     INTEGER NOT NULL
);

-- +goose Down
DROP TABLE audit_witness_conflicts;
DROP TABLE audit_witnessed;
DROP TABLE audit_archives;
DROP TABLE audit_checkpoints;
DROP TABLE audit_tree;
DROP TABLE audit_nodes;
DROP TABLE audit_events;
