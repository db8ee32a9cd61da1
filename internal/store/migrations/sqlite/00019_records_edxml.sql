-- +goose Up
-- Records' edXML packages (internal/records/edxml*.go): documents sent
-- to and received from other agencies and missions through the
-- exchange, their status messages, and the outbox that hands both to
-- the exchange after the change that made them commits.

-- One row per package: out, one per recipient of an issued document;
-- in, one per package received, waiting in the addressed unit's queue
-- until registered (document_id set) or returned.
CREATE TABLE record_packages (
    id            INTEGER PRIMARY KEY,
    direction     TEXT NOT NULL,                -- out | in
    package_id    TEXT NOT NULL,                -- the edXML DocumentId (UUID), drawn by the sender
    sender        TEXT NOT NULL,                -- From: identifier code
    sender_name   TEXT NOT NULL,
    recipient     TEXT NOT NULL,                -- To: identifier code
    recipient_name TEXT NOT NULL,
    unit_id       INTEGER NOT NULL REFERENCES units(id), -- out: the issuing unit; in: the addressed unit
    document_id   INTEGER REFERENCES record_documents(id),
    level         INTEGER NOT NULL,
    number_symbol TEXT NOT NULL,
    subject       TEXT NOT NULL,
    status        TEXT NOT NULL,                -- records.DeliveryStatus
    reason        TEXT NOT NULL DEFAULT '',     -- a return's or recall's
    sealed        BLOB,                         -- in: the package as received, sealed
    key_purpose   TEXT NOT NULL DEFAULT '',
    msg_id        TEXT NOT NULL DEFAULT '',     -- the exchange message that carried it
    created_us    INTEGER NOT NULL,
    updated_us    INTEGER NOT NULL,
    UNIQUE (direction, sender, package_id)
);
CREATE INDEX record_packages_document ON record_packages(document_id);
CREATE INDEX record_packages_unit ON record_packages(unit_id, direction, id);

-- Each package's statuses as they came (out) or went (in), once each:
-- uid is the status message's own id.
CREATE TABLE record_package_events (
    id          INTEGER PRIMARY KEY,
    package_row INTEGER NOT NULL REFERENCES record_packages(id),
    uid         TEXT NOT NULL,
    status      TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    at_us       INTEGER NOT NULL,
    UNIQUE (package_row, uid)
);

-- What is to be handed to the exchange, in order: written in the
-- transaction of the change (issuance, registration, handling, recall),
-- sent after it commits, sealed meanwhile.
CREATE TABLE record_edxml_outbox (
    id          INTEGER PRIMARY KEY,
    package_row INTEGER NOT NULL REFERENCES record_packages(id),
    uid         TEXT NOT NULL UNIQUE,
    sender      TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    level       INTEGER NOT NULL,
    sealed      BLOB NOT NULL,
    key_purpose TEXT NOT NULL,
    msg_id      TEXT NOT NULL DEFAULT '',
    error       TEXT NOT NULL DEFAULT '',
    sent_us     INTEGER NOT NULL DEFAULT 0,     -- 0: not yet handed over
    created_us  INTEGER NOT NULL
);
CREATE INDEX record_edxml_outbox_pending ON record_edxml_outbox(sent_us, id);

-- +goose Down
DROP TABLE record_edxml_outbox;
DROP TABLE record_package_events;
DROP TABLE record_packages;
