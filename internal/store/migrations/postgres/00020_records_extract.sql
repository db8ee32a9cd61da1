-- +goose Up
-- Text extraction of records' files (internal/records, extract_worker.go):
-- the queue of documents whose file's text waits for a worker (pdftotext,
-- tesseract, the office files' XML), and the text once known, kept so
-- that re-indexing a document (issuance, a change of level) keeps it.
-- Only unclassified documents' text is kept here or indexed (the index is
-- plaintext; see records.indexText). Times are microseconds since the
-- epoch.
CREATE TABLE record_extract_jobs (
    document_id BIGINT PRIMARY KEY REFERENCES record_documents(id),
    generation  BIGINT NOT NULL DEFAULT 1,  -- bumped when the file changes: an older run's result is dropped
    state       TEXT NOT NULL,               -- pending | running | done | failed
    attempts    BIGINT NOT NULL DEFAULT 0,
    next_us     BIGINT NOT NULL,            -- pending: not before; running: the claim's lease ends
    worker      TEXT NOT NULL DEFAULT '',    -- who holds (or last held) the claim
    reason      TEXT NOT NULL DEFAULT '',    -- the last failure's code (texts_extract.go)
    detail      TEXT NOT NULL DEFAULT '',    -- the last failure, in the tool's words
    source      TEXT NOT NULL DEFAULT '',    -- pdftotext | ocr | office | plain, once done
    created_us  BIGINT NOT NULL,
    updated_us  BIGINT NOT NULL
);
CREATE INDEX record_extract_jobs_due ON record_extract_jobs(state, next_us);

CREATE TABLE record_texts (
    document_id BIGINT PRIMARY KEY REFERENCES record_documents(id),
    body        TEXT NOT NULL,
    source      TEXT NOT NULL,               -- caller | pdftotext | ocr | office | plain
    at_us       BIGINT NOT NULL
);

-- Every index row carries its document's visibility tokens (see
-- internal/records/search_sql.go): one per unit that may know it, at its
-- level.
UPDATE record_search s SET body = s.body || ' zzu' || d.unit_id || 'l' || d.level
    || COALESCE((SELECT string_agg(' zzu' || x.unit_id || 'l' || d.level, '') FROM record_distribution x WHERE x.document_id = d.id), '')
    FROM record_documents d WHERE d.id = s.document_id;

-- +goose Down
-- (The visibility tokens stay in the index rows: the older search ignores them.)
DROP TABLE record_texts;
DROP TABLE record_extract_jobs;
