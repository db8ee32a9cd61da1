package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"chancery/internal/audit"
	"chancery/internal/audit/audittest"
	"chancery/internal/authz"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// testParams make hashing cheap: tests pin behaviour, not cost.
var testParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// testSealer is AES-GCM under a random key, binding purpose and
// additional data as internal/keys does.
type testSealer struct{ aead cipher.AEAD }

func newTestSealer(t testing.TB) *testSealer {
	key := make([]byte, 32)
	rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return &testSealer{aead: aead}
}

func sealerAD(purpose string, ad []byte) []byte { return append([]byte(purpose+"\x00"), ad...) }

func (s *testSealer) Seal(_ context.Context, purpose string, plaintext, ad []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plaintext, sealerAD(purpose, ad)), nil
}

func (s *testSealer) Open(_ context.Context, purpose string, ciphertext, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(ciphertext) < n {
		return nil, errors.New("test sealer: ciphertext too short")
	}
	return s.aead.Open(nil, ciphertext[:n], ciphertext[n:], sealerAD(purpose, ad))
}

// testCtx is the context of the changes tests make as administrators do:
// as the system actor "test", as the command line acts as "cli".
var testCtx = audit.WithOrigin(context.Background(), audit.Origin{Actor: audit.System("test")})

// testPassword passes the policy for every account the fixture makes.
const testPassword = "correct horse battery staple"

// fixture is a migrated database with the real directory and a Service
// on a test clock, both recording in the real audit ledger, holding a unit, a staff member without clearance
// (plain), one cleared for Secret (cleared), and a citizen, each with
// testPassword.
type fixture struct {
	opts    Options // the service's, as newFixture completed them
	db      *store.DB
	sealer  *testSealer
	ledger  *audit.Ledger
	dir     *identity.Service
	svc     *Service
	clock   *storetest.Clock
	unit    identity.Unit
	plain   identity.StaffMember
	cleared identity.StaffMember
	citizen identity.Citizen
}

// newFixture builds a fixture on db; opts' clock, parameters and
// recorder are the fixture's unless set.
func newFixture(t testing.TB, db *store.DB, opts Options) *fixture {
	t.Helper()
	ctx := testCtx
	f := &fixture{db: db, clock: storetest.NewClock(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)), ledger: audittest.MustLedger(t, db)}
	if opts.Now == nil {
		opts.Now = f.clock.Now
	}
	if opts.Params == (Params{}) {
		opts.Params = testParams
	}
	if opts.Recorder == nil {
		opts.Recorder = f.ledger
	}
	f.dir = identity.NewService(db, f.ledger, opts.Now)
	f.opts = opts
	f.sealer = newTestSealer(t)
	f.svc = New(db, f.dir, f.sealer, opts)
	var err error
	f.unit, err = f.dir.CreateUnit(ctx, "test", identity.NewUnit{Code: "000.00.00.G12", NameVI: "Bộ Ngoại giao",
		NameEN: "Ministry of Foreign Affairs", Kind: identity.KindMinistry, Country: "VN", TimeZone: "Asia/Ho_Chi_Minh"})
	if err != nil {
		t.Fatal(err)
	}
	f.plain = f.staff(t, "lan.nguyen", authz.Unclassified)
	f.cleared = f.staff(t, "minh.tran", authz.Secret)
	f.citizen, err = f.dir.CreateCitizen(ctx, identity.NewCitizen{Email: "hoa.le@example.com", FullName: "Lê Thị Hoa"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPassword(ctx, authz.Citizen, f.citizen.ID, testPassword, false); err != nil {
		t.Fatal(err)
	}
	return f
}

// replica returns another Service on the fixture's database, keys and
// clock, as a second headquarters replica has: it shares nothing with
// f.svc but the database.
func (f *fixture) replica() *Service {
	return New(f.db, identity.NewService(f.db, f.ledger, f.opts.Now), f.sealer, f.opts)
}

// staff creates a staff member with testPassword.
func (f *fixture) staff(t testing.TB, username string, clearance authz.Level) identity.StaffMember {
	t.Helper()
	ctx := testCtx
	m, err := f.dir.SeedStaff(ctx, "test", identity.NewStaff{Username: username, FullName: "Nguyễn Văn " + username,
		UnitID: f.unit.ID, Roles: authz.RolesOf(authz.Clerk), Clearance: clearance})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPassword(ctx, authz.Staff, m.ID, testPassword, false); err != nil {
		t.Fatal(err)
	}
	return m
}

// login signs username in as staff with testPassword and code.
func (f *fixture) login(username, code string) (Session, error) {
	return f.svc.Login(context.Background(), LoginRequest{Kind: authz.Staff, Username: username, Password: testPassword,
		TOTP: code, Address: "192.0.2.1"})
}

// enroll gives staff member m a TOTP second factor and returns its secret;
// the clock then moves to the next time step, so that a code for the
// next sign-in is not a replay of the one that confirmed.
func (f *fixture) enroll(t testing.TB, m identity.StaffMember) string {
	t.Helper()
	ctx := testCtx
	secret := f.startEnrolment(t, ctx, m)
	if err := f.svc.ConfirmTOTP(ctx, authz.Staff, m.ID, f.code(t, secret)); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(totpPeriod * time.Second)
	return secret
}

// startEnrolment starts enrolling a second factor for m, as ctx's actor,
// with an enrolment code the test actor issues, and returns its secret.
func (f *fixture) startEnrolment(t testing.TB, ctx context.Context, m identity.StaffMember) string {
	t.Helper()
	code, _, err := f.svc.IssueEnrolmentCode(testCtx, authz.Staff, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := f.svc.StartTOTPEnrolment(ctx, authz.Staff, m.ID, code)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// code returns the TOTP code of the base32 secret at the clock's time.
func (f *fixture) code(t testing.TB, secret string) string {
	t.Helper()
	key, err := totpEncoding.DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return hotp(key, uint64(totpStep(f.clock.Now())), totpDigits)
}
