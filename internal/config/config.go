// Package config parses Chancery's flags and their CHANCERY_* environment
// twins once, into a Config that is passed down; nothing reads the
// environment after this.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of a chancery process.
type Config struct {
	// DataDir holds the SQLite database, the embedded NATS store, local
	// blobs and the master key file. Default ./chancery-data.
	DataDir string
	// DB is a PostgreSQL URL; empty means SQLite in DataDir.
	DB string
	// Addr is the HTTP listen address. Default 127.0.0.1:8080.
	Addr string
	// NATS is an external NATS cluster's URL; empty starts an embedded
	// server with JetStream in DataDir.
	NATS string
	// NATSPort exposes the embedded NATS server on 127.0.0.1:NATSPort;
	// zero picks any free port (logged); NATSInProcess (the default) keeps
	// it in-process only.
	NATSPort int
	// NATSReplicas is how many servers of the external cluster keep
	// each stream Chancery creates (1 to 5; 3 on a three-node cluster).
	NATSReplicas int
	// Blob is the blob storage URL (file:///dir or s3://bucket?…); empty
	// means DataDir/blobs.
	Blob string
	// TLSCert and TLSKey turn on HTTPS (and HSTS).
	TLSCert, TLSKey string
	// TrustedProxies is the comma-separated list of networks (CIDRs, or
	// single addresses) of the reverse proxies in front of the node, whose
	// Forwarded / X-Forwarded-For / X-Forwarded-Proto headers are
	// believed; empty believes none. ParseServe fills TrustedProxyNets.
	TrustedProxies   string
	TrustedProxyNets []netip.Prefix
	// SecureCookies marks every cookie Secure. Default: on when TLSCert
	// or TrustedProxies is set (a deployment reached over HTTPS), else
	// off, so that the plain-HTTP demo on 127.0.0.1 can sign in.
	SecureCookies bool
	// MetricsToken, if set, serves /metrics on the public listener to
	// scrapers that send it as Authorization: Bearer. MetricsAddr, if
	// set, serves /metrics on a listener of its own, without a token.
	// With neither, /metrics is not served.
	MetricsToken, MetricsAddr string
	// Demo seeds the demo ministry on first start.
	Demo bool
	// DemoPassword is every demo account's password.
	DemoPassword string
	// AdminPassword is the first administrator's password when the
	// database is new and Demo is off; empty generates a one-time one.
	AdminPassword string
	// MasterKey is the base64 master key; empty uses DataDir/master.key.
	// Only from the environment (CHANCERY_MASTER_KEY), never a flag, so it
	// does not show in process listings.
	MasterKey string
	// OIDC sign-in for staff through the ministry's identity provider;
	// off unless OIDCIssuer is set.
	OIDCIssuer, OIDCClientID, OIDCClientSecret, OIDCRedirectURL string
	// OIDCEmailDomains, if not empty, admits through the identity
	// provider only people it vouches a verified e-mail address for in one
	// of these domains.
	OIDCEmailDomains []string
	// OIDCMFA says the identity provider enforces a second factor of its
	// own, so its amr claim stands in for Chancery's TOTP; false: staff who
	// must use a second factor give Chancery's after the provider.
	OIDCMFA bool
	// LogLevel is debug, info, warn or error; LogFormat json or text.
	LogLevel, LogFormat string
	// ShutdownTimeout bounds how long in-flight requests may take to
	// finish after SIGTERM. Default 20 s.
	ShutdownTimeout time.Duration
	// MaxBody caps request bodies in bytes. Default 1 MiB.
	MaxBody int64
	// MaxDocumentBytes caps a records document's file (the incoming
	// form's and POST /api/v1/documents'). Default and most 50 MiB.
	MaxDocumentBytes int64
	// MaxUploads caps the requests carrying a dossier's files that are
	// taken at once; more wait briefly, then get 503. Default 32.
	MaxUploads int
	// AuditCheckpointInterval is how often the audit ledger signs a
	// checkpoint when it has grown. Default 10 s.
	AuditCheckpointInterval time.Duration
	// AuditOrigin names the audit ledger in its signed checkpoints, such
	// as chancery.mofa.gov.vn/audit/hanoi. It is fixed on first start;
	// empty keeps the stored one, or on first start derives one from the
	// node's signing key.
	AuditOrigin string
	// Role is the node's role in the exchange: "hq" (headquarters, the
	// default) or "mission".
	Role string
	// Join is headquarters' web address, and Token the one-time
	// enrolment token from its console, with which a mission node enrols
	// on its first start.
	Join, Token string
	// LeafAddr is where headquarters' embedded NATS server accepts
	// mission nodes as leaf nodes; empty accepts none, port 0 takes any
	// free port (logged). Default 127.0.0.1:7422.
	LeafAddr string
	// LeafTLSCert and LeafTLSKey (PEM files) are the certificate
	// headquarters' leaf listener serves instead of one signed by its node
	// key; LeafTLSCA is the CA bundle a mission verifies it with instead
	// of the headquarters key pinned at enrolment.
	LeafTLSCert, LeafTLSKey, LeafTLSCA string
	// PublicURL is the address missions and information systems use to
	// reach this node; empty derives it from Addr.
	PublicURL string
	// ExchangeRetention is how long the message log keeps (sealed)
	// message bodies. Default 30 days.
	ExchangeRetention time.Duration
	// WebhookAllow lists, comma-separated, the hosts ("host" or
	// "host:port") information systems' webhooks may point at although
	// they resolve to internal addresses (loopback, private, link-local).
	// Empty allows none.
	WebhookAllow string
	// SMTP is the mail server's URL as given: smtp://user:pass@host:587
	// (STARTTLS, required) or smtps://host:465 (implicit TLS);
	// ?starttls=off sends in the clear, for a server on this host only.
	// Empty configures no server (in demo mode the app catches mail in
	// its mailbox simulator). ParseServe fills the SMTP* fields from it.
	SMTP string
	// SMTPAddr is the server's host:port; empty when SMTP is.
	SMTPAddr string
	// SMTPUsername and SMTPPassword, if SMTPUsername is set, authenticate
	// (PLAIN, over TLS only).
	SMTPUsername, SMTPPassword string
	// SMTPImplicitTLS is set by smtps://: TLS from the first byte.
	SMTPImplicitTLS bool
	// SMTPNoTLS is set by ?starttls=off: no TLS at all, loopback only.
	SMTPNoTLS bool
	// MailFrom is the sender of Chancery's mail. Default
	// "Chancery <no-reply@localhost>".
	MailFrom string
	// Catalogue is a directory holding the catalogue of procedures as
	// edited by the ministry's administrators (chancery procedures
	// export); empty: the catalogue built in.
	Catalogue string
	// PaymentGateway is the payment gateway's API base URL, where orders
	// are created (POST <url>/v1/orders). Empty: online payment is off,
	// except in --demo, which uses the gateway simulator.
	PaymentGateway string
	// PaymentMerchantKey authenticates Chancery's orders at the gateway.
	PaymentMerchantKey string
	// PaymentSecret is the key the gateway signs its callbacks with
	// (base64url, 32 bytes).
	PaymentSecret string
	// PopulationService is the exchange service the procedures look
	// citizens up with (the National Population Database's citizen
	// lookup), as instance/class/member/subsystem/service/version.
	// Default DefaultPopulationService, the demo exchange's.
	PopulationService string
	// DossierStatusService is the exchange service the procedures report
	// dossier statuses to (the National Public Service Portal's), as
	// PopulationService. Default DefaultDossierStatusService, the demo
	// exchange's.
	DossierStatusService string
	// OCRWorkers is how many documents' files this node reads at once for
	// the search index (pdftotext, tesseract, office files), off the
	// request path; 0 reads none here (another node of the same database
	// may). Default 1.
	OCRWorkers int
	// RecordsOffice is the identifier code of the unit whose records
	// office (văn thư cơ quan) receives the edXML packages addressed to
	// the ministry as a whole (its root unit): the Office. Default the
	// demo directory's Office of the Ministry.
	RecordsOffice string
	// SentinelMailRisk is the risk score (0–100) from which Sentinel's
	// alerts are mailed to the security officers; above 100 mails none.
	// Default 70.
	SentinelMailRisk int
	// SentinelSyslog is the syslog collector (a national monitoring
	// centre's) that Sentinel sends every alert to as an RFC 5424 CEF
	// message: udp://host:port or tcp://host:port; empty sends none.
	SentinelSyslog string
}

