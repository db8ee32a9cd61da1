-- +goose Up
-- Mission leaf credentials carried by enrolment (issue 16), for a
-- headquarters on a stock NATS cluster with an account per mission
-- (deploy/nats), which checks a leaf user and password rather than the
-- node key's signature.
-- leaf_sealed: at a mission, its NATS leaf user and password as
-- headquarters gave them at enrolment, sealed by the keyring (NULL when
-- headquarters gave none: its own hub checks the node key).
ALTER TABLE exchange_node ADD COLUMN leaf_sealed BLOB;
-- leaf_hash: at headquarters, the bcrypt hash of the leaf password an
-- enrolment gave the mission, for the cluster's configuration
-- (leafnodes.authorization); empty when none was given. The password
-- itself is not kept.
ALTER TABLE registry_enrolments ADD COLUMN leaf_hash TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE registry_enrolments DROP COLUMN leaf_hash;
ALTER TABLE exchange_node DROP COLUMN leaf_sealed;
