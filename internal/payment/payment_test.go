package payment

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"chancery/internal/errs"
)

var (
	testNow    = time.Date(2025, 3, 1, 8, 30, 0, 0, time.UTC)
	testSecret = bytes.Repeat([]byte{7}, SecretSize)
	testBody   = []byte(`{"transaction_id":"TX-0001","order_id":"000.00.03.G12-250301-0007","amount":30000,"currency":"VND","status":"paid","paid_at":"2025-03-01T15:29:00+07:00"}`)
)

func TestVerifyAcceptsOnlyAFreshGenuineSignature(t *testing.T) {
	other := bytes.Repeat([]byte{8}, SecretSize)
	sig := Sign(testSecret, testBody, testNow)
	v1 := strings.TrimPrefix(sig[strings.Index(sig, ",")+1:], "v1=")
	ts := sig[:strings.Index(sig, ",")]
	otherV1 := strings.TrimPrefix(strings.SplitN(Sign(other, testBody, testNow), ",", 2)[1], "v1=")
	tests := []struct {
		name    string
		secret  []byte
		header  string
		body    []byte
		now     time.Time
		kind    error // nil: accepted
		message string
	}{
		{"genuine", testSecret, sig, testBody, testNow, nil, ""},
		{"genuine, 4m59s late", testSecret, sig, testBody, testNow.Add(4*time.Minute + 59*time.Second), nil, ""},
		{"genuine, clock 5m behind", testSecret, sig, testBody, testNow.Add(-5 * time.Minute), nil, ""},
		{"spaces around elements", testSecret, " " + ts + " , v1=" + v1, testBody, testNow, nil, ""},
		{"rotation: old and new signatures, new matches", testSecret, ts + ",v1=" + otherV1 + ",v1=" + v1, testBody, testNow, nil, ""},
		{"unknown scheme ignored", testSecret, ts + ",v0=abc,v1=" + v1, testBody, testNow, nil, ""},
		{"tampered body", testSecret, sig, bytes.Replace(testBody, []byte("30000"), []byte("3000"), 1), testNow, errs.ErrForbidden, "does not match"},
		{"wrong secret", other, sig, testBody, testNow, errs.ErrForbidden, "does not match"},
		{"timestamp changed", testSecret, "t=" + "1740817801" + ",v1=" + v1, testBody, testNow, errs.ErrForbidden, "does not match"},
		{"stale", testSecret, sig, testBody, testNow.Add(5*time.Minute + time.Second), errs.ErrForbidden, "replayed"},
		{"from the future", testSecret, sig, testBody, testNow.Add(-5*time.Minute - time.Second), errs.ErrForbidden, "in the future"},
		{"missing header", testSecret, "", testBody, testNow, errs.ErrInvalid, "is missing"},
		{"no t", testSecret, "v1=" + v1, testBody, testNow, errs.ErrInvalid, "has no t"},
		{"no v1", testSecret, ts, testBody, testNow, errs.ErrInvalid, "no v1"},
		{"two t", testSecret, ts + "," + ts + ",v1=" + v1, testBody, testNow, errs.ErrInvalid, "more than one t"},
		{"t not a number", testSecret, "t=soon,v1=" + v1, testBody, testNow, errs.ErrInvalid, "seconds since 1970"},
		{"t with leading zero", testSecret, "t=0" + strings.TrimPrefix(ts, "t=") + ",v1=" + v1, testBody, testNow, errs.ErrInvalid, "seconds since 1970"},
		{"t negative", testSecret, "t=-1,v1=" + v1, testBody, testNow, errs.ErrInvalid, "seconds since 1970"},
		{"v1 short", testSecret, ts + ",v1=" + v1[:62], testBody, testNow, errs.ErrInvalid, "64 hex digits"},
		{"v1 not hex", testSecret, ts + ",v1=" + strings.Repeat("z", 64), testBody, testNow, errs.ErrInvalid, "64 hex digits"},
		{"element without =", testSecret, ts + ",v1", testBody, testNow, errs.ErrInvalid, "without '='"},
		{"five v1", testSecret, ts + strings.Repeat(",v1="+otherV1, 4) + ",v1=" + v1, testBody, testNow, errs.ErrInvalid, "more than 4"},
		{"header too long", testSecret, sig + ",x=" + strings.Repeat("a", maxHeaderLen), testBody, testNow, errs.ErrInvalid, "longer than"},
		{"body over the limit", testSecret, sig, bytes.Repeat([]byte(" "), MaxCallbackBytes+1), testNow, errs.ErrTooLarge, "over the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Verify(tt.secret, tt.header, tt.body, tt.now, 0)
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				want := Callback{TransactionID: "TX-0001", OrderID: "000.00.03.G12-250301-0007", Amount: 30000, Currency: VND, Status: StatusPaid}
				if !c.PaidAt.Equal(time.Date(2025, 3, 1, 8, 29, 0, 0, time.UTC)) {
					t.Errorf("paid_at %v", c.PaidAt)
				}
				c.PaidAt = time.Time{}
				if c != want {
					t.Errorf("Verify = %+v, want %+v", c, want)
				}
				return
			}
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("Verify = %v, want %v saying …%s…", err, tt.kind, tt.message)
			}
		})
	}
}

func TestVerifyHonoursTheToleranceGiven(t *testing.T) {
	sig := Sign(testSecret, testBody, testNow)
	if _, err := Verify(testSecret, sig, testBody, testNow.Add(90*time.Second), time.Minute); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("90 s late with a 1 min tolerance: %v, want ErrForbidden", err)
	}
	if _, err := Verify(testSecret, sig, testBody, testNow.Add(9*time.Minute), 10*time.Minute); err != nil {
		t.Errorf("9 min late with a 10 min tolerance: %v", err)
	}
}

func TestVerifyRefusesAShortSecret(t *testing.T) {
	short := testSecret[:16]
	_, err := Verify(short, Sign(short, testBody, testNow), testBody, testNow, 0)
	if err == nil || errors.Is(err, errs.ErrForbidden) || errors.Is(err, errs.ErrInvalid) {
		t.Errorf("Verify with a 16-byte secret = %v, want a configuration error of no kind", err)
	}
}

func TestSignMatchesAnHMACComputedByHand(t *testing.T) {
	// The digest was computed outside Go:
	//	echo -n '1740817800.{}' | openssl dgst -sha256 -mac HMAC -macopt hexkey:0707…07
	const want = "t=1740817800,v1=a9687bdabb7ffd1a8cadb8187bf5fcbe6298c84f161a64c60977dd4f2d1b0cd8"
	if got := Sign(testSecret, []byte(`{}`), time.Unix(1740817800, 0)); got != want {
		t.Errorf("Sign = %q,\nwant   %q", got, want)
	}
}
