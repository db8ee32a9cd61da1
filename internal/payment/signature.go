package payment

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"chancery/internal/errs"
)

// SignatureHeader is the HTTP header that carries a callback's signature.
const SignatureHeader = "Chancery-Payment-Signature"

// DefaultTolerance is how far a callback's timestamp may be from the
// merchant's clock, either way, when Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// MaxCallbackBytes bounds a callback body; a real one is under 300 bytes.
const MaxCallbackBytes = 4 << 10

// SecretSize is the size in bytes of a callback secret.
const SecretSize = 32

// maxSignatures bounds the v1 values one header may carry: two cover a
// secret rotation, and the bound caps the HMACs a forged header costs.
const maxSignatures = 4

// NewSecret returns a new random callback secret of SecretSize bytes.
func NewSecret() []byte {
	b := make([]byte, SecretSize)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read never fails; it crashes the program first
	return b
}

// EncodeSecret writes secret as configuration holds it: unpadded
// base64url, 43 characters for a SecretSize secret.
func EncodeSecret(secret []byte) string { return base64.RawURLEncoding.EncodeToString(secret) }

// ParseSecret reads a secret written by EncodeSecret, ignoring spaces
// around it. It refuses, with an error wrapping errs.ErrInvalid, text
// that is not unpadded base64url of exactly SecretSize bytes.
func ParseSecret(text string) ([]byte, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(strings.TrimSpace(text))
	if err != nil {
		return nil, fmt.Errorf("payment: %w: the callback secret is not unpadded base64url (A–Z, a–z, 0–9, - and _): %v", errs.ErrInvalid, err)
	}
	if len(b) != SecretSize {
		return nil, fmt.Errorf("payment: %w: the callback secret is %d bytes; it must be %d random bytes, %d characters of base64url", errs.ErrInvalid, len(b), SecretSize, base64.RawURLEncoding.EncodedLen(SecretSize))
	}
	return b, nil
}

// Sign returns the SignatureHeader value for body sent at now, signed
// with secret: "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>".
func Sign(secret, body []byte, now time.Time) string {
	t := strconv.FormatInt(now.Unix(), 10)
	return "t=" + t + ",v1=" + hex.EncodeToString(mac(secret, t, body))
}

func mac(secret []byte, t string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(t))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// maxHeaderLen bounds the header Verify reads.
const maxHeaderLen = 512

// Verify checks that header, the SignatureHeader of a callback received
// at now, signs body with secret within tolerance of now (DefaultTolerance
// if tolerance is zero or less), and returns the decoded callback.
//
// The header may carry several v1 signatures, as Stripe's does while a
// secret is rotated (the gateway then signs with the old and the new
// secret); Verify accepts the body if any of them, at most four, matches.
// Elements other than t and v1 are ignored, so that a gateway can add a
// scheme without breaking merchants.
//
// Verify refuses, with an error wrapping errs.ErrInvalid, a missing or
// malformed header or a body that DecodeCallback refuses; with
// errs.ErrTooLarge a body over MaxCallbackBytes; and with
// errs.ErrForbidden a signature that does not match or a timestamp
// outside the tolerance. Signatures are compared in constant time, and
// the body is decoded only once its signature matches. A secret shorter
// than SecretSize is a configuration error, returned without a kind.
//
// Verify does not detect a replay within the tolerance: the merchant
// must also refuse a TransactionID it has already recorded.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) (Callback, error) {
	if len(secret) < SecretSize {
		return Callback{}, fmt.Errorf("payment: the callback secret is %d bytes; it must be %d (see NewSecret)", len(secret), SecretSize)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if len(body) > MaxCallbackBytes {
		return Callback{}, fmt.Errorf("payment: %w: the callback body is over the limit of %d bytes", errs.ErrTooLarge, MaxCallbackBytes)
	}
	t, sigs, err := parseHeader(header)
	if err != nil {
		return Callback{}, err
	}
	want := mac(secret, t, body)
	matched := false
	for _, sig := range sigs {
		// Every candidate is compared, so the time taken does not tell
		// which one matched.
		matched = hmac.Equal(sig, want) || matched
	}
	if !matched {
		return Callback{}, fmt.Errorf("payment: %w: the %s does not match the body: the body was changed, or it was signed with another secret", errs.ErrForbidden, SignatureHeader)
	}
	unix, _ := strconv.ParseInt(t, 10, 64) // parseHeader checked it
	signed := time.Unix(unix, 0)
	switch age := now.Sub(signed); {
	case age > tolerance:
		return Callback{}, fmt.Errorf("payment: %w: the callback was signed at %s, %s ago, beyond the tolerance of %s: a delayed or replayed callback is refused", errs.ErrForbidden, signed.UTC().Format(time.RFC3339), age.Truncate(time.Second), tolerance)
	case -age > tolerance:
		return Callback{}, fmt.Errorf("payment: %w: the callback was signed at %s, %s in the future, beyond the tolerance of %s: check the gateway's and the merchant's clocks", errs.ErrForbidden, signed.UTC().Format(time.RFC3339), (-age).Truncate(time.Second), tolerance)
	}
	return DecodeCallback(body)
}

// parseHeader splits a SignatureHeader value into its timestamp, as
// written, and its v1 signatures.
func parseHeader(header string) (t string, sigs [][]byte, err error) {
	malformed := func(why string) error {
		return fmt.Errorf("payment: %w: the %s header %s; it must be t=<unix seconds>,v1=<64 hex digits>", errs.ErrInvalid, SignatureHeader, why)
	}
	switch {
	case header == "":
		return "", nil, malformed("is missing")
	case len(header) > maxHeaderLen:
		return "", nil, malformed(fmt.Sprintf("is longer than %d bytes", maxHeaderLen))
	}
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", nil, malformed(fmt.Sprintf("has an element %q without '='", part))
		}
		switch k {
		case "t":
			if t != "" {
				return "", nil, malformed("has more than one t")
			}
			if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 || strconv.FormatInt(n, 10) != v {
				return "", nil, malformed(fmt.Sprintf("has t=%q, not a count of seconds since 1970", v))
			}
			t = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return "", nil, malformed("has a v1 that is not 64 hex digits")
			}
			if len(sigs) == maxSignatures {
				return "", nil, malformed(fmt.Sprintf("has more than %d v1 signatures", maxSignatures))
			}
			sigs = append(sigs, sig)
		}
	}
	switch {
	case t == "":
		return "", nil, malformed("has no t")
	case len(sigs) == 0:
		return "", nil, malformed("has no v1 signature")
	}
	return t, sigs, nil
}
