-- +goose Up
-- Circulars (internal/exchange): one message published to many
-- recipients. The circular is one row; each recipient's copy is an
-- ordinary outgoing message in exchange_log (its own id, sealed body and
-- state), which exchange_circular_recipients names, so that the sender
-- reads who has it from the copies' states.
CREATE TABLE exchange_circulars (
    id         TEXT PRIMARY KEY,
    sender     TEXT NOT NULL,
    service    TEXT NOT NULL,          -- service code[/version], offered by every recipient
    created_us INTEGER NOT NULL
);
CREATE TABLE exchange_circular_recipients (
    circular_id TEXT NOT NULL REFERENCES exchange_circulars(id),
    recipient   TEXT NOT NULL,
    msg_id      TEXT NOT NULL,         -- the copy's outgoing row in exchange_log
    PRIMARY KEY (circular_id, recipient)
);

-- +goose Down
DROP TABLE exchange_circular_recipients;
DROP TABLE exchange_circulars;
