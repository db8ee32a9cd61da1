-- +goose Up
-- The mail outbox (internal/mail): notices queued in the transaction of
-- the change they announce, sent by a worker that claims each row before
-- sending, so two replicas do not send one notice twice. Times are
-- microseconds since the Unix epoch (UTC).
CREATE TABLE mail_outbox (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipients       TEXT NOT NULL,            -- JSON array of addresses
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    body_html        TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL DEFAULT 'pending', -- pending | sent | failed
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_try_us      BIGINT NOT NULL,
    claimed_until_us BIGINT NOT NULL DEFAULT 0,   -- a worker's lease while it sends
    last_error       TEXT NOT NULL DEFAULT '',
    created_us       BIGINT NOT NULL,
    sent_us          BIGINT
);
CREATE INDEX mail_outbox_due ON mail_outbox(next_try_us, id) WHERE state = 'pending';
CREATE INDEX mail_outbox_state ON mail_outbox(state, id);

-- +goose Down
DROP TABLE mail_outbox;
