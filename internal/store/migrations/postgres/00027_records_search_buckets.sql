-- +goose Up
-- Every index row of the records' full-text search also carries its
-- visibility tokens per id bucket (internal/records/search_sql.go,
-- bucketToken): "zzu<unit>l<level>b<bits>x<id >> bits>" for the owning
-- unit and each unit of the distribution list, for buckets of 2^12, 2^16
-- and 2^20 ids. A search looking in a window of the newest ids asks the
-- GIN index for the caller's tokens of the window's buckets, so that the
-- index walks only the window instead of every match of the words
-- (BenchmarkSearch at a million documents).
--
-- The rows already indexed get their tokens here. The GIN index is
-- dropped first and built again after (a rebuild reads the table once;
-- updating it row by row costs a few page writes per word of each row).
-- The update writes every row anew wherever the table has room, out of
-- the ids' order; CLUSTER puts the rows back in the order of their ids,
-- the order the index's posting lists must share with the buckets for
-- the index to step over all but the window (at a million documents,
-- 19 ms of CPU for one common word and one bucket token out of order,
-- under 1 ms in order).
DROP INDEX record_search_body;
UPDATE record_search s SET body = s.body
    || COALESCE((SELECT string_agg(' zzu' || d.unit_id || 'l' || d.level || 'b' || g.bits || 'x' || (d.id >> g.bits), '')
        FROM record_documents d, (SELECT 12 AS bits UNION ALL SELECT 16 UNION ALL SELECT 20) g
        WHERE d.id = s.document_id), '')
    || COALESCE((SELECT string_agg(' zzu' || x.unit_id || 'l' || d.level || 'b' || g.bits || 'x' || (d.id >> g.bits), '')
        FROM record_documents d JOIN record_distribution x ON x.document_id = d.id, (SELECT 12 AS bits UNION ALL SELECT 16 UNION ALL SELECT 20) g
        WHERE d.id = s.document_id), '');
CLUSTER record_search USING record_search_pkey;
-- As migration 00029 left it: no pending list (see there).
CREATE INDEX record_search_body ON record_search USING GIN (to_tsvector('simple', body)) WITH (fastupdate = off);

-- +goose Down
-- (The bucket tokens stay in the index rows: the older search ignores them.)
SELECT 1;