// The outside services of the demo exchange, which the procedures use
// unless --population-service and --dossier-status-service say otherwise.
const (
	DefaultPopulationService    = "VN/GOV/000.00.00.G02/population/citizen-lookup/v1"
	DefaultDossierStatusService = "VN/GOV/000.00.00.G22/portal/dossier-status/v1"
)

// NATSInProcess is the --nats-port that exposes the embedded NATS server
// on no port: the default.
const NATSInProcess = -1

// DefaultDemoPassword is the demo accounts' password unless
// --demo-password says otherwise.
const DefaultDemoPassword = "Chancery-Demo-2026"

// set is a FlagSet whose every flag has an environment twin.
type set struct {
	fs   *flag.FlagSet
	errs []error
}

func envName(flagName string) string {
	return "CHANCERY_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (s *set) str(p *string, name, def, usage string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		def = v
	}
	s.fs.StringVar(p, name, def, usage+" (env "+envName(name)+")")
}

// boolean registers a boolean flag and returns the function that, once
// the flags are parsed, reports whether the flag or its environment twin
// was given.
func (s *set) boolean(p *bool, name string, def bool, usage string) (given func() bool) {
	v, fromEnv := os.LookupEnv(envName(name))
	if fromEnv {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s=%q: want true or false", envName(name), v))
		}
		def = b
	}
	s.fs.BoolVar(p, name, def, usage+" (env "+envName(name)+")")
	return func() bool {
		if fromEnv {
			return true
		}
		seen := false
		s.fs.Visit(func(f *flag.Flag) { seen = seen || f.Name == name })
		return seen
	}
}

