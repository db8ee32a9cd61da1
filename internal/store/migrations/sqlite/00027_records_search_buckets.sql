-- +goose Up
-- Every index row of the records' full-text search also carries its
-- visibility tokens per id bucket (internal/records/search_sql.go,
-- bucketToken; see the postgres migration of this number). SQLite's
-- searches walk FTS5's posting lists newest first and do not ask for
-- them; the rows carry them alike on both databases, as the index text
-- is one (records.indexText).
UPDATE record_search SET body = body
    || COALESCE((SELECT group_concat(' zzu' || d.unit_id || 'l' || d.level || 'b' || g.bits || 'x' || (d.id >> g.bits), '')
        FROM record_documents d, (SELECT 12 AS bits UNION ALL SELECT 16 UNION ALL SELECT 20) g
        WHERE d.id = record_search.rowid), '')
    || COALESCE((SELECT group_concat(' zzu' || x.unit_id || 'l' || d.level || 'b' || g.bits || 'x' || (d.id >> g.bits), '')
        FROM record_documents d JOIN record_distribution x ON x.document_id = d.id, (SELECT 12 AS bits UNION ALL SELECT 16 UNION ALL SELECT 20) g
        WHERE d.id = record_search.rowid), '');

-- +goose Down
-- (The bucket tokens stay in the index rows: the older search ignores them.)
SELECT 1;
