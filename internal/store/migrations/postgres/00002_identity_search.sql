-- +goose Up
-- search holds the lower-cased, diacritic-free text a directory search
-- matches (code and names of a unit; username and name of a staff
-- member), written by internal/identity so "bo ngoai giao" finds
-- "Bộ Ngoại giao" the same way on both dialects.
ALTER TABLE units ADD COLUMN search TEXT NOT NULL DEFAULT '';
ALTER TABLE staff ADD COLUMN search TEXT NOT NULL DEFAULT '';

-- Exactly one root: the ministry. The index makes a second one a unique
-- violation even when two requests race.
CREATE UNIQUE INDEX units_one_root ON units(kind) WHERE kind = 'ministry';

-- +goose Down
DROP INDEX units_one_root;
ALTER TABLE staff DROP COLUMN search;
ALTER TABLE units DROP COLUMN search;
