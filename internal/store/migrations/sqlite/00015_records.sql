-- +goose Up
-- Records (internal/records): incoming and outgoing documents, their
-- registers, classification history, content sealed under a data key of
-- its own, case files, handling and read receipts, and the full-text
-- index. Times are microseconds since the epoch, 0 for "not yet".

CREATE TABLE record_documents (
    id              INTEGER PRIMARY KEY,
    direction       TEXT NOT NULL,               -- incoming | outgoing
    unit_id         INTEGER NOT NULL REFERENCES units(id),
    doc_type        TEXT NOT NULL,               -- rules.go's type key
    number_symbol   TEXT NOT NULL DEFAULT '',    -- 15/QĐ-BNG; the sender's for incoming
    register_year   INTEGER NOT NULL DEFAULT 0,
    series          TEXT NOT NULL DEFAULT '',
    register_number INTEGER NOT NULL DEFAULT 0,  -- arrival or issued number, 0 until taken
    org_symbol      TEXT NOT NULL DEFAULT '',    -- outgoing: issuing agency's abbreviation
    unit_symbol     TEXT NOT NULL DEFAULT '',    -- outgoing công văn: drafting unit's
    subject         TEXT NOT NULL,
    doc_date_us     INTEGER NOT NULL DEFAULT 0,
    sender          TEXT NOT NULL DEFAULT '',
    signer_id       INTEGER REFERENCES staff(id),
    urgency         INTEGER NOT NULL DEFAULT 0,
    level           INTEGER NOT NULL DEFAULT 0,  -- authz.Level
    class_reason    TEXT NOT NULL DEFAULT '',
    class_source    TEXT NOT NULL DEFAULT '',
    classifier_id   INTEGER REFERENCES staff(id),
    protect_until_us INTEGER NOT NULL DEFAULT 0,
    due_us          INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL,
    author_id       INTEGER REFERENCES staff(id),
    created_us      INTEGER NOT NULL,
    updated_us      INTEGER NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1
);
-- A number is taken once per register: the index is the last guard
-- against a duplicate, whatever the code above it does.
CREATE UNIQUE INDEX record_documents_register ON record_documents(unit_id, register_year, series, register_number)
    WHERE register_number > 0;
CREATE INDEX record_documents_unit ON record_documents(unit_id, level, id);

-- The registers' counters: one row per unit, year and series, holding
-- the last number taken (numbering restarts on 1 January).
CREATE TABLE record_registers (
    unit_id INTEGER NOT NULL REFERENCES units(id),
    year    INTEGER NOT NULL,
    series  TEXT NOT NULL,
    last    INTEGER NOT NULL,
    PRIMARY KEY (unit_id, year, series)
);

-- The distribution list: units beside the owner that need to know.
CREATE TABLE record_distribution (
    document_id INTEGER NOT NULL REFERENCES record_documents(id),
    unit_id     INTEGER NOT NULL REFERENCES units(id),
    PRIMARY KEY (document_id, unit_id)
);
CREATE INDEX record_distribution_unit ON record_distribution(unit_id, document_id);

-- Explicit need-to-know grants to one member of staff.
CREATE TABLE record_grants (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES record_documents(id),
    staff_id    INTEGER NOT NULL REFERENCES staff(id),
    reason      TEXT NOT NULL,
    granted_by  INTEGER NOT NULL REFERENCES staff(id),
    expires_us  INTEGER NOT NULL,
    created_us  INTEGER NOT NULL
);
CREATE INDEX record_grants_staff ON record_grants(staff_id, document_id);

-- Classification history: classify, extend, change_level, declassify.
CREATE TABLE record_classifications (
    id               INTEGER PRIMARY KEY,
    document_id      INTEGER NOT NULL REFERENCES record_documents(id),
    kind             TEXT NOT NULL,
    from_level       INTEGER NOT NULL,
    to_level         INTEGER NOT NULL,
    reason           TEXT NOT NULL,
    source           TEXT NOT NULL DEFAULT '',
    actor_id         INTEGER NOT NULL REFERENCES staff(id),
    second_id        INTEGER REFERENCES staff(id),
    protect_until_us INTEGER NOT NULL DEFAULT 0,
    at_us            INTEGER NOT NULL
);
CREATE INDEX record_classifications_document ON record_classifications(document_id, id);

-- A two-person change of a top-secret item awaiting its second person.
CREATE TABLE record_pending (
    document_id INTEGER PRIMARY KEY REFERENCES record_documents(id),
    action      TEXT NOT NULL,     -- declassify | destroy
    reason      TEXT NOT NULL,
    proposer_id INTEGER NOT NULL REFERENCES staff(id),
    at_us       INTEGER NOT NULL
);

