-- +goose Up
-- Receipts for circulars (internal/exchange, receipt.go). A copy of a
-- circular asks for a receipt (exchange_log.receipt = 1, on the sender's
-- outgoing row and the recipient's incoming one); the recipient's node
-- sends back a signed receipt, delivered or dead, and the sender keeps
-- the latest one it accepted for each recipient: its outcome, the time
-- the recipient's node gave it, the reason of a dead copy and the signed
-- receipt itself, which proves it.
ALTER TABLE exchange_log ADD COLUMN receipt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE exchange_circular_recipients ADD COLUMN outcome TEXT NOT NULL DEFAULT '';  -- '' until a receipt: delivered | dead
ALTER TABLE exchange_circular_recipients ADD COLUMN outcome_us INTEGER;
ALTER TABLE exchange_circular_recipients ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE exchange_circular_recipients ADD COLUMN receipt BLOB;
CREATE UNIQUE INDEX exchange_circular_recipients_msg ON exchange_circular_recipients(msg_id);

-- +goose Down
DROP INDEX exchange_circular_recipients_msg;
ALTER TABLE exchange_circular_recipients DROP COLUMN receipt;
ALTER TABLE exchange_circular_recipients DROP COLUMN reason;
ALTER TABLE exchange_circular_recipients DROP COLUMN outcome_us;
ALTER TABLE exchange_circular_recipients DROP COLUMN outcome;
ALTER TABLE exchange_log DROP COLUMN receipt;