func (s *set) integer(p *int, name string, def int, usage string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s=%q: want a whole number", envName(name), v))
		}
		def = n
	}
	s.fs.IntVar(p, name, def, usage+" (env "+envName(name)+")")
}

func (s *set) duration(p *time.Duration, name string, def time.Duration, usage string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s=%q: want a duration such as 20s", envName(name), v))
		}
		def = d
	}
	s.fs.DurationVar(p, name, def, usage+" (env "+envName(name)+")")
}

// Storage registers the flags that say where the data is, shared by every
// subcommand that opens the database.
func Storage(fs *flag.FlagSet, c *Config) func() error {
	s := &set{fs: fs}
	s.str(&c.DataDir, "data", "./chancery-data", "data directory: SQLite database, embedded NATS store, local blobs, master key")
	s.str(&c.DB, "db", "", "PostgreSQL URL (postgres://user:pass@host/db); empty uses SQLite in the data directory")
	s.str(&c.Blob, "blob", "", "blob storage URL: file:///dir or s3://bucket?region=…&endpoint=…; empty uses <data>/blobs")
	c.MasterKey = os.Getenv("CHANCERY_MASTER_KEY")
	return func() error { return errors.Join(s.errs...) }
}

// Doctor registers the flags of chancery doctor that name what a node
// uses — the storage flags and --nats, with their environment twins — so
// that doctor run with a replica's environment checks what the replica
// uses.
func Doctor(fs *flag.FlagSet, c *Config) func() error {
	envErr := Storage(fs, c)
	s := &set{fs: fs}
	s.str(&c.NATS, "nats", "", "NATS URL(s) a node uses (serve's --nats), comma-separated; empty: an embedded server, which only the running node reaches, so NATS is not checked")
	return func() error { return errors.Join(envErr(), errors.Join(s.errs...)) }
}

