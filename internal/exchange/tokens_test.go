package exchange

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"chancery/internal/errs"
	"chancery/internal/store/storetest"
)

func TestClientTokensAreBoundToASubsystemOfThisNode(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := testCtx()
			tn := newTestNet(t, d)
			m := tn.mission
			tok, err := m.IssueToken(ctx, consular, "consular back office")
			if err != nil || !strings.HasPrefix(tok, ClientTokenPrefix) {
				t.Fatalf("IssueToken = %q, %v", tok, err)
			}
			other, err := m.IssueToken(ctx, consular, "second")
			if err != nil || other == tok {
				t.Fatalf("second token = %q, %v; want a different one", other, err)
			}
			if c, err := m.Client(ctx, tok); err != nil || c != consular {
				t.Fatalf("Client = %v, %v; want %v", c, err, consular)
			}
			for _, bad := range []string{"", "chx_", "chx_unknown", "not-a-client-token", tok + "x"} {
				if _, err := m.Client(ctx, bad); !errors.Is(err, ErrBadClientToken) || !errors.Is(err, errs.ErrUnauthenticated) {
					t.Errorf("Client(%q) = %v, want ErrBadClientToken", bad, err)
				}
			}
			// Headquarters' token does not work on the mission.
			hqTok, err := tn.hq.IssueToken(ctx, procedures, "procedures")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Client(ctx, hqTok); !errors.Is(err, ErrBadClientToken) {
				t.Errorf("the mission accepted headquarters' token: %v", err)
			}
			if _, err := m.IssueToken(ctx, procedures, "x"); !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), "served by node hq") {
				t.Errorf("IssueToken for headquarters' subsystem on the mission = %v", err)
			}
			if _, err := m.IssueToken(ctx, ClientID{"VN", "GOV", missionMember, "ghost"}, "x"); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("IssueToken for an unknown subsystem = %v, want not found", err)
			}
			if k, err := m.RevokeTokens(ctx, consular); err != nil || k != 2 {
				t.Fatalf("RevokeTokens = %d, %v; want 2", k, err)
			}
			if _, err := m.Client(ctx, tok); !errors.Is(err, ErrBadClientToken) {
				t.Errorf("a revoked token still works: %v", err)
			}
			if k, err := m.RevokeTokens(ctx, consular); err != nil || k != 0 {
				t.Errorf("revoking again = %d, %v; want 0", k, err)
			}
			// A token stops working when its subsystem moves to another
			// node.
			fresh, err := m.IssueToken(ctx, consular, "fresh")
			if err != nil {
				t.Fatal(err)
			}
			tn.publish(t, func(c *GlobalConf) {
				for i := range c.Members {
					if c.Members[i].Code == missionMember {
						c.Members[i].Node = "hq"
					}
				}
			})
			if _, err := m.Client(ctx, fresh); !errors.Is(err, ErrBadClientToken) {
				t.Errorf("a token of a subsystem no longer served here still works: %v", err)
			}
		})
	}
}

func TestClientTokenReadsOnlyBearerClientTokens(t *testing.T) {
	for _, tc := range []struct {
		header, want string
		ok           bool
	}{
		{"Bearer chx_abc", "chx_abc", true},
		{"bearer chx_abc", "chx_abc", true},
		{"Bearer cht_staff", "", false},
		{"Basic chx_abc", "", false},
		{"chx_abc", "", false},
		{"", "", false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tc.header != "" {
			r.Header.Set("Authorization", tc.header)
		}
		got, ok := ClientToken(r)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ClientToken(%q) = %q, %v; want %q, %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
}
