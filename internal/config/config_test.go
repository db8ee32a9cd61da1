package config

import (
	"errors"
	"flag"
	"fmt"
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
		c.AuditCheckpointInterval != 10*time.Second || c.AuditOrigin != "" || c.MaxUploads != 32 {
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
		{"", "", []string{"--leaf-addr", "127.0.0.1:x"}, "--leaf-addr"},
		{"", "", []string{"--leaf-addr", "127.0.0.1:70000"}, "--leaf-addr"},
		{"", "", []string{"--nats-port", "-2"}, "--nats-port"},
		{"", "", []string{"--nats-replicas", "0"}, "--nats-replicas"},
		{"", "", []string{"--nats-replicas", "7"}, "--nats-replicas"},
		{"", "", []string{"--leaf-tls-cert", "leaf.pem"}, "--leaf-tls-key"},
		{"", "", []string{"--leaf-tls-ca", "ca.pem"}, "--leaf-tls-ca is for a mission"},
		{"", "", []string{"--role", "mission", "--leaf-tls-cert", "leaf.pem", "--leaf-tls-key", "leaf.key"}, "--leaf-tls-ca"},
		{"CHANCERY_EXCHANGE_RETENTION", "1m", nil, "--exchange-retention"},
		{"", "", []string{"--max-uploads", "0"}, "--max-uploads"},
		{"", "", []string{"--ocr-workers", "-1"}, "--ocr-workers"},
		{"", "", []string{"--sentinel-mail-risk", "-5"}, "--sentinel-mail-risk"},
		{"", "", []string{"--sentinel-syslog", "syslog.example:514"}, "--sentinel-syslog"},
		{"", "", []string{"--sentinel-syslog", "http://syslog.example:514"}, "--sentinel-syslog"},
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
	for _, name := range []string{"data", "db", "addr", "nats", "blob", "tls-cert", "tls-key", "demo", "demo-password", "oidc-issuer", "oidc-email-domains", "oidc-mfa", "audit-checkpoint-interval", "audit-origin", "role", "join", "token", "leaf-addr", "leaf-tls-cert", "leaf-tls-key", "leaf-tls-ca", "public-url", "exchange-retention", "smtp", "mail-from"} {
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

func TestSMTPURLIsParsedIntoItsParts(t *testing.T) {
	tests := []struct {
		url                  string
		addr, user, password string
		implicit, noTLS      bool
	}{
		{"smtp://chancery:m%E1%BA%ADt@mail.mofa.gov.vn", "mail.mofa.gov.vn:587", "chancery", "mật", false, false},
		{"smtp://mail.example:2525?starttls=on", "mail.example:2525", "", "", false, false},
		{"smtps://u:p@mail.example", "mail.example:465", "u", "p", true, false},
		{"smtp://127.0.0.1:1025?starttls=off", "127.0.0.1:1025", "", "", false, true},
		{"smtp://[::1]:1025/?starttls=off", "[::1]:1025", "", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			c, err := ParseServe([]string{"--smtp", tt.url}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if c.SMTP != tt.url || c.SMTPAddr != tt.addr || c.SMTPUsername != tt.user || c.SMTPPassword != tt.password ||
				c.SMTPImplicitTLS != tt.implicit || c.SMTPNoTLS != tt.noTLS {
				t.Fatalf("got addr %q user %q password %q implicit %v noTLS %v", c.SMTPAddr, c.SMTPUsername, c.SMTPPassword, c.SMTPImplicitTLS, c.SMTPNoTLS)
			}
		})
	}
	c, err := ParseServe(nil, io.Discard)
	if err != nil || c.SMTP != "" || c.SMTPAddr != "" || c.MailFrom != "Chancery <no-reply@localhost>" {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	t.Setenv("CHANCERY_MAIL_FROM", "Bộ Ngoại giao <no-reply@mofa.gov.vn>")
	t.Setenv("CHANCERY_SMTP", "smtps://mail.mofa.gov.vn")
	if c, err := ParseServe(nil, io.Discard); err != nil || c.MailFrom != "Bộ Ngoại giao <no-reply@mofa.gov.vn>" || c.SMTPAddr != "mail.mofa.gov.vn:465" {
		t.Fatalf("from the environment: from %q addr %q, %v", c.MailFrom, c.SMTPAddr, err)
	}
}

func TestBadMailSettingsAreRefusedClearly(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--smtp", "http://mail.example"}, "use smtp://"},
		{[]string{"--smtp", "smtp://mail.example:25?starttls=off"}, "only for a server on this host"},
		{[]string{"--smtp", "smtp://u:p@127.0.0.1:25?starttls=off"}, "credentials are sent only over TLS"},
		{[]string{"--smtp", "smtps://127.0.0.1?starttls=off"}, "contradicts"},
		{[]string{"--smtp", "smtp://mail.example?tls=skip-verify"}, "unknown option"},
		{[]string{"--smtp", "smtp://mail.example?starttls=maybe"}, "starttls="},
		{[]string{"--smtp", "smtp:///nohost"}, "smtp://host:port"},
		{[]string{"--mail-from", "not an address"}, "--mail-from"},
		{[]string{"--mail-from", "a@b.vn\r\nBcc: c@d.vn"}, "line break"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := ParseServe(tt.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want mention of %q", err, tt.want)
			}
		})
	}
	_, err := ParseServe([]string{"--smtp", "smtp://u:s3cret@mail.example?starttls=maybe"}, io.Discard)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error %v shows the password", err)
	}
}

func TestTrustedProxiesAndSecureCookies(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		nets    string
		secure  bool
		problem string
	}{
		{name: "plain HTTP demo: nothing trusted, cookies follow the scheme"},
		{name: "TLS here: Secure cookies", args: []string{"--tls-cert", "c.pem", "--tls-key", "k.pem"}, secure: true},
		{name: "behind proxies: Secure cookies", args: []string{"--trusted-proxies", "10.1.0.0/16, 192.168.7.7,fd00::/8"},
			nets: "[10.1.0.0/16 192.168.7.7/32 fd00::/8]", secure: true},
		{name: "switched off explicitly", args: []string{"--trusted-proxies", "10.1.0.0/16", "--secure-cookies=false"}, nets: "[10.1.0.0/16]"},
		{name: "switched on by the environment", env: map[string]string{"CHANCERY_SECURE_COOKIES": "true"}, secure: true},
		{name: "networks are masked", args: []string{"--trusted-proxies", "10.1.2.3/16"}, nets: "[10.1.0.0/16]", secure: true},
		{name: "everyone is refused", args: []string{"--trusted-proxies", "0.0.0.0/0"}, problem: "trusts every address"},
		{name: "a name is refused", args: []string{"--trusted-proxies", "proxy.local"}, problem: "--trusted-proxies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := ParseServe(tt.args, io.Discard)
			if tt.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tt.problem) {
					t.Fatalf("err = %v, want one saying %q", err, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			nets := ""
			if len(c.TrustedProxyNets) > 0 {
				nets = fmt.Sprint(c.TrustedProxyNets)
			}
			if nets != tt.nets || c.SecureCookies != tt.secure {
				t.Errorf("trusted %s secure cookies %v; want %s %v", nets, c.SecureCookies, tt.nets, tt.secure)
			}
		})
	}
}

