// Package exchange is the data exchange between the ministry's
// information systems, at headquarters and at every mission, in the
// manner of X-Road: each site runs a node; a system talks only to its own
// node, with a client token; nodes talk to each other over NATS, the
// missions' nodes through a leaf link to headquarters' server. What may
// go where is the global configuration's to say (conf.go), which
// headquarters signs and every node enforces, offline too.
//
// Two kinds of service cross it. An asynchronous message is stored and
// forwarded: durable at once on the sending node, delivered exactly once
// to the recipient's inbox (or webhook) whenever the link allows, in
// order per sender. A synchronous call is an HTTP request passed to a
// REST service's backend at the provider's node, and its answer back,
// while the caller waits.
//
// Every envelope either way is sealed under a session between the two
// nodes (session.go, kem.go: a signed hybrid handshake, then AES-GCM),
// signed in batches (envelope.go: one signature over a Merkle root), and
// logged on both nodes with its digest (msglog.go), which the log signer
// signs in batches and the audit ledger records: every message has an
// inclusion proof (proof.go).
//
// # An asynchronous message's path, file by file
//
//  1. send.go: Node.Send checks the message against the configuration
//     (checkOutgoing), seals its body for the log, and hands it to the
//     destination node's committer, which writes the sends queued at once
//     in one transaction as 'pending' rows (msglog.go logOutgoing). Send
//     returns when its row is committed: the log is the outbox.
//     circular.go: Node.Publish sends one message to many recipients (a
//     list, or every mission offering the service) as one ordinary copy
//     per recipient, all written with the circular in one transaction
//     and handed to each destination's publisher as its committer would.
//  2. publish.go: the destination's publisher takes the committed groups
//     in order, seals them into signed batches under the session with
//     the destination (envelope.go SealBatch), publishes them to this
//     node's JetStream stream, in chunks if the bus needs it
//     (publishWire), and, once the stream has them, marks the rows sent
//     (msglog.go markSent). What is left pending (a failed publish, a
//     restart) is read back and published again.
//  3. receive.go: on the destination node, a consumer loop per source
//     pulls from the source's stream across the leaf link (consume),
//     watching for lost deliveries to keep the order.
//  4. assemble.go: the chunks of a batch are put back together.
//  5. receive.go again: each batch is opened and verified (OpenBatch),
//     each envelope checked against the configuration (checkIncoming),
//     and the deliveries and refusals are committed in one transaction
//     (msglog.go logIncoming) before the batch is acknowledged; a copy
//     already logged is dropped, so a redelivery delivers nothing twice.
//  6. inbox.go, webhook.go, deadletter.go: the recipient reads and
//     acknowledges its inbox, or its webhook is pushed; what the webhook
//     keeps refusing becomes a dead letter.
//  7. receipt.go: a circular's copy asks for a receipt; the recipient's
//     node writes it, signed, in the transaction that logs the copy
//     (delivered, or dead when refused) or moves it to the dead letters
//     (dead), as a pending outgoing row that takes steps 2 to 5 back to
//     the sender, whose node checks it and keeps it on the circular's
//     row for CircularStatus.
//
// # A synchronous call's path
//
//  1. gateway_http.go: the caller's system calls /exchange/v1/{service}/…
//     on its own node, authenticated by its client token (tokens.go,
//     tokencache.go).
//  2. gateway_call.go: Node.Call checks the call, seals the request
//     envelope (encoded by wire.go) and sends it in a NATS request to the
//     provider's node.
//  3. gateway_serve.go: the provider's node opens it, refuses a replay
//     (replay.go), checks it, calls the backend and seals the answer
//     back.
//  4. msglog.go: both nodes queue both envelopes' rows with the log's
//     write-behind, which commits them behind the answers.
//
// # Around the path
//
// transport.go runs a node's asynchronous side (Node.Run): the stream,
// the loops above, the log signer, the retention, the link monitor
// (monitor.go) and the distribution of the configuration (confdist.go).
// The writes to the message log, and the transport's other writes, go
// through the node's group-commit writer (store.Writer); the log's SQL
// is in sql.go. enrol.go
// and leaf.go join a mission to headquarters; registry is headquarters'
// register of members, subsystems and services; api_*.go, page_*.go and
// cli.go are the operators' side.
package exchange
