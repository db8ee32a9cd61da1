package payment

import (
	"errors"
	"strings"
	"testing"
	"time"

	"chancery/internal/errs"
)

func TestDecodeCallbackNamesTheFieldAtFault(t *testing.T) {
	valid := string(testBody)
	tests := []struct {
		name, body, field, fault string
	}{
		{"unknown field", strings.Replace(valid, `"status"`, `"note":"x","status"`, 1), "note", "not a field"},
		{"amount zero", strings.Replace(valid, "30000", "0", 1), "amount", "from 1"},
		{"amount negative", strings.Replace(valid, "30000", "-30000", 1), "amount", "from 1"},
		{"amount a fraction", strings.Replace(valid, "30000", "300.5", 1), "amount", "wrong JSON type"},
		{"amount a string", strings.Replace(valid, "30000", `"30000"`, 1), "amount", "wrong JSON type"},
		{"amount over the maximum", strings.Replace(valid, "30000", "1000000000001", 1), "amount", "from 1"},
		{"currency unknown", strings.Replace(valid, "VND", "EUR", 1), "currency", "VND or USD"},
		{"currency lower case", strings.Replace(valid, "VND", "vnd", 1), "currency", "VND or USD"},
		{"status unknown", strings.Replace(valid, `"paid",`, `"refunded",`, 1), "status", `"paid" or "cancelled"`},
		{"transaction id with a slash", strings.Replace(valid, "TX-0001", "TX/0001", 1), "transaction_id", "ASCII letters"},
		{"transaction id empty", strings.Replace(valid, "TX-0001", "", 1), "transaction_id", "ASCII letters"},
		{"order id too long", strings.Replace(valid, "000.00.03.G12-250301-0007", strings.Repeat("A", 65), 1), "order_id", "1 to 64"},
		{"paid_at without offset", strings.Replace(valid, "+07:00", "", 1), "paid_at", "RFC 3339"},
		{"paid_at a number", strings.Replace(valid, `"2025-03-01T15:29:00+07:00"`, "1740817740", 1), "paid_at", "wrong JSON type"},
		{"missing status", strings.Replace(valid, `"status":"paid",`, "", 1), "status", "is required"},
		{"null amount", strings.Replace(valid, "30000", "null", 1), "amount", "is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeCallback([]byte(tt.body))
			fe, ok := errors.AsType[*errs.FieldError](err)
			if !ok {
				t.Fatalf("DecodeCallback = %v, want a FieldError for %s", err, tt.field)
			}
			if fe.Field != tt.field || !strings.Contains(fe.Message, tt.fault) {
				t.Errorf("FieldError %s: %q, want %s: …%s…", fe.Field, fe.Message, tt.field, tt.fault)
			}
		})
	}
}

func TestDecodeCallbackRefusesBodiesThatAreNotOneObject(t *testing.T) {
	valid := string(testBody)
	for _, body := range []string{"", "null", "[]", valid + valid, valid[:len(valid)-1], valid + "}", strings.Replace(valid, "TX", "\xff", 1)} {
		if _, err := DecodeCallback([]byte(body)); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("DecodeCallback(%q) = %v, want ErrInvalid", body, err)
		}
	}
}

func TestCallbackRoundTripsThroughJSON(t *testing.T) {
	want := Callback{TransactionID: "T1", OrderID: "O-1", Amount: 25, Currency: USD, Status: StatusCancelled,
		PaidAt: time.Date(2025, 3, 1, 8, 30, 0, 0, time.UTC)}
	b, err := want.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeCallback(b)
	if err != nil {
		t.Fatalf("DecodeCallback(%s): %v", b, err)
	}
	if got != want {
		t.Errorf("round trip: %+v, want %+v", got, want)
	}
}

func validOrder() Order {
	return Order{OrderID: "000.00.03.G12-250301-0007", Amount: 30000, Currency: VND, Description: "Lệ phí hợp pháp hóa lãnh sự",
		ReturnURL: "https://chancery.example/payments/return", CallbackURL: "http://127.0.0.1:8080/payments/callback"}
}

