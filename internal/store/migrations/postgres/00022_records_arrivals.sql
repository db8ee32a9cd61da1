-- +goose Up
-- How an incoming document arrived (internal/records): on paper with its
-- scan, by e-mail, through the exchange, or otherwise; the incoming
-- register shows it. Written in the registering transaction.
CREATE TABLE record_arrivals (
    document_id BIGINT PRIMARY KEY REFERENCES record_documents(id),
    channel     TEXT NOT NULL    -- paper | email | exchange | other
);

-- +goose Down
DROP TABLE record_arrivals;
