package procedures

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"chancery/internal/errs"
)

// A printed result leads to its public verification page by a QR code
// of /verify/{code}/{token}. Dossier codes are sequential, so the code
// alone would let anyone walk them and learn who was granted what; the
// token, 128 bits derived from the result's signature, is known only to
// whoever holds the paper (or the file). Nothing is stored for it: it is
// recomputed from the signature kept with the dossier.

// verifyTokenBytes is the length of a verification token before encoding.
const verifyTokenBytes = 16

// VerifyToken returns the token of a signed result's verification address.
func (r SignedResult) VerifyToken() string {
	sum := sha256.Sum256([]byte("chancery result verification\x00" + r.KeyID + "\x00" + r.Signature))
	return base64.RawURLEncoding.EncodeToString(sum[:verifyTokenBytes])
}

// VerifyPath returns the path of the result's public verification page.
func (r SignedResult) VerifyPath() string {
	return "/verify/" + r.Document.DossierCode + "/" + r.VerifyToken()
}

// ResultCheck is what the public verification page says of a result: whether
// its signature verifies, with what key, and what the result states (what
// the paper itself shows, nothing more).
type ResultCheck struct {
	Document ResultDocument
	KeyID    string
	// Genuine reports whether the stored signature verifies against the
	// node's signing keys over the stored document.
	Genuine bool
}

// errVerifyNotFound is the one answer to every failed verification: an
// unknown code, a dossier without a result and a wrong token read the
// same, so that the page tells nothing about which dossiers exist.
var errVerifyNotFound = fmt.Errorf("%w: no electronic result has this address; check that the QR code or address was read whole", errs.ErrNotFound)

// CheckResult returns the check of the electronic result of the dossier
// with code to anyone who gives its verification token (from the QR code
// on the printed result). Every failure returns the same error, wrapping
// errs.ErrNotFound.
func (s *Service) CheckResult(ctx context.Context, code, token string) (ResultCheck, error) {
	code, token = strings.TrimSpace(code), strings.TrimSpace(token)
	d, err := s.load(ctx, s.db, code)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return ResultCheck{}, errVerifyNotFound
	case err != nil:
		return ResultCheck{}, err
	case !d.HasResult:
		return ResultCheck{}, errVerifyNotFound
	}
	res, err := parseResult(d.resultBlob, d.resultSig)
	if err != nil {
		return ResultCheck{}, err
	}
	if subtle.ConstantTimeCompare([]byte(res.VerifyToken()), []byte(token)) != 1 {
		return ResultCheck{}, errVerifyNotFound
	}
	genuine := s.VerifyResult(res.Raw, res.KeyID, res.Signature) == nil && res.Document.DossierCode == d.Code
	return ResultCheck{Document: res.Document, KeyID: res.KeyID, Genuine: genuine}, nil
}
