-- +goose Up
-- Legal holds on single documents (internal/records): a hold in force
-- suspends the disposition of that document (its destruction, alone or
-- with a case file, and the transfer of a case file holding it) until it
-- is lifted; both with reasons, both in the ledger.
CREATE TABLE record_document_holds (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES record_documents(id),
    reason      TEXT NOT NULL,
    placed_by   INTEGER NOT NULL REFERENCES staff(id),
    placed_us   INTEGER NOT NULL,
    lift_reason TEXT NOT NULL DEFAULT '',
    lifted_by   INTEGER REFERENCES staff(id),
    lifted_us   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX record_document_holds_document ON record_document_holds(document_id, lifted_us);

-- The files of a document beyond its main one (record_contents): an
-- incoming edXML package's other attachments, numbered from 2 in the
-- package's order, sealed under the document's one data key, so that a
-- level change re-wraps, and crypto-shredding destroys, them with it.
CREATE TABLE record_attachments (
    document_id INTEGER NOT NULL REFERENCES record_documents(id),
    seq         INTEGER NOT NULL,
    filename    TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    size        INTEGER NOT NULL,
    sha256      BLOB NOT NULL,
    sealed      BLOB NOT NULL,
    PRIMARY KEY (document_id, seq)
);

-- +goose Down
DROP TABLE record_attachments;
DROP TABLE record_document_holds;
