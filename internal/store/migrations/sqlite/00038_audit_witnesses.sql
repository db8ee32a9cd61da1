-- +goose Up
-- Missions witness headquarters' ledger (internal/audit, cosign.go).

-- Cosignatures the ledger's witnesses returned (c2sp.org/tlog-witness):
-- one signature line per checkpoint and witness, served with the
-- checkpoint. A witness's latest row is its state: the size its next
-- consistency proof starts from.
CREATE TABLE audit_cosignatures (
    size        INTEGER NOT NULL,
    witness     TEXT NOT NULL,
    line        TEXT NOT NULL,
    received_us INTEGER NOT NULL,
    PRIMARY KEY (size, witness)
);
CREATE INDEX audit_cosignatures_witness ON audit_cosignatures(witness, size);

-- What a witness answered when it would not cosign the ledger's
-- checkpoint because it knows an inconsistent one: the ledger's side of
-- the evidence of a fork or a rewind.
CREATE TABLE audit_witness_refusals (
    id         INTEGER PRIMARY KEY,
    witness    TEXT NOT NULL,
    size       INTEGER NOT NULL,
    note       TEXT NOT NULL,   -- the checkpoint offered
    status     INTEGER NOT NULL, -- the witness's HTTP status (409, 422)
    detail     TEXT NOT NULL,
    found_us   INTEGER NOT NULL
);

-- Thinning reads checkpoints by time.
CREATE INDEX audit_checkpoints_created ON audit_checkpoints(created_us);

-- +goose Down
DROP INDEX audit_checkpoints_created;
DROP TABLE audit_witness_refusals;
DROP TABLE audit_cosignatures;
