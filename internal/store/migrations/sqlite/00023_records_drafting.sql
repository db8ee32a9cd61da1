-- +goose Up
-- Records, the outgoing side (internal/records, drafting.go): a draft's
-- versions, comments per version, the review chain, the distribution
-- list of an issued document, and replacements. Times are microseconds
-- since the epoch, 0 for "not yet".

-- Every version of a document's file. The current version's bytes stay
-- in record_contents (sealed IS NULL here); older versions keep theirs
-- here, sealed under the document's one data key, so that a level change
-- re-wraps, and crypto-shredding destroys, every version at once.
CREATE TABLE record_versions (
    document_id INTEGER NOT NULL REFERENCES record_documents(id),
    version_no  INTEGER NOT NULL,
    filename    TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    size        INTEGER NOT NULL,
    sha256      BLOB NOT NULL,
    sealed      BLOB,
    author_id   INTEGER NOT NULL REFERENCES staff(id),
    note        TEXT NOT NULL DEFAULT '',
    at_us       INTEGER NOT NULL,
    PRIMARY KEY (document_id, version_no)
);

-- Comments on a version of a draft, threaded by reply_to.
CREATE TABLE record_comments (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES record_documents(id),
    version_no  INTEGER NOT NULL,
    reply_to    INTEGER REFERENCES record_comments(id),
    author_id   INTEGER NOT NULL REFERENCES staff(id),
    body        TEXT NOT NULL,
    at_us       INTEGER NOT NULL
);
CREATE INDEX record_comments_document ON record_comments(document_id, id);

-- The review chain: each round names reviewers, each approves or sends
-- the draft back with a reason.
CREATE TABLE record_reviews (
    id           INTEGER PRIMARY KEY,
    document_id  INTEGER NOT NULL REFERENCES record_documents(id),
    round        INTEGER NOT NULL,
    reviewer_id  INTEGER NOT NULL REFERENCES staff(id),
    requested_by INTEGER NOT NULL REFERENCES staff(id),
    requested_us INTEGER NOT NULL,
    decision     TEXT NOT NULL DEFAULT '',   -- '' pending | approved | returned | withdrawn
    reason       TEXT NOT NULL DEFAULT '',
    decided_us   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (document_id, round, reviewer_id)
);

-- Who an issued document goes to: internal units (which join its
-- distribution list), missions and other agencies (sent as edXML
-- packages by the exchange's code, which reads this list).
CREATE TABLE record_recipients (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES record_documents(id),
    kind        TEXT NOT NULL,               -- unit | mission | agency
    unit_id     INTEGER REFERENCES units(id),
    name        TEXT NOT NULL,
    code        TEXT NOT NULL DEFAULT ''     -- the agency's identifier code (QCVN 102)
);
CREATE INDEX record_recipients_document ON record_recipients(document_id, id);

-- A replacement document and the one it replaces.
CREATE TABLE record_replacements (
    document_id INTEGER NOT NULL UNIQUE REFERENCES record_documents(id),
    replaces_id INTEGER NOT NULL UNIQUE REFERENCES record_documents(id)
);

-- +goose Down
DROP TABLE record_replacements;
DROP TABLE record_recipients;
DROP TABLE record_reviews;
DROP TABLE record_comments;
DROP TABLE record_versions;