func TestOrderValidateNamesTheFieldAtFault(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(*Order)
		field string
		fault string
	}{
		{"valid", func(*Order) {}, "", ""},
		{"order id with a space", func(o *Order) { o.OrderID = "A 1" }, "order_id", "ASCII"},
		{"order id in Vietnamese", func(o *Order) { o.OrderID = "HồSơ1" }, "order_id", "ASCII"},
		{"order id starting with a dot", func(o *Order) { o.OrderID = ".A" }, "order_id", "starting with a letter"},
		{"amount zero", func(o *Order) { o.Amount = 0 }, "amount", "from 1"},
		{"currency missing", func(o *Order) { o.Currency = "" }, "currency", "VND or USD"},
		{"description blank", func(o *Order) { o.Description = "  " }, "description", "is required"},
		{"description with a line break", func(o *Order) { o.Description = "a\nb" }, "description", "control characters"},
		{"description too long", func(o *Order) { o.Description = strings.Repeat("ệ", 256) }, "description", "255"},
		{"return url relative", func(o *Order) { o.ReturnURL = "/payments/return" }, "return_url", "absolute http"},
		{"return url javascript", func(o *Order) { o.ReturnURL = "javascript:alert(1)" }, "return_url", "absolute http"},
		{"return url with a password", func(o *Order) { o.ReturnURL = "https://u:p@chancery.example/" }, "return_url", "password"},
		{"return url with a fragment", func(o *Order) { o.ReturnURL = "https://chancery.example/#x" }, "return_url", "fragment"},
		{"callback url missing", func(o *Order) { o.CallbackURL = "" }, "callback_url", "is required"},
		{"callback url ftp", func(o *Order) { o.CallbackURL = "ftp://chancery.example/cb" }, "callback_url", "absolute http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := validOrder()
			tt.mod(&o)
			err := o.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			fe, ok := errors.AsType[*errs.FieldError](err)
			if !ok || fe.Field != tt.field || !strings.Contains(fe.Message, tt.fault) {
				t.Errorf("Validate = %v, want %s: …%s…", err, tt.field, tt.fault)
			}
		})
	}
}

func TestDecodeOrderRefusesUnknownFields(t *testing.T) {
	_, err := DecodeOrder([]byte(`{"order_id":"A1","amount":1,"currency":"VND","description":"x","return_url":"https://a.example/","callback_url":"https://a.example/cb","tip":5}`))
	if fe, ok := errors.AsType[*errs.FieldError](err); !ok || fe.Field != "tip" {
		t.Errorf("DecodeOrder with an unknown field = %v, want a FieldError for tip", err)
	}
}

func TestFormatAmountGroupsThousands(t *testing.T) {
	for _, tt := range []struct {
		amount   int64
		currency string
		want     string
	}{
		{30000, VND, "30.000 ₫"}, {1, VND, "1 ₫"}, {999, VND, "999 ₫"}, {1000, VND, "1.000 ₫"},
		{1234567, VND, "1.234.567 ₫"}, {25, USD, "25 US$"}, {100000, USD, "100.000 US$"},
	} {
		if got := FormatAmount(tt.amount, tt.currency); got != tt.want {
			t.Errorf("FormatAmount(%d, %s) = %q, want %q", tt.amount, tt.currency, got, tt.want)
		}
	}
}

func TestSecretsRoundTripAsText(t *testing.T) {
	s := NewSecret()
	if len(s) != SecretSize {
		t.Fatalf("NewSecret: %d bytes", len(s))
	}
	text := EncodeSecret(s)
	if len(text) != 43 {
		t.Errorf("EncodeSecret: %d characters, want 43", len(text))
	}
	got, err := ParseSecret(" " + text + "\n")
	if err != nil || string(got) != string(s) {
		t.Errorf("ParseSecret(EncodeSecret(s)) = %x, %v; want %x", got, err, s)
	}
	for _, bad := range []string{"", text[:42], text + "A", text + "=", strings.Replace(text, text[:1], "+", 1), EncodeSecret(s[:16])} {
		if _, err := ParseSecret(bad); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("ParseSecret(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func FuzzVerify(f *testing.F) {
	sig := Sign(testSecret, testBody, testNow)
	f.Add(sig, testBody)
	f.Add(sig, []byte(`{"transaction_id":"T","order_id":"O","amount":1,"currency":"USD","status":"cancelled","paid_at":"2025-03-01T08:30:00Z"}`))
	f.Add("t=1740817800,v1=00", []byte(`{}`))
	f.Add("", []byte(`[]`))
	f.Add(sig+",v1="+strings.Repeat("0", 64), testBody)
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		// A body the fuzzer made up is signed genuinely, so that the
		// decoder behind the signature check is reached; the header the
		// fuzzer made up must never pass unless it is that signature.
		genuine := Sign(testSecret, body, testNow)
		for _, h := range []string{header, genuine} {
			c, err := Verify(testSecret, h, body, testNow, 0)
			if err != nil {
				if !errors.Is(err, errs.ErrInvalid) && !errors.Is(err, errs.ErrForbidden) && !errors.Is(err, errs.ErrTooLarge) {
					t.Fatalf("Verify(%q, %q) = %v, of no expected kind", h, body, err)
				}
				continue
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("Verify accepted %q, which Validate refuses: %v", body, err)
			}
			if h != genuine && !strings.Contains(h, strings.SplitN(genuine, ",", 2)[1]) {
				t.Fatalf("Verify accepted header %q, which lacks the genuine signature %q", h, genuine)
			}
			if again, err := DecodeCallback(mustMarshal(t, c)); err != nil || again != c {
				t.Fatalf("accepted callback %+v does not round-trip: %+v, %v", c, again, err)
			}
		}
	})
}

func mustMarshal(t *testing.T, c Callback) []byte {
	t.Helper()
	b, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
