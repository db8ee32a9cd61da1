package auth

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters. They are written into every hash,
// so raising them later leaves old hashes verifiable; a hash made with
// lower ones is replaced at the account's next successful sign-in.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams cost about 90 ms of CPU per hash (about 50 ms of wall
// time on two cores) on the 2-core machines Chancery is sized for: slow
// enough to make guessing a stolen hash expensive, fast enough for a
// sign-in. BenchmarkPasswordHash measures them.
var DefaultParams = Params{Memory: 64 * 1024, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}

// Bounds on the parameters read back from a stored hash, so a corrupted
// or planted row cannot make verification allocate without limit.
const (
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 64
	maxKeyLen  = 64
	maxSaltLen = 64
)

// hashPassword returns the PHC string form of password's argon2id hash
// with a fresh random salt:
//
//	$argon2id$v=19$m=65536,t=2,p=2$<salt>$<hash>
func hashPassword(password string, p Params) string {
	salt := make([]byte, p.SaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// errMalformedHash reports a stored hash that is not one this package
// wrote; it is a server-side fault, never the user's.
var errMalformedHash = errors.New("auth: malformed password hash")

// parseHash splits a PHC string into its parameters, salt and key.
func parseHash(encoded string) (Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, fmt.Errorf("%w: want $argon2id$v=…$m=…,t=…,p=…$salt$hash", errMalformedHash)
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Params{}, nil, nil, fmt.Errorf("%w: unsupported argon2 version %q", errMalformedHash, parts[2])
	}
	var p Params
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || n != 3 ||
		fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads) != parts[3] {
		return Params{}, nil, nil, fmt.Errorf("%w: parameters %q", errMalformedHash, parts[3])
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err := errors.Join(err1, err2); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %v", errMalformedHash, err)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime || p.Threads < 1 ||
		p.KeyLen < 16 || p.KeyLen > maxKeyLen || p.SaltLen < 8 || p.SaltLen > maxSaltLen {
		return Params{}, nil, nil, fmt.Errorf("%w: parameters out of range", errMalformedHash)
	}
	return p, salt, key, nil
}

// verifyPassword reports whether password matches the PHC string encoded,
// comparing in constant time, and whether the hash was made with
// parameters weaker than current, so the caller should store a new one.
func verifyPassword(password, encoded string, current Params) (ok, weak bool, err error) {
	p, salt, key, err := parseHash(encoded)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	ok = subtle.ConstantTimeCompare(got, key) == 1
	weak = p.Memory < current.Memory || p.Time < current.Time || p.KeyLen < current.KeyLen || p.SaltLen < current.SaltLen
	return ok, weak, nil
}

// Password policy limits, in characters (runes).
const (
	MinPasswordLen = 12
	MaxPasswordLen = 128
)

//go:embed common_passwords.txt
var commonPasswordList []byte

// commonPasswords holds, lower-cased, the most common passwords long
// enough to pass the length rule: the first ones any guesser tries.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(commonPasswordList))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			m[strings.ToLower(line)] = true
		}
	}
	return m
}()

// passwordIdentifiers returns what a password of the account named name
// must not contain: the name itself, or for an e-mail address its local
// part. Identifiers shorter than three characters are too likely to occur
// by chance to forbid.
func passwordIdentifiers(name string) []string {
	name = strings.ToLower(strings.TrimSpace(name))
	if at := strings.LastIndexByte(name, '@'); at >= 0 {
		name = name[:at]
	}
	if utf8.RuneCountInString(name) < 3 {
		return nil
	}
	return []string{name}
}

// CheckPassword applies the password policy to password for the account
// named name (a staff username or a citizen's e-mail address): 12 to 128
// characters of valid UTF-8, not containing the username or the e-mail
// address's local part, not one character repeated, and not one of the
// most common passwords. A refusal is an *errs.FieldError on "password"
// saying which rule failed.
func CheckPassword(password, name string) error {
	switch n := utf8.RuneCountInString(password); {
	case !utf8.ValidString(password):
		return fieldError("password", "auth.password.utf8", "must be valid UTF-8 text")
	case n < MinPasswordLen:
		return fieldError("password", "auth.password.short", fmt.Sprintf("must be at least %d characters long; a passphrase of a few words is easy to remember", MinPasswordLen))
	case n > MaxPasswordLen:
		return fieldError("password", "auth.password.long", fmt.Sprintf("must be at most %d characters long", MaxPasswordLen))
	}
	lower := strings.ToLower(password)
	for _, id := range passwordIdentifiers(name) {
		if strings.Contains(lower, id) {
			return fieldError("password", "auth.password.name", "must not contain your username or e-mail name")
		}
	}
	if first, _ := utf8.DecodeRuneInString(password); strings.Trim(password, string(first)) == "" {
		return fieldError("password", "auth.password.repeated", "must not be one character repeated")
	}
	if commonPasswords[lower] {
		return fieldError("password", "auth.password.common", "is one of the most common passwords, which are tried first; choose another")
	}
	return nil
}
