// Package system holds the whole-system test: headquarters in its
// production shape, as real processes on 127.0.0.1 — PostgreSQL, a
// three-node NATS cluster with JetStream (streams kept on all three
// servers, --nats-replicas 3; with CHANCERY_SYSTEM_ACCOUNTS=1, deploy/nats's
// accounts: the replicas as the HQ user, each mission's leaf link bound to
// an account of its own, added with mission-account.sh after each
// enrolment in its two steps, each a reload of every server, see accounts_test.go), an S3-compatible object store (the Versity
// S3 gateway), three `chancery serve` replicas behind a small load
// balancer, and mission nodes (SQLite, embedded NATS, leaf-joined to the
// cluster, enrolled through the load balancer) — with faults injected
// under load and the invariants checked after each (system_test.go), and
// the figures of issue 16 as benchmarks (bench_test.go).
//
// The package has no code of its own besides this comment: everything is
// in its tests, which `go test ./internal/system/` and .ci/run's own
// step run in a short form, without -race (under -race the test skips,
// pointing at that step); CHANCERY_SYSTEM_FULL=1 runs the full size.
//
// # Order per sender across replicas
//
// Every replica pulls from the missions' streams, but each mission's
// messages are received by one replica at a time, under a lease named
// after the mission (exchange.NodeOptions.ReceiveLease, internal/lease):
// several replicas pulling one consumer would each commit what they were
// handed, and a later report could be committed before an earlier one
// another replica still held. The holder commits only while the lease is
// still its own (checked in the delivery's transaction); another replica
// takes a mission over when the holder's lease runs out (it died or lost
// the database) and recreates the consumer, which delivers again from
// the first unacknowledged message, in order.
//
// # One ledger across replicas
//
// Every replica appends to the one audit ledger in PostgreSQL. An append
// stores the event with a provisional id (an identity column) and no
// sequence number; the integrator (audit.Ledger.Integrate, in every
// replica) gives the committed events without one their sequence numbers
// — their leaf indices — in one transaction that first locks the tree's
// row (SELECT … FOR UPDATE): it numbers them from the tree's size on,
// adds them to the tree and stores the new size with the new root. So
// two replicas never number at once, a number is given only to an event
// whose commit is visible, and an event committed late (a smaller
// provisional id committing after a larger one) is simply numbered in the
// next round: the leaf indices stay contiguous whatever the order of the
// commits and whichever replica integrates. A replica killed mid-way
// loses nothing: its transaction rolls back and the next integrator
// numbers the same events. The test checks this after every fault (the
// numbers are 0 … n-1 with no gap, and `chancery audit verify` passes).
package system
