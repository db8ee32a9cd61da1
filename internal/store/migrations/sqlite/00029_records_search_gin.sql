-- +goose Up
-- PostgreSQL's records' full-text index stops using its pending list
-- (see the postgres migration of this number). SQLite's FTS5 index has
-- no such list: nothing changes here; the file keeps the numbering alike.
SELECT 1;

-- +goose Down
SELECT 1;
