package auth

import (
	"net/url"
	"testing"
	"time"
)

// RFC 6238 Appendix B: the SHA-1 test vectors, secret "12345678901234567890".
func TestTOTPMatchesRFC6238Vectors(t *testing.T) {
	key := []byte("12345678901234567890")
	for _, tc := range []struct {
		unix int64
		want string // 8 digits, as the RFC lists them
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		step := totpStep(time.Unix(tc.unix, 0))
		if got := hotp(key, uint64(step), 8); got != tc.want {
			t.Errorf("TOTP at %d = %s; want %s", tc.unix, got, tc.want)
		}
		// Six digits are the last six of eight (10^6 divides 10^8).
		if got := hotp(key, uint64(step), totpDigits); got != tc.want[2:] {
			t.Errorf("6-digit TOTP at %d = %s; want %s", tc.unix, got, tc.want[2:])
		}
		if step, ok := checkTOTP(key, tc.want[2:], time.Unix(tc.unix, 0), 0); !ok || step != totpStep(time.Unix(tc.unix, 0)) {
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
