// Package detect is Sentinel's judgement: it reads the ledger's events one
// at a time, in sequence order, keeps a baseline of what is normal for each
// person and unit, and says when someone starts to take what they should
// not, as alerts that explain themselves and point at their evidence.
//
// It is pure domain logic: no HTTP, no SQL, no bus. The watcher
// (internal/sentinel) feeds it from the ledger's stream and stores what it
// says; `chancery sentinel replay` feeds it a ledger export; the evaluation
// feeds it generated activity with known insiders.
package detect

import (
	"time"

	"chancery/internal/audit"
	"chancery/internal/authz"
)

// Scorer is what the watcher and the replay command drive. Observe must be
// called with events in ascending sequence order, each once; the state it
// keeps is what MarshalState saves, so that a watcher restarted from a saved
// state and the stream position saved with it scores exactly as one that
// never stopped.
type Scorer interface {
	// Observe scores one event and returns the alerts it raises (usually
	// none). It never blocks on I/O.
	Observe(ev audit.Event) []Alert
	// Feedback tells the scorer how a security officer closed an alert, so
	// that a rule that keeps raising false positives for a person or unit
	// asks for more before it speaks again.
	Feedback(f Feedback)
	// MarshalState and UnmarshalState save and restore everything the
	// scorer has learnt.
	MarshalState() ([]byte, error)
	UnmarshalState(data []byte) error
}

// Alert is one detection: a rule or the model found that a person (or, for
// sign-in storms, an address or the node itself) did something unusual
// enough to show a security officer.
type Alert struct {
	// Rule is the detection's stable code, such as "bulk_read",
	// "off_hours", "new_address", "curiosity", "concealed_probes",
	// "exchange_volume", "privilege_then_use", "signin_failures",
	// "credential_stuffing", "lockout_storm", "anomaly".
	Rule string `json:"rule"`
	// User is the actor's username (the event's actor name); empty when
	// the alert is about an address or the node rather than a person.
	User      string `json:"user,omitempty"`
	ActorKind string `json:"actor_kind,omitempty"`
	ActorID   string `json:"actor_id,omitempty"`
	UnitID    int64  `json:"unit_id,omitempty"`
	// Address is the client address the evidence came from, when that is
	// what the alert is about (credential stuffing from one address).
	Address string `json:"address,omitempty"`
	// Score is how strongly this evidence alone points at insider risk,
	// 0–100; Risk is the person's risk score after it, 0–100, which decays
	// over days without new evidence.
	Score float64 `json:"score"`
	Risk  float64 `json:"risk"`
	// Title names what happened in a few words; Explanation says it in a
	// sentence with the numbers and the person's usual, such as "read 46
	// dossiers of units other than their own in 20 minutes; usual: 0–2 a
	// day". Both in Vietnamese and English.
	Title       Text `json:"title"`
	Explanation Text `json:"explanation"`
	// Events are the ledger sequence numbers of the evidence, ascending, at
	// most MaxEvidence.
	Events []uint64 `json:"events"`
	// First and Last are the times of the first and last evidence events.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Level is the highest classification among the evidence.
	Level authz.Level `json:"level"`
}

// MaxEvidence caps the ledger events an alert cites.
const MaxEvidence = 100

// Text is a sentence in both of the console's languages.
type Text struct {
	VI string `json:"vi"`
	EN string `json:"en"`
}

// Feedback is a security officer's verdict on an alert.
type Feedback struct {
	Rule         string
	User         string
	UnitID       int64
	TruePositive bool
}
