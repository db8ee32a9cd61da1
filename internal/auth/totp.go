package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash"
	"net/url"
	"strings"
	"time"
)

// TOTP as RFC 6238 defines it and authenticator apps expect by default:
// HMAC-SHA1, 6 digits, 30-second steps.
const (
	totpDigits    = 6
	totpPeriod    = 30 // seconds
	totpSkew      = 1  // steps accepted either side of now, for clock drift
	totpSecretLen = 20 // bytes: SHA-1's block-friendly size, 160 bits
	// totpIssuer names the service in authenticator apps.
	totpIssuer = "Chancery"
)

// totpEncoding is the base32 alphabet of otpauth URIs, without padding.
var totpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newTOTPSecret returns 20 random bytes.
func newTOTPSecret() []byte {
	b := make([]byte, totpSecretLen)
	rand.Read(b)
	return b
}

// hotp is RFC 4226's HOTP value of key at counter, with digits digits,
// over HMAC-SHA1, the algorithm of the codes Chancery enrols.
func hotp(key []byte, counter uint64, digits int) string {
	return hotpWith(sha1.New, key, counter, digits)
}

// hotpWith is HOTP over the HMAC of h: RFC 6238 allows SHA-256 and
// SHA-512 too, and its test vectors check the dynamic truncation against
// each MAC length.
func hotpWith(h func() hash.Hash, key []byte, counter uint64, digits int) string {
	mac := hmac.New(h, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// totpStep returns the RFC 6238 time step of t.
func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// checkTOTP reports whether code is key's TOTP code for a step within
// totpSkew of now's and later than lastStep, and returns that step. The
// step must be stored as the new lastStep, so no code is accepted twice
// (RFC 6238 §5.2). code must be exactly six ASCII digits; spaces, which
// apps show in the middle, are ignored.
func checkTOTP(key []byte, code string, now time.Time, lastStep int64) (int64, bool) {
	code = strings.ReplaceAll(code, " ", "")
	if len(code) != totpDigits || strings.Trim(code, "0123456789") != "" {
		return 0, false
	}
	step := totpStep(now)
	var matched int64
	for s := step - totpSkew; s <= step+totpSkew; s++ {
		// Every candidate is computed and compared, matched or not, so
		// the time taken does not say which step matched.
		if subtle.ConstantTimeCompare([]byte(hotp(key, uint64(s), totpDigits)), []byte(code)) == 1 && s > lastStep {
			matched = s
		}
	}
	return matched, matched != 0
}

// TOTPURI returns the otpauth URI that authenticator apps import (usually
// from a QR code) for account with the base32 secret.
func TOTPURI(account, secret string) string {
	return "otpauth://totp/" + url.PathEscape(totpIssuer+":"+account) +
		"?secret=" + url.QueryEscape(secret) + "&issuer=" + url.QueryEscape(totpIssuer)
}

// GroupSecret writes a base32 secret in groups of four characters, the
// way people type it into an authenticator app by hand.
func GroupSecret(secret string) string {
	var b strings.Builder
	for i := 0; i < len(secret); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(secret[i:min(i+4, len(secret))])
	}
	return b.String()
}

// TOTPCode returns the code an authenticator app shows at t for the
// base32 secret (spaces and lower case allowed, as people copy it): what
// `chancery demo totp` prints for a demo account.
func TOTPCode(secret string, t time.Time) (string, error) {
	key, err := totpEncoding.DecodeString(strings.ToUpper(strings.ReplaceAll(secret, " ", "")))
	if err != nil || len(key) == 0 {
		return "", fmt.Errorf("auth: the TOTP secret is not base32 (letters A-Z and digits 2-7): %v", err)
	}
	return hotp(key, uint64(totpStep(t)), totpDigits), nil
}
