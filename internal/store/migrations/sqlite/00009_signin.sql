-- +goose Up
-- Sign-in (internal/auth, issue 10). A staff account is linked to an
-- identity-provider account only by an administrator, by the provider's
-- issuer and subject together. The links the first sign-in used to make
-- by username or e-mail were never an administrator's: they are dropped,
-- to be made again on purpose.
ALTER TABLE staff ADD COLUMN oidc_issuer TEXT;
UPDATE staff SET oidc_subject = NULL;
-- A second factor is enrolled only with a one-time enrolment code that an
-- administrator or security officer issued; its SHA-256 is kept until it
-- is used or expires.
ALTER TABLE credentials ADD COLUMN enrol_code_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE credentials ADD COLUMN enrol_code_expires TIMESTAMP;
-- The level a session works at (0 none … 3 top secret), chosen at sign-in.
ALTER TABLE sessions ADD COLUMN level INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE sessions DROP COLUMN level;
ALTER TABLE credentials DROP COLUMN enrol_code_expires;
ALTER TABLE credentials DROP COLUMN enrol_code_hash;
ALTER TABLE staff DROP COLUMN oidc_issuer;