func TestMetricsTokenMustBeLongAndMetricsAddrAnAddress(t *testing.T) {
	for _, args := range [][]string{{"--metrics-token", "short"}, {"--metrics-addr", "9090"}} {
		if _, err := ParseServe(args, io.Discard); err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%v: err = %v, want one naming %s", args, err, args[0])
		}
	}
	c, err := ParseServe([]string{"--metrics-token", "0123456789abcdef", "--metrics-addr", "127.0.0.1:0"}, io.Discard)
	if err != nil || c.MetricsToken != "0123456789abcdef" || c.MetricsAddr != "127.0.0.1:0" {
		t.Errorf("got %+v, %v", c, err)
	}
}

func TestOIDCTrustIsOffUnlessConfigured(t *testing.T) {
	c, err := ParseServe([]string{"--oidc-issuer", "https://idp", "--oidc-client-id", "c"}, io.Discard)
	if err != nil || c.OIDCMFA || len(c.OIDCEmailDomains) != 0 {
		t.Fatalf("defaults = mfa %v, domains %q, %v; want no trust in amr or e-mail", c.OIDCMFA, c.OIDCEmailDomains, err)
	}
	t.Setenv("CHANCERY_OIDC_EMAIL_DOMAINS", " mofa.gov.vn, ,vn.mofa.example ")
	t.Setenv("CHANCERY_OIDC_MFA", "true")
	c, err = ParseServe(nil, io.Discard)
	if err != nil || !c.OIDCMFA || strings.Join(c.OIDCEmailDomains, "|") != "mofa.gov.vn|vn.mofa.example" {
		t.Fatalf("from the environment = mfa %v, domains %q, %v", c.OIDCMFA, c.OIDCEmailDomains, err)
	}
}

// TestOutsideServicesAreConfigurationWithTheDemosDefaults checks that the
// services the procedures call are flags (with environment twins) whose
// defaults are the demo exchange's, not code.
func TestOutsideServicesAreConfigurationWithTheDemosDefaults(t *testing.T) {
	c, err := ParseServe(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.PopulationService != "VN/GOV/000.00.00.G02/population/citizen-lookup/v1" ||
		c.DossierStatusService != "VN/GOV/000.00.00.G22/portal/dossier-status/v1" {
		t.Errorf("defaults: population %q, dossier statuses %q; want the demo exchange's", c.PopulationService, c.DossierStatusService)
	}
	t.Setenv("CHANCERY_DOSSIER_STATUS_SERVICE", "VN/GOV/000.00.00.G99/dvc/statuses/v2")
	c, err = ParseServe([]string{"--population-service", "VN/GOV/000.00.00.G98/cd/lookup"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.PopulationService != "VN/GOV/000.00.00.G98/cd/lookup" || c.DossierStatusService != "VN/GOV/000.00.00.G99/dvc/statuses/v2" {
		t.Errorf("given: population %q, dossier statuses %q", c.PopulationService, c.DossierStatusService)
	}
}

// TestPortZeroIsAnyFreePort: port 0 of --leaf-addr and --nats-port asks
// for any free port; --nats-port's default keeps NATS in-process.
func TestPortZeroIsAnyFreePort(t *testing.T) {
	c, err := ParseServe([]string{"--leaf-addr", "127.0.0.1:0", "--nats-port", "0"}, io.Discard)
	if err != nil || c.LeafAddr != "127.0.0.1:0" || c.NATSPort != 0 {
		t.Fatalf("ParseServe(port 0) = %q %d, %v", c.LeafAddr, c.NATSPort, err)
	}
	if c, err := ParseServe(nil, io.Discard); err != nil || c.NATSPort != NATSInProcess {
		t.Fatalf("--nats-port defaults to %d (%v), want %d: in-process", c.NATSPort, err, NATSInProcess)
	}
}
