-- +goose Up
-- Records' archive (internal/records): copies and prints of classified
-- documents with the competent person's permission, retention schedules,
-- legal holds, disposal decisions (destruction with minutes, then
-- crypto-shredding), transfer packages to the historical archive, and the
-- record of units merged by a restructuring. Times are microseconds since
-- the epoch, 0 for "not yet".

-- Permission to copy or print a classified document (State secrets law:
-- only with the competent person's permission), for one member of staff,
-- a number of copies, until an expiry.
CREATE TABLE record_copy_permits (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES record_documents(id),
    staff_id    INTEGER NOT NULL REFERENCES staff(id),
    kind        TEXT NOT NULL,               -- copy | print
    copies      INTEGER NOT NULL,            -- how many the permission allows
    used        INTEGER NOT NULL DEFAULT 0,
    reason      TEXT NOT NULL,
    granted_by  INTEGER NOT NULL REFERENCES staff(id),
    expires_us  INTEGER NOT NULL,
    created_us  INTEGER NOT NULL
);
CREATE INDEX record_copy_permits_document ON record_copy_permits(document_id, staff_id);

-- Each copy or print, numbered per document 1..n: the key is the last
-- guard against a number given twice.
CREATE TABLE record_copies (
    document_id INTEGER NOT NULL REFERENCES record_documents(id),
    number      INTEGER NOT NULL,
    kind        TEXT NOT NULL,               -- copy | print
    holder_id   INTEGER NOT NULL REFERENCES staff(id),
    holder_name TEXT NOT NULL,               -- as printed on the copy
    holder_unit INTEGER NOT NULL REFERENCES units(id),
    permit_id   INTEGER NOT NULL REFERENCES record_copy_permits(id),
    level       INTEGER NOT NULL,            -- the document's level when copied
    made_us     INTEGER NOT NULL,
    PRIMARY KEY (document_id, number)
);
CREATE INDEX record_copies_holder ON record_copies(holder_id);

-- Retention schedules by series: a unit's case files whose code starts
-- with series are kept retention_years (0: permanent).
CREATE TABLE record_retention_schedules (
    id              INTEGER PRIMARY KEY,
    unit_id         INTEGER NOT NULL REFERENCES units(id),
    series          TEXT NOT NULL,
    title           TEXT NOT NULL,
    retention_years INTEGER NOT NULL,
    source          TEXT NOT NULL DEFAULT '',  -- the legal source of the period
    created_us      INTEGER NOT NULL,
    UNIQUE (unit_id, series)
);

-- A case file's disposition: transferred to the historical archive, or
-- destroyed by decision (its documents' data keys destroyed).
ALTER TABLE record_case_files ADD COLUMN disposition TEXT NOT NULL DEFAULT '';
ALTER TABLE record_case_files ADD COLUMN disposed_us INTEGER NOT NULL DEFAULT 0;

-- Legal holds suspend the disposition of a case file until lifted.
CREATE TABLE record_holds (
    id           INTEGER PRIMARY KEY,
    case_file_id INTEGER NOT NULL REFERENCES record_case_files(id),
    reason       TEXT NOT NULL,
    placed_by    INTEGER NOT NULL REFERENCES staff(id),
    placed_us    INTEGER NOT NULL,
    lift_reason  TEXT NOT NULL DEFAULT '',
    lifted_by    INTEGER REFERENCES staff(id),
    lifted_us    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX record_holds_case_file ON record_holds(case_file_id, lifted_us);

-- Disposals: an appraisal listing case files due for destruction, the
-- decision (number, date, who decided; a second person where a top-secret
-- document is among them), and the minutes once carried out.
CREATE TABLE record_disposals (
    id            INTEGER PRIMARY KEY,
    unit_id       INTEGER NOT NULL REFERENCES units(id),
    status        TEXT NOT NULL,             -- appraised | awaiting_second | decided | done
    prepared_by   INTEGER REFERENCES staff(id),
    prepared_us   INTEGER NOT NULL,
    decision_no   TEXT NOT NULL DEFAULT '',
    decision_us   INTEGER NOT NULL DEFAULT 0,
    decided_by    INTEGER REFERENCES staff(id),
    second_by     INTEGER REFERENCES staff(id),
    executed_by   INTEGER REFERENCES staff(id),
    executed_us   INTEGER NOT NULL DEFAULT 0,
    minutes       TEXT NOT NULL DEFAULT ''
);
CREATE TABLE record_disposal_items (
    disposal_id  INTEGER NOT NULL REFERENCES record_disposals(id),
    case_file_id INTEGER NOT NULL REFERENCES record_case_files(id),
    PRIMARY KEY (disposal_id, case_file_id)
);
CREATE INDEX record_disposal_items_case_file ON record_disposal_items(case_file_id);

-- Transfer packages to the historical archive: the zip as delivered, with
-- its digest.
CREATE TABLE record_transfers (
    id          INTEGER PRIMARY KEY,
    unit_id     INTEGER NOT NULL REFERENCES units(id),
    created_by  INTEGER REFERENCES staff(id),
    created_us  INTEGER NOT NULL,
    case_files  INTEGER NOT NULL,
    sha256      BLOB NOT NULL,
    package     BLOB NOT NULL
);

-- Units merged by a restructuring: the absorbed unit's registers are kept
-- by the unit it merged into.
CREATE TABLE record_unit_moves (
    from_unit INTEGER PRIMARY KEY REFERENCES units(id),
    into_unit INTEGER NOT NULL REFERENCES units(id),
    at_us     INTEGER NOT NULL
);

-- +goose Down
DROP TABLE record_unit_moves;
DROP TABLE record_transfers;
DROP TABLE record_disposal_items;
DROP TABLE record_disposals;
DROP TABLE record_holds;
ALTER TABLE record_case_files DROP COLUMN disposed_us;
ALTER TABLE record_case_files DROP COLUMN disposition;
DROP TABLE record_retention_schedules;
DROP TABLE record_copies;
DROP TABLE record_copy_permits;
