package config

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestEnvironmentTwinsSetDefaultsAndFlagsWin(t *testing.T) {
	t.Setenv("CHANCERY_DB", "postgres://from-env/db")
	t.Setenv("CHANCERY_ADDR", "127.0.0.1:9999")
	t.Setenv("CHANCERY_DEMO", "true")
	t.Setenv("CHANCERY_AUDIT_ORIGIN", "chancery.mofa.gov.vn/audit/hanoi")
	t.Setenv("CHANCERY_AUDIT_CHECKPOINT_INTERVAL", "1m")
	c, err := ParseServe([]string{"--addr", "127.0.0.1:7000", "--audit-checkpoint-interval", "30s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != "postgres://from-env/db" || c.Addr != "127.0.0.1:7000" || !c.Demo ||
		c.AuditOrigin != "chancery.mofa.gov.vn/audit/hanoi" || c.AuditCheckpointInterval != 30*time.Second {
		t.Fatalf("got %+v", c)
	}
}

func TestDefaultsAreTheEmbeddedSetup(t *testing.T) {
	c, err := ParseServe(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "./chancery-data" || c.DB != "" || c.Addr != "127.0.0.1:8080" || c.NATS != "" || c.Demo ||
		c.AuditCheckpointInterval != 10*time.Second || c.AuditOrigin != "" {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestBadValuesAreRefusedWithTheirName(t *testing.T) {
	tests := []struct {
		env, val string
		args     []string
		want     string
	}{
		{"CHANCERY_DEMO", "maybe", nil, "CHANCERY_DEMO"},
		{"CHANCERY_NATS_PORT", "x", nil, "CHANCERY_NATS_PORT"},
		{"", "", []string{"--tls-cert", "a.pem"}, "--tls-key"},
		{"", "", []string{"--log-level", "loud"}, "--log-level"},
		{"", "", []string{"--demo", "--demo-password", "short"}, "--demo-password"},
		{"", "", []string{"extra"}, "unexpected argument"},
		{"CHANCERY_AUDIT_CHECKPOINT_INTERVAL", "often", nil, "CHANCERY_AUDIT_CHECKPOINT_INTERVAL"},
		{"", "", []string{"--audit-checkpoint-interval", "10ms"}, "--audit-checkpoint-interval"},
		{"", "", []string{"--role", "embassy"}, "--role"},
		{"", "", []string{"--join", "https://hq.example", "--token", "x.y"}, "--role mission"},
		{"", "", []string{"--role", "mission", "--join", "https://hq.example"}, "go together"},
		{"", "", []string{"--leaf-addr", "7422"}, "--leaf-addr"},
		{"CHANCERY_EXCHANGE_RETENTION", "1m", nil, "--exchange-retention"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv(tt.env, tt.val)
			}
			_, err := ParseServe(tt.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want mention of %q", err, tt.want)
			}
		})
	}
}

func TestHelpDocumentsEveryFlagWithItsEnvironmentTwin(t *testing.T) {
	var out strings.Builder
	_, err := ParseServe([]string{"--help"}, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	for _, name := range []string{"data", "db", "addr", "nats", "blob", "tls-cert", "tls-key", "demo", "demo-password", "oidc-issuer", "audit-checkpoint-interval", "audit-origin", "role", "join", "token", "leaf-addr", "public-url", "exchange-retention"} {
		if !strings.Contains(out.String(), "-"+name) || !strings.Contains(out.String(), envName(name)) {
			t.Errorf("help lacks --%s or %s", name, envName(name))
		}
	}
}

// TestStorageFlagsReachEveryCommand pins that the commands which open the
// data (migrate, unit, user, audit) name the same database, blob storage
// and master key as serve.
func TestStorageFlagsReachEveryCommand(t *testing.T) {
	t.Setenv("CHANCERY_MASTER_KEY", "a2V5")
	var c Config
	fs := flag.NewFlagSet("chancery audit", flag.ContinueOnError)
	envErr := Storage(fs, &c)
	if err := errors.Join(envErr(), fs.Parse([]string{"--db", "postgres://h/db", "--blob", "s3://archive?region=ap-southeast-1"})); err != nil {
		t.Fatal(err)
	}
	if c.DB != "postgres://h/db" || c.Blob != "s3://archive?region=ap-southeast-1" || c.MasterKey != "a2V5" {
		t.Fatalf("storage flags = %+v", c)
	}
}