-- Content: sealed under the document's own data key, which is kept
-- wrapped by the keyring per level. Crypto-shredding empties
-- wrapped_key; the ledger keeps the fact.
CREATE TABLE record_contents (
    document_id INTEGER PRIMARY KEY REFERENCES record_documents(id),
    filename    TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    size        INTEGER NOT NULL,
    sha256      BLOB NOT NULL,
    sealed      BLOB NOT NULL,
    key_purpose TEXT NOT NULL,
    wrapped_key BLOB,
    shredded_us INTEGER NOT NULL DEFAULT 0
);

-- Signatures: the signer's when an outgoing document is signed, the
-- issuing office's when it is issued with its number; each over a
-- statement (JSON) naming the document, its number, its content's
-- SHA-256 and who signed, kept byte for byte so that anyone holding the
-- node's public key verifies it offline.
CREATE TABLE record_signatures (
    document_id INTEGER NOT NULL REFERENCES record_documents(id),
    kind        TEXT NOT NULL,     -- signer | issuer
    statement   BLOB NOT NULL,
    key_id      TEXT NOT NULL,
    signature   BLOB NOT NULL,
    at_us       INTEGER NOT NULL,
    PRIMARY KEY (document_id, kind)
);

-- Case files (hồ sơ công việc) and the documents filed in them, without
-- copies: one document may be filed in several.
CREATE TABLE record_case_files (
    id              INTEGER PRIMARY KEY,
    unit_id         INTEGER NOT NULL REFERENCES units(id),
    year            INTEGER NOT NULL,
    code            TEXT NOT NULL,
    title           TEXT NOT NULL,
    retention_years INTEGER NOT NULL DEFAULT 0,  -- 0: permanent
    closed_us       INTEGER NOT NULL DEFAULT 0,
    created_us      INTEGER NOT NULL,
    UNIQUE (unit_id, year, code)
);
CREATE TABLE record_filings (
    case_file_id INTEGER NOT NULL REFERENCES record_case_files(id),
    document_id  INTEGER NOT NULL REFERENCES record_documents(id),
    filed_by     INTEGER NOT NULL REFERENCES staff(id),
    filed_us     INTEGER NOT NULL,
    PRIMARY KEY (case_file_id, document_id)
);
CREATE INDEX record_filings_document ON record_filings(document_id);

-- Handling: the leader's instruction assigning lead and supporting units
-- or officers, the steps taken, and who has read the document.
CREATE TABLE record_assignments (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES record_documents(id),
    role        TEXT NOT NULL,     -- lead | support
    unit_id     INTEGER NOT NULL REFERENCES units(id),
    staff_id    INTEGER REFERENCES staff(id),
    deadline_us INTEGER NOT NULL DEFAULT 0,
    instruction TEXT NOT NULL,
    assigned_by INTEGER NOT NULL REFERENCES staff(id),
    at_us       INTEGER NOT NULL
);
CREATE INDEX record_assignments_document ON record_assignments(document_id, id);
CREATE TABLE record_steps (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES record_documents(id),
    action      TEXT NOT NULL,
    actor_id    INTEGER NOT NULL REFERENCES staff(id),
    note        TEXT NOT NULL DEFAULT '',
    at_us       INTEGER NOT NULL
);
CREATE INDEX record_steps_document ON record_steps(document_id, id);
CREATE TABLE record_reads (
    document_id INTEGER NOT NULL REFERENCES record_documents(id),
    staff_id    INTEGER NOT NULL REFERENCES staff(id),
    first_us    INTEGER NOT NULL,
    PRIMARY KEY (document_id, staff_id)
);

-- Full-text index, written in the document's transaction: the text is
-- folded in Go (lower case, no diacritics, đ as d) so "quyet dinh"
-- finds "quyết định" alike on both dialects. SQLite: FTS5.
CREATE VIRTUAL TABLE record_search USING fts5(document_id UNINDEXED, body, tokenize = 'unicode61');

-- +goose Down
DROP TABLE record_search;
DROP TABLE record_reads;
DROP TABLE record_steps;
DROP TABLE record_assignments;
DROP TABLE record_filings;
DROP TABLE record_case_files;
DROP TABLE record_signatures;
DROP TABLE record_contents;
DROP TABLE record_pending;
DROP TABLE record_classifications;
DROP TABLE record_grants;
DROP TABLE record_distribution;
DROP TABLE record_registers;
DROP TABLE record_documents;
