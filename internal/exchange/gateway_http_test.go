package exchange

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"testing"

	"chancery/internal/errs"
	"chancery/internal/web"
)

// Every problem code the gateway gives is snake_case, as the rest of the
// API's are (wrong_credentials, managed_at_headquarters).
func TestGatewayCodesAreSnakeCase(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	cases := []error{context.Canceled, ErrConfExpired, ErrNoConf, ErrProviderUnreachable, ErrGatewayTimeout, ErrBadGateway,
		errs.ErrUnauthenticated, errs.Invalid("level", "x"), errs.ErrTooLarge, errs.ErrForbidden, errs.ErrNotFound, errs.ErrConflict, errors.New("x")}
	for _, r := range []Reason{ReasonMalformed, ReasonBadSignature, ReasonBadCiphertext, ReasonStale, ReasonReplay, ReasonRevoked,
		ReasonWrongRecipient, ReasonUnknownSender, ReasonSpoofedSender, ReasonUnknownService, ReasonNoRight, ReasonClearance, ReasonTooLarge} {
		cases = append(cases, refuse(r, "x"))
	}
	for _, err := range cases {
		if code := gatewayCode(err, web.Status(err)); !snake.MatchString(code) {
			t.Errorf("%v: code %q is not snake_case", err, code)
		}
	}
	if code := gatewayCode(refuse(ReasonNoRight, "x"), http.StatusForbidden); code != "no_access_right" {
		t.Errorf("a refusal for want of a right: code %q, want no_access_right", code)
	}
}
