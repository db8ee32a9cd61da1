-- +goose Up
-- The portal's news search uses the full-text engine, as the records' does
-- (internal/portal's sql.go): a GIN index over the 'simple' text vector of
-- portal_items.search (the titles, summaries, bodies and tags folded as
-- the records fold: no diacritics, lower case, identity.Fold), which
-- commits with the publication.
CREATE INDEX portal_items_search ON portal_items USING GIN (to_tsvector('simple', search));

-- +goose Down
DROP INDEX portal_items_search;