// ParseServe parses the serve subcommand's arguments. It returns
// flag.ErrHelp after printing usage for -h.
func ParseServe(args []string, stderr io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("chancery serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envErrs := Storage(fs, &c)
	s := &set{fs: fs}
	s.str(&c.Addr, "addr", "127.0.0.1:8080", "HTTP listen address")
	s.str(&c.NATS, "nats", "", "external NATS cluster URL(s), comma-separated; empty starts an embedded NATS server with JetStream")
	s.integer(&c.NATSReplicas, "nats-replicas", 1, "with --nats: how many servers of the cluster keep each stream (1 to 5; 3 on a three-node cluster survives the loss of one)")
	s.integer(&c.NATSPort, "nats-port", NATSInProcess, "expose the embedded NATS server to this host's tools on this port of 127.0.0.1 (0: any free port, logged; -1: in-process only)")
	s.str(&c.TLSCert, "tls-cert", "", "TLS certificate file (PEM); with --tls-key serves HTTPS")
	s.str(&c.TLSKey, "tls-key", "", "TLS private key file (PEM)")
	s.str(&c.TrustedProxies, "trusted-proxies", "", "comma-separated networks (CIDR or address) of the reverse proxies in front of this node whose Forwarded/X-Forwarded-For/X-Forwarded-Proto headers are believed (empty: none)")
	secureCookiesSet := s.boolean(&c.SecureCookies, "secure-cookies", false, "mark every cookie Secure, sent over HTTPS only (default: on when --tls-cert or --trusted-proxies is set)")
	s.str(&c.MetricsToken, "metrics-token", "", "serve /metrics on the public address to scrapers sending Authorization: Bearer <token>, at least 16 characters (prefer the environment variable; default: /metrics is not served there)")
	s.str(&c.MetricsAddr, "metrics-addr", "", "serve /metrics without a token on this separate address, such as 10.0.0.5:9090 on a monitoring network (empty: none)")
	s.boolean(&c.Demo, "demo", false, "seed the demo ministry, its staff and citizens of the public site on first start")
	s.str(&c.DemoPassword, "demo-password", DefaultDemoPassword, "password of every demo account")
	s.str(&c.AdminPassword, "admin-password", "", "first administrator's password on a new database (default: a printed one-time password)")
	s.str(&c.OIDCIssuer, "oidc-issuer", "", "OpenID Connect issuer URL of the ministry's identity provider (enables OIDC sign-in)")
	s.str(&c.OIDCClientID, "oidc-client-id", "", "OIDC client id")
	s.str(&c.OIDCClientSecret, "oidc-client-secret", "", "OIDC client secret")
	s.str(&c.OIDCRedirectURL, "oidc-redirect-url", "", "OIDC redirect URL (default http(s)://<addr>/console/oidc/callback)")
	var oidcDomains string
	s.str(&oidcDomains, "oidc-email-domains", "", "comma-separated e-mail domains (such as mofa.gov.vn) the identity provider must vouch a verified address in; empty: e-mail claims are not used")
	s.boolean(&c.OIDCMFA, "oidc-mfa", false, "the identity provider enforces its own second factor: believe its amr claim instead of asking for Chancery's TOTP code")
	s.str(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	s.str(&c.LogFormat, "log-format", "json", "log format: json or text")
	s.duration(&c.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may run after SIGTERM")
	s.duration(&c.AuditCheckpointInterval, "audit-checkpoint-interval", 10*time.Second, "how often the audit ledger signs a checkpoint when it has grown")
	s.str(&c.AuditOrigin, "audit-origin", "", "name of this node's audit ledger in its checkpoints, such as chancery.mofa.gov.vn/audit/hanoi; fixed on first start (default: derived from the signing key)")
	s.str(&c.Role, "role", "hq", "this node's role in the exchange: hq (headquarters) or mission")
	s.str(&c.Join, "join", "", "mission only: headquarters' web address to enrol with on first start, such as https://hq.example")
	s.str(&c.Token, "token", "", "mission only: the one-time enrolment token issued on the headquarters console")
	s.str(&c.LeafAddr, "leaf-addr", "127.0.0.1:7422", "headquarters only: where mission nodes connect as NATS leaf nodes (empty: none; port 0: any free port, logged)")
	s.str(&c.LeafTLSCert, "leaf-tls-cert", "", "headquarters only: PEM certificate the leaf listener serves (default: one signed by the node key, which missions pin at enrolment)")
	s.str(&c.LeafTLSKey, "leaf-tls-key", "", "headquarters only: PEM private key of --leaf-tls-cert")
	s.str(&c.LeafTLSCA, "leaf-tls-ca", "", "mission only: PEM CA bundle that vouches for headquarters' --leaf-tls-cert (default: trust the headquarters key pinned at enrolment)")
	s.str(&c.PublicURL, "public-url", "", "the address missions and information systems use to reach this node (default: http(s)://<addr>)")
	s.duration(&c.ExchangeRetention, "exchange-retention", 30*24*time.Hour, "how long the exchange message log keeps (encrypted) message bodies")
	s.str(&c.WebhookAllow, "webhook-allow", "", "hosts (host or host:port, comma-separated) that exchange webhooks may reach although they resolve to internal addresses (empty: none; webhooks must point at public addresses)")
	s.str(&c.SMTP, "smtp", "", "mail server URL: smtp://user:pass@host:587 (STARTTLS) or smtps://host:465; ?starttls=off only for a server on this host (empty: none; in --demo mail goes to the mailbox simulator)")
	s.integer(&c.SentinelMailRisk, "sentinel-mail-risk", 70, "risk score (0-100) from which Sentinel's security alerts are mailed to the security officers (above 100: none)")
	s.str(&c.SentinelSyslog, "sentinel-syslog", "", "syslog collector that receives every Sentinel alert as an RFC 5424 CEF message: udp://host:port or tcp://host:port (empty: none)")
	s.str(&c.MailFrom, "mail-from", "Chancery <no-reply@localhost>", "sender address of Chancery's e-mail, such as \"Bộ Ngoại giao <no-reply@mofa.gov.vn>\"")
	s.str(&c.Catalogue, "catalogue", "", "directory of the catalogue of procedures as edited by administrators (see chancery procedures export); empty: the built-in one")
	s.str(&c.PaymentGateway, "payment-gateway", "", "payment gateway API URL for online fees, such as https://pay.example/api (empty: none; in --demo the gateway simulator)")
	s.str(&c.PaymentMerchantKey, "payment-merchant-key", "", "this ministry's merchant key at the payment gateway")
	s.str(&c.PaymentSecret, "payment-secret", "", "the payment gateway's callback signing secret (base64url, 32 bytes)")
	s.str(&c.PopulationService, "population-service", DefaultPopulationService, "exchange service the procedures look citizens up with (the National Population Database's citizen lookup); default: the demo exchange's")
	s.str(&c.DossierStatusService, "dossier-status-service", DefaultDossierStatusService, "exchange service the procedures report dossier statuses to (the National Public Service Portal's); default: the demo exchange's")
	s.str(&c.RecordsOffice, "records-office", "000.00.01.G12", "identifier code of the unit (the Office) whose records office receives the edXML packages addressed to the ministry as a whole")
	s.integer(&c.OCRWorkers, "ocr-workers", 1, "how many documents' files this node reads at once for search (text PDFs, OCR of scans with tesseract vie+eng, office files); 0: none on this node")
	var maxBody int
	s.integer(&maxBody, "max-body", 1<<20, "largest accepted request body in bytes (uploads have their own limits)")
	var maxDocument int
	s.integer(&maxDocument, "max-document-bytes", 50<<20, "largest file of a records document (incoming form, POST /api/v1/documents) in bytes; at most 52428800")
	s.integer(&c.MaxUploads, "max-uploads", 32, "how many requests carrying files (up to 50 MiB each) are taken at once; more wait up to 10 s, then get 503 with Retry-After")
	if err := errors.Join(envErrs(), errors.Join(s.errs...)); err != nil {
		return c, err
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q; see chancery serve --help", fs.Arg(0))
	}
	c.MaxBody = int64(maxBody)
	c.MaxDocumentBytes = int64(maxDocument)
	if !secureCookiesSet() {
		c.SecureCookies = c.TLSCert != "" || c.TrustedProxies != ""
	}
	for d := range strings.SplitSeq(oidcDomains, ",") {
		if d = strings.TrimSpace(d); d != "" {
			c.OIDCEmailDomains = append(c.OIDCEmailDomains, d)
		}
	}
	// validate fills the parsed SMTP fields, so it runs before c is
	// copied out.
	err := c.validate()
	return c, err
}

// isPort reports whether s is a port number, 0 (any free port) to 65535.
func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 65535 && s == strconv.Itoa(n)
}

func (c *Config) validate() error {
	var problems []error
	if (c.TLSCert == "") != (c.TLSKey == "") {
		problems = append(problems, errors.New("--tls-cert and --tls-key go together"))
	}
	if err := c.parseTrustedProxies(); err != nil {
		problems = append(problems, err)
	}
	if c.OCRWorkers < 0 || c.OCRWorkers > 64 {
		problems = append(problems, fmt.Errorf("--ocr-workers %d: use 0 (none on this node) to 64", c.OCRWorkers))
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		problems = append(problems, errors.New("--metrics-token is too short to resist guessing; use at least 16 random characters"))
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			problems = append(problems, fmt.Errorf("--metrics-addr %q is not host:port, such as 10.0.0.5:9090", c.MetricsAddr))
		}
	}
	if c.OIDCIssuer != "" && c.OIDCClientID == "" {
		problems = append(problems, errors.New("--oidc-issuer needs --oidc-client-id"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		problems = append(problems, fmt.Errorf("--log-level %q: use debug, info, warn or error", c.LogLevel))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		problems = append(problems, fmt.Errorf("--log-format %q: use json or text", c.LogFormat))
	}
	if c.MaxBody < 1024 {
		problems = append(problems, fmt.Errorf("--max-body %d is too small; use at least 1024", c.MaxBody))
	}
	if c.MaxDocumentBytes < 1024 || c.MaxDocumentBytes > 50<<20 {
		problems = append(problems, fmt.Errorf("--max-document-bytes %d: use 1024 to 52428800 (50 MiB)", c.MaxDocumentBytes))
	}
	if c.MaxUploads < 1 {
		problems = append(problems, fmt.Errorf("--max-uploads %d: use at least 1", c.MaxUploads))
	}
	if c.NATSPort < NATSInProcess || c.NATSPort > 65535 {
		problems = append(problems, fmt.Errorf("--nats-port %d is not a port number; use 1 to 65535, 0 for any free port, or -1 to keep NATS in-process", c.NATSPort))
	}
	if c.NATSReplicas < 1 || c.NATSReplicas > 5 {
		problems = append(problems, fmt.Errorf("--nats-replicas %d: use 1 to 5 (JetStream keeps at most five copies of a stream)", c.NATSReplicas))
	}
	if c.AuditCheckpointInterval < time.Second {
		problems = append(problems, fmt.Errorf("--audit-checkpoint-interval %s is too short; use at least 1s", c.AuditCheckpointInterval))
	}
	switch c.Role {
	case "hq":
		if c.Join != "" || c.Token != "" {
			problems = append(problems, errors.New("--join and --token are for a mission node (add --role mission)"))
		}
	case "mission":
		if (c.Join == "") != (c.Token == "") {
			problems = append(problems, errors.New("--join and --token go together: the headquarters address and the enrolment token issued there"))
		}
	default:
		problems = append(problems, fmt.Errorf("--role %q: use hq or mission", c.Role))
	}
	if (c.LeafTLSCert == "") != (c.LeafTLSKey == "") {
		problems = append(problems, errors.New("--leaf-tls-cert and --leaf-tls-key go together: the leaf listener's certificate and its private key"))
	}
	if c.Role == "hq" && c.LeafTLSCA != "" {
		problems = append(problems, errors.New("--leaf-tls-ca is for a mission node, which verifies headquarters with it (add --role mission)"))
	}
	if c.Role == "mission" && c.LeafTLSCert != "" {
		problems = append(problems, errors.New("--leaf-tls-cert and --leaf-tls-key are for headquarters' leaf listener; a mission verifies it with --leaf-tls-ca"))
	}
	if c.LeafAddr != "" {
		if _, port, err := net.SplitHostPort(c.LeafAddr); err != nil || !isPort(port) {
			problems = append(problems, fmt.Errorf("--leaf-addr %q is not host:port (such as 127.0.0.1:7422; port 0 takes any free port), or empty for none", c.LeafAddr))
		}
	}
	if c.ExchangeRetention < time.Hour {
		problems = append(problems, fmt.Errorf("--exchange-retention %s is too short; use at least 1h", c.ExchangeRetention))
	}
	if err := c.parseSMTP(); err != nil {
		problems = append(problems, err)
	}
	if c.SentinelMailRisk < 0 {
		problems = append(problems, fmt.Errorf("--sentinel-mail-risk %d: give a risk score from 0 to 100, or above 100 to mail none", c.SentinelMailRisk))
	}
	if c.SentinelSyslog != "" {
		if u, err := url.Parse(c.SentinelSyslog); err != nil || (u.Scheme != "udp" && u.Scheme != "tcp") || u.Hostname() == "" || !isPort(u.Port()) {
			problems = append(problems, fmt.Errorf("--sentinel-syslog %q: give udp://host:port or tcp://host:port", c.SentinelSyslog))
		}
	}
	if strings.ContainsAny(c.MailFrom, "\r\n") {
		problems = append(problems, errors.New("--mail-from contains a line break; give one address on one line"))
	} else if _, err := mail.ParseAddress(c.MailFrom); err != nil {
		problems = append(problems, fmt.Errorf("--mail-from %q is not an e-mail address (%v); write it as no-reply@example.com or \"Name <no-reply@example.com>\"", c.MailFrom, err))
	}
	if c.PaymentGateway != "" {
		if u, err := url.Parse(c.PaymentGateway); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			problems = append(problems, fmt.Errorf("--payment-gateway %q is not an http(s) URL", c.PaymentGateway))
		}
		if c.PaymentMerchantKey == "" || c.PaymentSecret == "" {
			problems = append(problems, errors.New("--payment-gateway needs --payment-merchant-key and --payment-secret"))
		}
	}
	if c.Demo && len([]rune(c.DemoPassword)) < 12 {
		problems = append(problems, errors.New("--demo-password must be at least 12 characters"))
	}
	return errors.Join(problems...)
}

// parseTrustedProxies fills TrustedProxyNets from --trusted-proxies. A
// network that holds every address is refused: anyone could then write
// the headers that name the client.
func (c *Config) parseTrustedProxies() error {
	c.TrustedProxyNets = nil
	for entry := range strings.SplitSeq(c.TrustedProxies, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		p, err := netip.ParsePrefix(entry)
		if err != nil {
			a, aerr := netip.ParseAddr(entry)
			if aerr != nil {
				return fmt.Errorf("--trusted-proxies: %q is neither a network such as 10.0.0.0/8 nor an address such as 10.0.0.7", entry)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Bits() == 0 {
			return fmt.Errorf("--trusted-proxies: %q trusts every address, so anyone could forge the client's address; list only your proxies' networks", entry)
		}
		c.TrustedProxyNets = append(c.TrustedProxyNets, p.Masked())
	}
	return nil
}

// parseSMTP fills the SMTP* fields from the --smtp URL.
func (c *Config) parseSMTP() error {
	if c.SMTP == "" {
		return nil
	}
	u, err := url.Parse(c.SMTP)
	if err != nil {
		// url's message quotes the URL, password included.
		return errors.New("--smtp is not a URL; write it as smtp://user:pass@host:587 or smtps://host:465")
	}
	shown := u.Redacted()
	var port string
	switch u.Scheme {
	case "smtp":
		port = "587"
	case "smtps":
		port, c.SMTPImplicitTLS = "465", true
	default:
		return fmt.Errorf("--smtp %q: use smtp://host:587 (STARTTLS) or smtps://host:465 (implicit TLS)", shown)
	}
	host := u.Hostname()
	if host == "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("--smtp %q: give the server as smtp://host:port, with nothing after the port but ?starttls=off", shown)
	}
	if u.Port() != "" {
		port = u.Port()
	}
	c.SMTPAddr = net.JoinHostPort(host, port)
	if u.User != nil {
		c.SMTPUsername = u.User.Username()
		c.SMTPPassword, _ = u.User.Password()
	}
	q := u.Query()
	for key := range q {
		if key != "starttls" {
			return fmt.Errorf("--smtp %q: unknown option %q; the only one is starttls=off", shown, key)
		}
	}
	switch q.Get("starttls") {
	case "", "on":
	case "off":
		ip := net.ParseIP(host)
		switch {
		case c.SMTPImplicitTLS:
			return fmt.Errorf("--smtp %q: starttls=off contradicts smtps://", shown)
		case host != "localhost" && (ip == nil || !ip.IsLoopback()):
			return fmt.Errorf("--smtp %q: starttls=off would send mail in the clear over the network; it is only for a server on this host (127.0.0.1, localhost)", shown)
		case c.SMTPUsername != "":
			return fmt.Errorf("--smtp %q: credentials are sent only over TLS; drop starttls=off or the user name", shown)
		}
		c.SMTPNoTLS = true
	default:
		return fmt.Errorf("--smtp %q: starttls=%q: use starttls=off, or leave it out", shown, q.Get("starttls"))
	}
	return nil
}
