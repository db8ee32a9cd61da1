// Package audit is Chancery's audit ledger: a tamper-evident record of
// every access decision and change, kept as an RFC 6962 Merkle log in the
// database (github.com/transparency-dev/merkle), with signed checkpoints
// (c2sp.org/tlog-checkpoint, signed through golang.org/x/mod/sumdb/note
// with the node's Ed25519 key from internal/keys), inclusion and
// consistency proofs, full verification, archiving to blob storage, and
// cross-witnessing between nodes.
//
// # Appending
//
// A capability records an event with AppendTx inside the transaction of
// the action it records, or with Append, which commits concurrent calls
// together (group commit) and returns once the event is durable. Either
// way the event is stored with a provisional id; the integrator gives it
// its sequence number (its leaf index) and adds it to the tree right after
// each group commit and periodically (Run). Several processes may append
// and integrate on one PostgreSQL database: integration is serialised by a
// lock on the tree's row, and sequence numbers stay contiguous even when
// provisional ids commit out of order.
//
// # Leaf encoding, version 1
//
// An event's leaf is the RFC 6962 leaf hash, SHA-256(0x00 || encoding), of
// this encoding of its fields, in the notation of RFC 8446 section 3
// (integers big-endian; opaque<0..2^16-1> is a 16-bit length followed by
// that many bytes of UTF-8):
//
//	struct {
//	    uint8  version = 1;
//	    uint64 time;                      // microseconds since 1970-01-01 UTC
//	    opaque actor_kind<0..2^16-1>;     // staff | citizen | system | member
//	    opaque actor_id<0..2^16-1>;
//	    opaque actor_name<0..2^16-1>;
//	    int64  unit_id;                   // 0: none
//	    opaque action<0..2^16-1>;
//	    opaque resource_type<0..2^16-1>;
//	    opaque resource_id<0..2^16-1>;
//	    uint8  level;                     // 0 none, 1 confidential, 2 secret, 3 top secret
//	    opaque outcome<0..2^16-1>;        // allowed | denied | ok | failed
//	    opaque reason<0..2^16-1>;
//	    opaque request_id<0..2^16-1>;
//	    uint8  attr_count;
//	    struct {
//	        opaque key<0..2^16-1>;
//	        opaque value<0..2^16-1>;
//	    } attrs[attr_count];              // in ascending byte order of key
//	} Event;
//
// The sequence number is not encoded: it is the leaf's index, which an
// inclusion proof authenticates. A later version starts with another
// version byte.
//
// # Storage
//
// Events live in audit_events, the hashes of the tree's perfect subtrees
// (leaves included) in audit_nodes keyed by their post-order position (see
// nodeKey), so that the integrator only appends and Verify reads the tree
// in one ordered pass; an inclusion proof is one indexed query. The tree's
// size and root are in audit_tree, signed checkpoints in
// audit_checkpoints.
package audit
