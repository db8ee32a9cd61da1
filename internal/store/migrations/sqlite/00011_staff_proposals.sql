-- +goose Up
-- Grants of a clearance or of an overseeing role (security officer,
-- auditor) waiting for a second person (internal/identity): an
-- administrator, or the host's operator at the command line, proposes the
-- roles and clearance an account is to have; a security officer cleared
-- at least that high approves or rejects. Approval applies them only if
-- the account is still at based_version.
CREATE TABLE staff_proposals (
    id            INTEGER PRIMARY KEY,
    staff_id      INTEGER NOT NULL REFERENCES staff(id),
    based_version INTEGER NOT NULL,
    roles         TEXT NOT NULL,        -- the roles proposed, comma-separated
    clearance     INTEGER NOT NULL,     -- the clearance proposed
    old_roles     TEXT NOT NULL,        -- the account's when proposed
    old_clearance INTEGER NOT NULL,
    proposed_by   INTEGER REFERENCES staff(id), -- NULL: the command line
    proposer      TEXT NOT NULL,        -- username, or the operating-system user of the command line
    proposed_at   TIMESTAMP NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending', -- pending | approved | rejected | superseded
    decided_by    INTEGER REFERENCES staff(id),
    decider       TEXT NOT NULL DEFAULT '',
    decided_at    TIMESTAMP,
    note          TEXT NOT NULL DEFAULT ''
);
-- One pending proposal per account: a newer one supersedes it.
CREATE UNIQUE INDEX staff_proposals_pending ON staff_proposals(staff_id) WHERE status = 'pending';
CREATE INDEX staff_proposals_status ON staff_proposals(status, id);

-- +goose Down
DROP TABLE staff_proposals;
