package records

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"chancery/internal/errs"
	"chancery/internal/store"
)

// Statement is what a signature of a document covers: the document, its
// number once issued, its content's digest and who signed in which
// capacity. It is stored and served as the exact JSON that was signed.
type Statement struct {
	Kind     string `json:"kind"` // signer | issuer
	Document int64  `json:"document"`
	Type     string `json:"type"`
	Number   string `json:"number,omitempty"`
	Subject  string `json:"subject"`
	// ContentSHA256 is the hex SHA-256 of the file, "" for none.
	ContentSHA256 string    `json:"content_sha256"`
	SignerID      int64     `json:"signer_id"`
	At            time.Time `json:"at"`
}

// Signature is a stored signature of a document, as the API carries it:
// the statement exactly as signed, the signing key's id and the Ed25519
// signature in base64, so a client verifies it byte for byte with the
// node's public key.
type Signature struct {
	Kind      string    `json:"kind"`
	Statement string    `json:"statement"`
	KeyID     string    `json:"key_id"`
	Signature string    `json:"signature"`
	At        time.Time `json:"at"`
}

// signDocument signs a statement of kind about r with the node's key and
// stores it in tx.
func (s *Service) signDocument(ctx context.Context, tx *store.Tx, r *row, kind string, signer int64, at time.Time) error {
	st := Statement{Kind: kind, Document: r.ID, Type: r.Type, Number: r.Number, Subject: r.Subject, SignerID: signer, At: at}
	c, ok, err := loadContent(ctx, tx, r.ID)
	if err != nil {
		return err
	}
	if ok {
		st.ContentSHA256 = hex.EncodeToString(c.SHA256)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("records: encode the signed statement: %w", err)
	}
	keyID, sig := s.opts.Ring.Sign(raw)
	return insertSignature(ctx, tx, r.ID, Signature{Kind: kind, Statement: string(raw), KeyID: keyID,
		Signature: base64.StdEncoding.EncodeToString(sig), At: at})
}

// VerifySignature reports whether signature (base64) by the node's key
// keyID covers statement exactly; it returns an error wrapping
// errs.ErrInvalid when it does not.
func (s *Service) VerifySignature(statement, keyID, signature string) error {
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return errs.Invalid("signature", "is not base64")
	}
	if err := s.opts.Ring.VerifyWithID(keyID, []byte(statement), sig); err != nil {
		return errs.Invalid("signature", "does not verify: "+err.Error())
	}
	return nil
}

func insertSignature(ctx context.Context, tx *store.Tx, docID int64, sg Signature) error {
	sig, err := base64.StdEncoding.DecodeString(sg.Signature)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO record_signatures (document_id, kind, statement, key_id, signature, at_us)
		VALUES (?, ?, ?, ?, ?, ?)`), docID, sg.Kind, []byte(sg.Statement), sg.KeyID, sig, store.Micros(sg.At))
	if err != nil {
		return fmt.Errorf("records: store the %s's signature: %w", sg.Kind, err)
	}
	return nil
}

func listSignatures(ctx context.Context, q store.Queryer, docID int64) ([]Signature, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT kind, statement, key_id, signature, at_us FROM record_signatures
		WHERE document_id = ? ORDER BY at_us, kind DESC`), docID)
	if err != nil {
		return nil, fmt.Errorf("records: signatures: %w", err)
	}
	defer rows.Close()
	out := []Signature{}
	for rows.Next() {
		var sg Signature
		var statement, sig []byte
		var at int64
		if err := rows.Scan(&sg.Kind, &statement, &sg.KeyID, &sig, &at); err != nil {
			return nil, err
		}
		sg.Statement, sg.Signature, sg.At = string(statement), base64.StdEncoding.EncodeToString(sig), store.FromMicros(at)
		out = append(out, sg)
	}
	return out, rows.Err()
}
