-- +goose Up
-- Procedures (issue 10): how each payment was recorded and by whom, the
-- tracking PIN printed on a dossier's receipt, and the identity number
-- verified on a citizen's account.

-- A payment is reported by the gateway's signed callback ("gateway") or
-- recorded by a clerk at the counter with the number of the receipt
-- handed to the payer ("counter"); recorded_by is the clerk's staff id.
-- A counter payment's transaction_id is "counter:{agency code}:{receipt
-- number}", so one receipt is recorded once per unit.
ALTER TABLE procedure_payments ADD COLUMN method TEXT NOT NULL DEFAULT 'gateway';
ALTER TABLE procedure_payments ADD COLUMN recorded_by INTEGER NOT NULL DEFAULT 0;

-- The tracking PIN is the second factor of public tracking: printed on
-- the receipt, known to the applicant only, sealed by the keyring
-- (purpose "procedures") like the form. Empty for dossiers registered
-- before it existed: those are tracked by their applicant signed in.
ALTER TABLE dossiers ADD COLUMN tracking_pin BLOB NOT NULL DEFAULT x'';

-- The personal identification number verified on a citizen's account
-- (by a clerk who saw the identity card at the counter, or by the node
-- itself from a trusted identity provider): the only number the portal
-- fills a citizen's form from, so that no citizen looks up another in the
-- National Population Database. Sealed by the keyring (purpose
-- "procedures"); one per account.
CREATE TABLE citizen_verified_ids (
    citizen_id  INTEGER PRIMARY KEY REFERENCES citizens(id),
    id_number   BLOB NOT NULL,
    verified_by TEXT NOT NULL,   -- the audit actor who verified it: staff:12, system:…
    verified_us INTEGER NOT NULL
);

-- +goose Down
DROP TABLE citizen_verified_ids;
ALTER TABLE dossiers DROP COLUMN tracking_pin;
ALTER TABLE procedure_payments DROP COLUMN recorded_by;
ALTER TABLE procedure_payments DROP COLUMN method;
