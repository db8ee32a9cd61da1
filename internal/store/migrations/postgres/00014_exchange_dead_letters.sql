-- +goose Up
-- Dead letters (internal/exchange): an incoming message whose recipient's
-- webhook refused it too many times leaves the inbox for state 'dead'
-- (the receiver's answer in reason, the time in dead_us), so that the
-- messages behind it are delivered; an operator resends it (back to
-- 'delivered') or discards it ('discarded'). The webhook row counts the
-- refusals of the message at the head of its queue (refused_id).
ALTER TABLE exchange_log ADD COLUMN dead_us BIGINT;
ALTER TABLE exchange_webhooks ADD COLUMN refused_id TEXT NOT NULL DEFAULT '';
ALTER TABLE exchange_webhooks ADD COLUMN refusals BIGINT NOT NULL DEFAULT 0;
CREATE INDEX exchange_log_dead ON exchange_log(seq) WHERE state = 'dead';

-- +goose Down
DROP INDEX exchange_log_dead;
ALTER TABLE exchange_webhooks DROP COLUMN refusals;
ALTER TABLE exchange_webhooks DROP COLUMN refused_id;
ALTER TABLE exchange_log DROP COLUMN dead_us;
