package auth

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"chancery/internal/errs"
	"chancery/internal/i18n"
)

func TestHashVerifiesOnlyItsPassword(t *testing.T) {
	enc := hashPassword("correct horse battery staple", testParams)
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not in PHC form with the parameters", enc)
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{
		{"correct horse battery staple", true},
		{"correct horse battery stapl", false},
		{"Correct horse battery staple", false},
		{"", false},
	} {
		ok, _, err := verifyPassword(tc.password, enc, testParams)
		if err != nil || ok != tc.want {
			t.Errorf("verify %q = %v, %v; want %v", tc.password, ok, err, tc.want)
		}
	}
	if again := hashPassword("correct horse battery staple", testParams); again == enc {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

func TestVerifyReadsParametersFromTheHashAndFlagsWeakOnes(t *testing.T) {
	stronger := testParams
	stronger.Memory, stronger.Time = 128, 2
	for _, tc := range []struct {
		name      string
		made, now Params
		wantWeak  bool
	}{
		{"same parameters", testParams, testParams, false},
		{"memory raised since", testParams, Params{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"passes raised since", testParams, Params{Memory: 64, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"key lengthened since", testParams, Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 64}, true},
		{"lowered since", stronger, testParams, false},
		{"threads differ", Params{Memory: 64, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}, testParams, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc := hashPassword("pass phrase for the test", tc.made)
			ok, weak, err := verifyPassword("pass phrase for the test", enc, tc.now)
			if err != nil || !ok || weak != tc.wantWeak {
				t.Fatalf("verify = ok %v, weak %v, %v; want ok, weak %v", ok, weak, err, tc.wantWeak)
			}
		})
	}
}

func TestParseHashRefusesMalformedHashes(t *testing.T) {
	good := hashPassword("x", testParams)
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	for _, enc := range []string{
		"",
		"plain text",
		"$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1$" + salt + "$" + key,
		"$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1,x=2$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:10],
		"$argon2id$v=19$m=64,t=1,p=1$" + salt[:4] + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$!!!$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$",
	} {
		if _, _, _, err := parseHash(enc); !errors.Is(err, errMalformedHash) {
			t.Errorf("parseHash(%q) = %v; want errMalformedHash", enc, err)
		}
	}
	if _, _, _, err := parseHash(good); err != nil {
		t.Fatalf("parseHash(good) = %v", err)
	}
}

func TestCheckPasswordPolicy(t *testing.T) {
	for _, tc := range []struct {
		name, password, account string
		wantKey                 string // "" for accepted
	}{
		{"a long passphrase", "mây trắng bay qua đèo", "lan.nguyen", ""},
		{"exactly 12 characters", "abcdefgh1234", "lan.nguyen", ""},
		{"12 runes of Vietnamese", "đường phố hà", "lan.nguyen", ""},
		{"11 characters", "abcdefgh123", "lan.nguyen", "auth.password.short"},
		{"12 bytes but 6 runes", "đđđđđđ", "x", "auth.password.short"},
		{"129 characters", strings.Repeat("ab", 64) + "c", "lan.nguyen", "auth.password.long"},
		{"128 characters", strings.Repeat("ab", 64), "lan.nguyen", ""},
		{"invalid UTF-8", "abcdefghijk\xff", "lan.nguyen", "auth.password.utf8"},
		{"contains the username", "my-LAN.NGUYEN-password", "lan.nguyen", "auth.password.name"},
		{"contains the e-mail local part", "xx hoa.le is me xx", "hoa.le@example.com", "auth.password.name"},
		{"the domain is not the name", "example.com is my home", "hoa.le@example.com", ""},
		{"a 2-letter name is not refused", "abanana split with xy", "xy", ""},
		{"one character repeated", "aaaaaaaaaaaaaa", "lan.nguyen", "auth.password.repeated"},
		{"a common password", "Password1234", "lan.nguyen", "auth.password.common"},
		{"a common Vietnamese password", "matkhau123456", "lan.nguyen", "auth.password.common"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPassword(tc.password, tc.account)
			if tc.wantKey == "" {
				if err != nil {
					t.Fatalf("CheckPassword = %v; want accepted", err)
				}
				return
			}
			var fe *errs.FieldError
			var ae *authError
			if !errors.As(err, &fe) || fe.Field != "password" || !errors.As(err, &ae) || ae.key != tc.wantKey {
				t.Fatalf("CheckPassword = %v; want a FieldError on password with key %s", err, tc.wantKey)
			}
			if !texts.Has(ae.key) {
				t.Errorf("message key %s is not in the catalogue", ae.key)
			}
		})
	}
}

func TestPolicyMessagesNameTheLimits(t *testing.T) {
	for key, n := range map[string]int{"auth.password.short": MinPasswordLen, "auth.password.long": MaxPasswordLen} {
		for _, lang := range []i18n.Lang{i18n.VI, i18n.EN} {
			if msg := texts.T(lang, key); !strings.Contains(msg, fmt.Sprint(n)) {
				t.Errorf("%s in %s = %q; want it to name %d", key, lang, msg, n)
			}
		}
	}
}

func TestCommonPasswordListIsLoaded(t *testing.T) {
	if len(commonPasswords) < 50 {
		t.Fatalf("common password list holds %d entries; want the embedded list", len(commonPasswords))
	}
	for pw := range commonPasswords {
		if len([]rune(pw)) < MinPasswordLen {
			t.Errorf("%q is shorter than the length rule, so listing it is useless", pw)
		}
	}
}

func TestOneTimePasswordsAreReadableAndPassThePolicy(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		pw := oneTimePassword()
		if len(pw) != oneTimeLen || strings.Trim(pw, oneTimeAlphabet) != "" || strings.ContainsAny(pw, "0O1lI") {
			t.Fatalf("one-time password %q is not %d readable characters", pw, oneTimeLen)
		}
		if err := CheckPassword(pw, "lan.nguyen"); err != nil {
			t.Fatalf("one-time password %q fails the policy: %v", pw, err)
		}
		if seen[pw] {
			t.Fatalf("one-time password %q drawn twice", pw)
		}
		seen[pw] = true
	}
}
