-- +goose Up
-- Data-loss prevention on the ways out (internal/dlp): the policy that
-- security officers keep, every version of it, and the items held for a
-- security officer's approval. A hold keeps what was found (counts by
-- kind) and the item's digest, never its content: approving it lets the
-- same content go once, when its sender sends it again.
CREATE TABLE dlp_policies (
    version    INTEGER PRIMARY KEY,        -- 1, 2, …: every saved version is kept
    body       TEXT NOT NULL,              -- the policy as JSON
    note       TEXT NOT NULL DEFAULT '',   -- why it changed
    author_id  INTEGER REFERENCES staff(id), -- NULL for the built-in first version
    created_us INTEGER NOT NULL
);

CREATE TABLE dlp_holds (
    id             INTEGER PRIMARY KEY,
    way            TEXT NOT NULL,          -- exchange | download | export | mail
    actor_kind     TEXT NOT NULL,          -- who sent it, as the ledger names actors
    actor_id       TEXT NOT NULL,
    actor_name     TEXT NOT NULL DEFAULT '',
    unit_id        INTEGER NOT NULL DEFAULT 0,
    destination    TEXT NOT NULL,          -- where it was going
    item           TEXT NOT NULL DEFAULT '', -- what it is (a file's name, a document's reference)
    digest         TEXT NOT NULL,          -- SHA-256 of the content, hex
    size           INTEGER NOT NULL,
    level          INTEGER NOT NULL DEFAULT 0, -- the item's declared classification
    findings       TEXT NOT NULL,          -- JSON: kind → count
    reasons        TEXT NOT NULL,          -- JSON: the policy's rules that held it
    policy_version INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('held', 'approved', 'rejected', 'released')),
    created_us     INTEGER NOT NULL,
    decided_us     INTEGER NOT NULL DEFAULT 0,
    decided_by     INTEGER REFERENCES staff(id),
    note           TEXT NOT NULL DEFAULT '', -- the security officer's reason
    released_us    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX dlp_holds_status ON dlp_holds(status, id);
CREATE INDEX dlp_holds_item ON dlp_holds(way, actor_kind, actor_id, destination, digest);

-- +goose Down
DROP TABLE dlp_holds;
DROP TABLE dlp_policies;
