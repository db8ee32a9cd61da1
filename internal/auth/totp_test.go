package auth

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"net/url"
	"strings"
	"testing"
	"time"
)

// RFC 6238 Appendix B: every test vector, 8 digits, for HMAC-SHA1,
// -SHA256 and -SHA512 with the RFC's seeds ("1234567890" repeated to the
// hash's size). Chancery enrols SHA-1 codes of 6 digits: those are the
// last six of the SHA-1 vectors, and checkTOTP must accept them.
func TestTOTPMatchesRFC6238Vectors(t *testing.T) {
	seed := func(n int) []byte { return []byte(strings.Repeat("1234567890", 7)[:n]) }
	algs := []struct {
		name string
		h    func() hash.Hash
		key  []byte
	}{{"SHA1", sha1.New, seed(20)}, {"SHA256", sha256.New, seed(32)}, {"SHA512", sha512.New, seed(64)}}
	for _, tc := range []struct {
		unix int64
		step uint64    // T as the RFC lists it in hexadecimal
		want [3]string // SHA1, SHA256, SHA512
	}{
		{59, 0x1, [3]string{"94287082", "46119246", "90693936"}},
		{1111111109, 0x23523EC, [3]string{"07081804", "68084774", "25091201"}},
		{1111111111, 0x23523ED, [3]string{"14050471", "67062674", "99943326"}},
		{1234567890, 0x273EF07, [3]string{"89005924", "91819424", "93441116"}},
		{2000000000, 0x3F940AA, [3]string{"69279037", "90698825", "38618901"}},
		{20000000000, 0x27BC86AA, [3]string{"65353130", "77737706", "47863826"}},
	} {
		at := time.Unix(tc.unix, 0)
		if step := totpStep(at); uint64(step) != tc.step {
			t.Errorf("step at %d = %#x; want %#x", tc.unix, step, tc.step)
		}
		for i, alg := range algs {
			if got := hotpWith(alg.h, alg.key, tc.step, 8); got != tc.want[i] {
				t.Errorf("TOTP-%s at %d = %s; want %s", alg.name, tc.unix, got, tc.want[i])
			}
		}
		sha1Code := tc.want[0]
		if got := hotp(algs[0].key, tc.step, 8); got != sha1Code {
			t.Errorf("hotp (SHA-1) at %d = %s; want %s", tc.unix, got, sha1Code)
		}
		// Six digits are the last six of eight (10^6 divides 10^8).
		if got := hotp(algs[0].key, tc.step, totpDigits); got != sha1Code[2:] {
			t.Errorf("6-digit TOTP at %d = %s; want %s", tc.unix, got, sha1Code[2:])
		}
		if step, ok := checkTOTP(algs[0].key, sha1Code[2:], at, 0); !ok || uint64(step) != tc.step {
			t.Errorf("checkTOTP of the RFC's code at %d = %d, %v", tc.unix, step, ok)
		}
	}
}

func TestCheckTOTPWindowReplayAndFormat(t *testing.T) {
	key := []byte("12345678901234567890")
	now := time.Unix(1234567890, 0)
	step := totpStep(now)
	codeAt := func(s int64) string { return hotp(key, uint64(s), totpDigits) }
	for _, tc := range []struct {
		name     string
		code     string
		lastStep int64
		want     int64 // 0: refused
	}{
		{"current step", codeAt(step), 0, step},
		{"previous step (clock drift)", codeAt(step - 1), 0, step - 1},
		{"next step (clock drift)", codeAt(step + 1), 0, step + 1},
		{"two steps old", codeAt(step - 2), 0, 0},
		{"two steps ahead", codeAt(step + 2), 0, 0},
		{"replay of the step used", codeAt(step), step, 0},
		{"an older step after a newer was used", codeAt(step - 1), step, 0},
		{"a newer step after an older was used", codeAt(step + 1), step, step + 1},
		{"spaces as apps show them", codeAt(step)[:3] + " " + codeAt(step)[3:], 0, step},
		{"five digits", codeAt(step)[:5], 0, 0},
		{"seven digits", codeAt(step) + "0", 0, 0},
		{"letters", "abcdef", 0, 0},
		{"empty", "", 0, 0},
		{"full-width digits", "１２３４５６", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := checkTOTP(key, tc.code, now, tc.lastStep)
			if ok != (tc.want != 0) || got != tc.want {
				t.Fatalf("checkTOTP(%q) = %d, %v; want %d", tc.code, got, ok, tc.want)
			}
		})
	}
}

func TestTOTPURIForAuthenticatorApps(t *testing.T) {
	secret := totpEncoding.EncodeToString([]byte("12345678901234567890"))
	uri := TOTPURI("minh.tran", secret)
	want := "otpauth://totp/Chancery:minh.tran?secret=" + secret + "&issuer=Chancery"
	if uri != want {
		t.Fatalf("TOTPURI = %q; want %q", uri, want)
	}
	u, err := url.Parse(TOTPURI("a b/c", secret))
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Chancery:a b/c" || u.Query().Get("secret") != secret {
		t.Fatalf("TOTPURI with an odd account name does not round-trip: %v %+v", err, u)
	}
	if len(secret) != 32 {
		t.Fatalf("a 20-byte secret is %d base32 characters; want 32 without padding", len(secret))
	}
}

func TestGroupSecretInFours(t *testing.T) {
	for in, want := range map[string]string{
		"":                                 "",
		"ABC":                              "ABC",
		"ABCD":                             "ABCD",
		"ABCDEFGHIJ":                       "ABCD EFGH IJ",
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ": "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ",
	} {
		if got := GroupSecret(in); got != want {
			t.Errorf("GroupSecret(%q) = %q; want %q", in, got, want)
		}
	}
}

// TestTOTPCodeOfABase32Secret: TOTPCode reads the secret as people copy
// it from the demo's banner (grouped, any case) and gives the RFC 6238
// code; a secret that is not base32 is refused.
func TestTOTPCodeOfABase32Secret(t *testing.T) {
	secret := totpEncoding.EncodeToString([]byte("12345678901234567890"))
	for _, s := range []string{secret, strings.ToLower(GroupSecret(secret))} {
		got, err := TOTPCode(s, time.Unix(1111111109, 0))
		if err != nil || got != "081804" {
			t.Errorf("TOTPCode(%q) = %q, %v; want 081804", s, got, err)
		}
	}
	for _, bad := range []string{"", "not base32!", "18181818"} {
		if got, err := TOTPCode(bad, time.Now()); err == nil {
			t.Errorf("TOTPCode(%q) = %q, want an error", bad, got)
		}
	}
}
