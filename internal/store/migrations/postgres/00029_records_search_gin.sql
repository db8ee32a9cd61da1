-- +goose Up
-- The records' full-text index writes each new row into the GIN index
-- itself rather than into its pending list (fastupdate). With the list
-- on, every search read the whole list linearly — up to 4 MB of rows not
-- yet merged, parsed one by one — before the index's own posting lists:
-- at a million documents most of a search's index reads
-- (internal/records BenchmarkSearch; EXPLAIN (ANALYZE, BUFFERS) showed
-- 340 of 391 pages of the index scan in the list). Registering a
-- document updates the index in place instead, a few pages per word.
-- The rows already in the list are merged now.
ALTER INDEX record_search_body SET (fastupdate = off);
SELECT gin_clean_pending_list('record_search_body'::regclass);

-- +goose Down
ALTER INDEX record_search_body RESET (fastupdate);
