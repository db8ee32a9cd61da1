-- +goose Up
-- Sentinel's watcher (internal/sentinel): the ledger's stream cursor, the
-- watcher's saved state and lease, and the alerts it raised with their
-- triage.

-- How far the ledger has published its integrated events to its
-- JetStream stream (internal/audit's stream.go): every event with a
-- smaller sequence number was acknowledged by the stream. A publisher
-- that starts again, or finds the bus back after an outage, catches up
-- from here.
CREATE TABLE audit_stream_cursor (
    subject    TEXT PRIMARY KEY,   -- the stream subject, one per node
    next_seq   INTEGER NOT NULL,   -- the first sequence number not yet acknowledged
    updated_us INTEGER NOT NULL
);

-- The watcher of one node: the scorer's state and the first sequence
-- number it has not scored, saved in the transaction that stores the
-- alerts of the events before it, so that a restart resumes exactly
-- there. The lease says which replica scores; the others wait.
CREATE TABLE sentinel_watchers (
    name       TEXT PRIMARY KEY,
    next_seq   INTEGER NOT NULL DEFAULT 0,
    state      BLOB,
    holder     TEXT NOT NULL DEFAULT '',
    lease_us   INTEGER NOT NULL DEFAULT 0, -- the holder's lease runs until then
    updated_us INTEGER NOT NULL
);

-- An alert: raised here (node = '') or forwarded by a mission (node is
-- the mission's node id, remote_id its alert's id there).
CREATE TABLE sentinel_alerts (
    id             INTEGER PRIMARY KEY,
    node           TEXT NOT NULL DEFAULT '',
    node_name      TEXT NOT NULL DEFAULT '',
    remote_id      INTEGER,
    rule           TEXT NOT NULL,
    username       TEXT NOT NULL DEFAULT '',
    actor_kind     TEXT NOT NULL DEFAULT '',
    actor_id       TEXT NOT NULL DEFAULT '',
    unit_id        INTEGER NOT NULL DEFAULT 0,
    address        TEXT NOT NULL DEFAULT '',
    score          REAL NOT NULL,
    risk           REAL NOT NULL,
    title_vi       TEXT NOT NULL,
    title_en       TEXT NOT NULL,
    explanation_vi TEXT NOT NULL,
    explanation_en TEXT NOT NULL,
    events         TEXT NOT NULL,   -- the evidence's ledger sequence numbers, a JSON array
    first_us       INTEGER NOT NULL,
    last_us        INTEGER NOT NULL,
    level          INTEGER NOT NULL DEFAULT 0,
    status         TEXT NOT NULL,   -- new | investigating | closed_true_positive | closed_false_positive
    assignee       TEXT NOT NULL DEFAULT '',
    notes          TEXT NOT NULL DEFAULT '',
    version        INTEGER NOT NULL DEFAULT 1,
    forwarded      INTEGER NOT NULL DEFAULT 0, -- a mission's: handed to the exchange for headquarters
    fed_back       INTEGER NOT NULL DEFAULT 0, -- its closing was told to the scorer (detect.Feedback)
    mailed         INTEGER NOT NULL DEFAULT 0, -- the notifier considered it for mail to security officers
    syslogged      INTEGER NOT NULL DEFAULT 0, -- the notifier sent it to the syslog (CEF) feed
    created_us     INTEGER NOT NULL,
    updated_us     INTEGER NOT NULL
);
CREATE UNIQUE INDEX sentinel_alerts_remote ON sentinel_alerts(node, remote_id);
CREATE INDEX sentinel_alerts_queue ON sentinel_alerts(status, risk);
CREATE INDEX sentinel_alerts_user ON sentinel_alerts(username, created_us);

-- Every change of an alert's triage, oldest first.
CREATE TABLE sentinel_alert_history (
    id          INTEGER PRIMARY KEY,
    alert_id    INTEGER NOT NULL REFERENCES sentinel_alerts(id) ON DELETE CASCADE,
    at_us       INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    assignee    TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sentinel_alert_history_alert ON sentinel_alert_history(alert_id, id);

-- +goose Down
DROP TABLE sentinel_alert_history;
DROP TABLE sentinel_alerts;
DROP TABLE sentinel_watchers;
DROP TABLE audit_stream_cursor;
