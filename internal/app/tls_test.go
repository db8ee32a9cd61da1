package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"chancery/internal/authz"
)

// writeSelfSigned writes a certificate for 127.0.0.1 and its key.
func writeSelfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "chancery test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

func TestServeOverTLSSendsHSTSAndSecureCookies(t *testing.T) {
	cfg := testConfig(t, false)
	cfg.TLSCert, cfg.TLSKey = writeSelfSigned(t)
	a, err := New(context.Background(), cfg, newLogger(cfg, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, func(addr net.Addr) { addrc <- addr }) }()
	addr := <-addrc
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Get("https://" + addr.String() + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("no HSTS over TLS: %q", hsts)
	}
	for _, c := range resp.Cookies() {
		if !c.Secure || !c.HttpOnly {
			t.Errorf("cookie %s is not Secure and HttpOnly over TLS", c.Name)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

func TestPlainHTTPSendsNoHSTS(t *testing.T) {
	_, srv := MustStart(t, testConfig(t, false))
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := resp.Header.Get("Strict-Transport-Security"); h != "" {
		t.Errorf("HSTS over plain HTTP: %q", h)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", csp)
	}
}

// TestFirstStartWithoutDemoCreatesOnlyTheAdministratorAndSecurityOfficer
// pins the secure default: no demo users, one administrator and one
// security officer (who approves the clearances administrators propose),
// whose one-time passwords are printed once and must be changed at first
// sign-in.
func TestFirstStartWithoutDemoCreatesOnlyTheAdministratorAndSecurityOfficer(t *testing.T) {
	cfg := testConfig(t, false)
	a, err := New(context.Background(), cfg, newLogger(cfg, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	banner, err := a.bootstrap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`one-time password (\S+)`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("banner shows no one-time password: %q", banner)
	}
	srv := httptestServer(t, a).URL
	resp, err := http.Post(srv+"/api/v1/auth/login", "application/json", strings.NewReader(`{"username":"admin","password":"`+m[1]+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"stage":"change_password"`) {
		t.Fatalf("admin sign-in with the one-time password = %d %s, want a change_password session", resp.StatusCode, b)
	}
	officer, err := a.Identity.StaffByUsername(context.Background(), "security")
	if err != nil || officer.Roles != authz.RolesOf(authz.SecurityOfficer) || officer.Clearance != authz.TopSecret ||
		!regexp.MustCompile(`Security officer: security, one-time password \S+`).MatchString(banner) {
		t.Fatalf("the first security officer: %+v, %v; banner %q", officer, err, banner)
	}
	for _, demoUser := range []string{"consular.clerk", "auditor"} {
		if _, err := a.Identity.StaffByUsername(context.Background(), demoUser); err == nil {
			t.Errorf("demo account %s exists without --demo", demoUser)
		}
	}
	again, err := a.bootstrap(context.Background())
	if err != nil || strings.Contains(again, "one-time password") {
		t.Fatalf("a second start shows the password again: %q, %v", again, err)
	}
}
