-- +goose Up
-- The portal's news search uses the full-text engine, as the records' does
-- (internal/portal's sql.go): an FTS5 index over portal_items.search (the
-- titles, summaries, bodies and tags folded as the records fold: no
-- diacritics, lower case, identity.Fold), kept by triggers so that it
-- commits with the publication.
CREATE VIRTUAL TABLE portal_search USING fts5(search, content = 'portal_items', content_rowid = 'id', tokenize = 'unicode61');
INSERT INTO portal_search (rowid, search) SELECT id, search FROM portal_items;
-- +goose StatementBegin
CREATE TRIGGER portal_search_insert AFTER INSERT ON portal_items BEGIN
    INSERT INTO portal_search (rowid, search) VALUES (new.id, new.search);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER portal_search_delete AFTER DELETE ON portal_items BEGIN
    INSERT INTO portal_search (portal_search, rowid, search) VALUES ('delete', old.id, old.search);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER portal_search_update AFTER UPDATE OF search ON portal_items BEGIN
    INSERT INTO portal_search (portal_search, rowid, search) VALUES ('delete', old.id, old.search);
    INSERT INTO portal_search (rowid, search) VALUES (new.id, new.search);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER portal_search_update;
DROP TRIGGER portal_search_delete;
DROP TRIGGER portal_search_insert;
DROP TABLE portal_search;
