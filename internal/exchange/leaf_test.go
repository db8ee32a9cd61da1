package exchange

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"chancery/internal/bus"
	"chancery/internal/store"
)

// hubOnly is headquarters with its leaf listener and the mission node of
// the configuration, whose bus is not started.
func hubOnly(t *testing.T) (*testNet, int) {
	t.Helper()
	tn := newTestNet(t, store.SQLite)
	port := freePort(t)
	hubBus(t, tn.hq.Node, port)
	return tn, port
}

// leafLinks returns the leaf links headquarters' bus has now.
func leafLinks(t *testing.T, tn *testNet) int {
	t.Helper()
	l, err := tn.hq.bus.LeafLinks()
	if err != nil {
		t.Fatal(err)
	}
	return len(l)
}

// intruder starts a NATS server of the test's own (not Chancery's bus)
// that tries to join the hub at port as the leaf node name, with tlsConf
// (nil: the server's defaults) and, if sign is set, a signature of the
// nonce.
func intruder(t *testing.T, port int, name string, tlsConf *tls.Config, sign func([]byte) ([]byte, error)) {
	t.Helper()
	u, _ := url.Parse(fmt.Sprintf("nats-leaf://127.0.0.1:%d", port))
	r := &server.RemoteLeafOpts{URLs: []*url.URL{u}, TLS: tlsConf != nil, TLSConfig: tlsConf}
	if sign != nil {
		r.SignatureCB = func(nonce []byte) (string, []byte, error) { s, err := sign(nonce); return "", s, err }
	}
	s, err := server.NewServer(&server.Options{ServerName: name, DontListen: true, NoSigs: true, NoLog: true,
		LeafNode: server.LeafNodeOpts{Remotes: []*server.RemoteLeafOpts{r}, ReconnectInterval: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
}

func TestLeafListenerRefusesPlainAndUnenrolledLeafNodes(t *testing.T) {
	tn, port := hubOnly(t)

	// In the clear: the hub demands TLS in its first words, and a
	// CONNECT sent without it ends the connection.
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck // a test deadline
	r := bufio.NewReader(c)
	info, err := r.ReadString('\n')
	if err != nil || !strings.Contains(info, `"tls_required":true`) {
		t.Fatalf("the leaf listener's INFO does not require TLS: %q, %v", info, err)
	}
	fmt.Fprintf(c, "CONNECT {\"name\":\"mission-h01\"}\r\nPING\r\n")
	if line, err := r.ReadString('\n'); err == nil && strings.HasPrefix(line, "PONG") {
		t.Fatalf("the hub answered a plain-text leaf: %q", line)
	}

	// Over TLS, but unenrolled: no signature, a key the configuration
	// does not certify for the name claimed, a name it does not know,
	// and headquarters itself.
	_, stranger, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	signWith := func(nonce []byte) ([]byte, error) { return ed25519.Sign(stranger, leafAuthMessage(nonce)), nil }
	insecure := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13} //nolint:gosec // the intruder trusts anything
	intruder(t, port, "mission-h01", insecure, nil)
	intruder(t, port, "mission-h01", insecure, signWith)
	intruder(t, port, "mission-h99", insecure, signWith)
	intruder(t, port, "hq", insecure, signWith)
	// And a leaf that would not even speak TLS had the hub not asked.
	intruder(t, port, "mission-h01", nil, nil)
	time.Sleep(3 * time.Second) // a dozen tries each
	if n := leafLinks(t, tn); n != 0 {
		t.Fatalf("the hub took %d links from leaf nodes that are not enrolled", n)
	}

	// The enrolled mission joins the same listener.
	tn.mission.Attach(openBus(t, missionBusOptions(t, tn.mission.Node, fmt.Sprintf("nats-leaf://127.0.0.1:%d", port))))
	waitFor(t, 10*time.Second, "the enrolled mission's link", func() bool { return leafLinks(t, tn) == 1 })
}

func TestEnrolledMissionReachesOnlyItsOwnSubjects(t *testing.T) {
	ln := newLinkedNet(t, store.SQLite, nil)
	ln.waitLinked(t)
	ctx, cancel := context.WithTimeout(testCtx(), 30*time.Second)
	defer cancel()
	hq, mission := ln.hqBus.Conn(), ln.missionBus.Conn()

	// The mission listens to everything it can; headquarters publishes
	// another mission's traffic, its own, and the configuration.
	sub, err := mission.SubscribeSync(">")
	if err != nil {
		t.Fatal(err)
	}
	if err := mission.Flush(); err != nil {
		t.Fatal(err)
	}
	others := []string{subjectFor("hq", "mission-h02"), requestSubject("mission-h02"), requestSubject("hq"),
		"$JS.ACK.EXCHANGE." + consumerName("hq", "mission-h02") + ".1.1.1.1.0", "_INBOX.abc", "hq.private"}
	waitFor(t, 10*time.Second, "the configuration to reach the mission", func() bool {
		for _, s := range others {
			if err := hq.Publish(s, []byte("not for mission-h01")); err != nil {
				t.Fatal(err)
			}
		}
		if err := hq.Publish(confSubject, []byte("conf")); err != nil {
			t.Fatal(err)
		}
		for {
			m, err := sub.NextMsg(100 * time.Millisecond)
			if err != nil {
				return false
			}
			if m.Subject == confSubject {
				return true
			}
			if string(m.Data) == "not for mission-h01" {
				t.Fatalf("the mission read %s", m.Subject)
			}
		}
	})
	// Whatever else came in the meantime was not another's.
	for {
		m, err := sub.NextMsg(500 * time.Millisecond)
		if err != nil {
			break
		}
		if string(m.Data) == "not for mission-h01" {
			t.Fatalf("the mission read %s", m.Subject)
		}
	}
	// Done listening: a subscription left with messages nobody reads
	// holds the bus's Close at the end of the test for the whole drain
	// timeout (5 s).
	if err := sub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}

	// Headquarters' JetStream: nothing but the mission's own consumer.
	js, err := jetstream.NewWithDomain(mission, "hq")
	if err != nil {
		t.Fatal(err)
	}
	short := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 2*time.Second) }
	attempts := map[string]func(context.Context) error{
		"delete the stream": func(c context.Context) error { return js.DeleteStream(c, streamName) },
		"read the stream":   func(c context.Context) error { _, err := js.Stream(c, streamName); return err },
		"purge the stream": func(c context.Context) error {
			_, err := mission.RequestWithContext(c, "$JS.hq.API.STREAM.PURGE."+streamName, nil)
			return err
		},
		"create a stream": func(c context.Context) error {
			_, err := js.CreateStream(c, jetstream.StreamConfig{Name: "EVIL", Subjects: []string{"evil.>"}})
			return err
		},
		"read another mission's messages": func(c context.Context) error {
			_, err := js.CreateOrUpdateConsumer(c, streamName, jetstream.ConsumerConfig{Durable: consumerName("hq", "mission-h02"),
				FilterSubject: subjectFor("hq", "mission-h02"), AckPolicy: jetstream.AckExplicitPolicy})
			return err
		},
		"widen its own consumer": func(c context.Context) error {
			_, err := js.CreateOrUpdateConsumer(c, streamName, jetstream.ConsumerConfig{Durable: consumerName("hq", "mission-h01"),
				FilterSubject: subjectPrefix + "hq.>", AckPolicy: jetstream.AckExplicitPolicy})
			return err
		},
		"read the account": func(c context.Context) error { _, err := js.AccountInfo(c); return err },
	}
	// Each refused request waits out its 2 s (a denied publication over
	// the leaf link is dropped, not answered), so they are made side by
	// side: one after another they took 14 of this test's 20 s.
	var tries sync.WaitGroup
	for what, try := range attempts {
		tries.Go(func() {
			c, cancel := short()
			err := try(c)
			cancel()
			if err == nil {
				t.Errorf("the mission could %s of headquarters", what)
			}
		})
	}
	tries.Wait()
	// Its own consumer, configured to deliver into headquarters'
	// JetStream API without acknowledgements, is created as the
	// transport's, whatever the request says.
	own := consumerName("hq", "mission-h01")
	evil := fmt.Sprintf(`{"stream_name":%q,"config":{"durable_name":%q,"filter_subject":%q,"ack_policy":"none","deliver_subject":"$JS.API.STREAM.DELETE.%s"}}`,
		streamName, own, subjectFor("hq", "mission-h01"), streamName)
	if _, err := mission.RequestWithContext(ctx, "$JS.hq.API.CONSUMER.CREATE."+streamName+"."+own+"."+subjectFor("hq", "mission-h01"), []byte(evil)); err != nil {
		t.Fatalf("create its own consumer: %v", err)
	}
	hqJS := ln.hqBus.JetStream()
	ci, err := hqJS.Consumer(ctx, streamName, own)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := ci.CachedInfo().Config; cfg.DeliverSubject != "" || cfg.AckPolicy != jetstream.AckExplicitPolicy {
		t.Errorf("the mission configured its consumer at headquarters: %+v", cfg)
	}
	if _, err := hqJS.Stream(ctx, streamName); err != nil {
		t.Fatalf("headquarters' stream after the attempts: %v", err)
	}
	if _, err := hqJS.Stream(ctx, "EVIL"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Errorf("stream EVIL at headquarters: %v", err)
	}

	// And what it needs still works: its own consumer, and messages both
	// ways.
	c, cancel2 := short()
	defer cancel2()
	if _, err := js.Consumer(c, streamName, consumerName("hq", "mission-h01")); err != nil {
		t.Errorf("the mission cannot read its own consumer: %v", err)
	}
	if _, err := ln.mission.Send(testCtx(), report(`{"still":"works"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := ln.hq.Send(testCtx(), notice("still works")); err != nil {
		t.Fatal(err)
	}
	waitInbox(t, ln.hq.Node, procedures, 1, 20*time.Second)
	waitInbox(t, ln.mission.Node, consular, 1, 20*time.Second)
}

func TestRevokedMissionIsDisconnectedAndCannotRejoin(t *testing.T) {
	ln := newLinkedNet(t, store.SQLite, nil)
	ln.waitLinked(t)
	// Only headquarters learns of the revocation: the mission's server
	// keeps trying with its old configuration.
	ln.conf.Revoked = []Revocation{{Node: "mission-h01", At: time.Now().UTC(), Reason: "keys lost"}}
	ln.conf.Serial++
	ln.conf.Issued = time.Now().UTC()
	if err := ln.conf.Build(); err != nil {
		t.Fatal(err)
	}
	signed, err := SignConf(ln.conf, ln.hq.ring.Signer())
	if err != nil {
		t.Fatal(err)
	}
	if err := ln.hq.Install(testCtx(), signed); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the revoked mission's link to drop", func() bool {
		l, err := ln.hqBus.LeafLinks()
		return err == nil && len(l) == 0
	})
	time.Sleep(3 * time.Second) // the mission retries every second
	if l, _ := ln.hqBus.LeafLinks(); len(l) != 0 {
		t.Fatalf("the revoked mission came back: %+v", l)
	}
	ctx, cancel := context.WithTimeout(testCtx(), 2*time.Second)
	defer cancel()
	if _, err := ln.mission.Call(ctx, consular, &Request{Service: lookupSvc, Method: "GET", Path: "/x"}); !errors.Is(err, ErrProviderUnreachable) {
		t.Errorf("the revoked mission's call = %v, want ErrProviderUnreachable", err)
	}
	if _, err := ln.missionBus.Conn().Request(confGetSubject, nil, time.Second); !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, nats.ErrTimeout) {
		t.Errorf("the revoked mission fetched the configuration: %v", err)
	}
}

func TestMissionTrustsOnlyALeafCertificateOfItsHeadquartersKey(t *testing.T) {
	hq, other := mustRing(t), mustRing(t)
	now := time.Now()
	cert, err := newLeafCert(hq, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyLeafCert(nil, hq.PublicKey(), now); err == nil {
		t.Error("an empty chain verified")
	}
	chain := []*x509.Certificate{cert.Leaf}
	if err := verifyLeafCert(chain, hq.PublicKey(), now); err != nil {
		t.Errorf("headquarters' own certificate: %v", err)
	}
	if err := verifyLeafCert(chain, other.PublicKey(), now); err == nil || !strings.Contains(err.Error(), "not be headquarters") {
		t.Errorf("a certificate of another key = %v", err)
	}
	if err := verifyLeafCert(chain, hq.PublicKey(), now.Add(2*leafCertValidity)); err == nil {
		t.Error("an expired certificate verified")
	}
	// A certificate of a key that is not headquarters', signed by itself.
	forged, err := newLeafCert(other, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyLeafCert([]*x509.Certificate{forged.Leaf}, hq.PublicKey(), now); err == nil {
		t.Error("a certificate signed by another key verified")
	}
}

// writeCA writes a CA certificate and, signed by it, a certificate for
// 127.0.0.1 with its key, as PEM files, and returns their paths.
func writeCA(t *testing.T) (caFile, certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Ministry test CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "hq.example"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("leaf.pem", "CERTIFICATE", leafDER), write("leaf.key", "EC PRIVATE KEY", keyDER)
}

func TestLeafLinkWithTheOperatorsCertificateFiles(t *testing.T) {
	caFile, certFile, keyFile := writeCA(t)
	otherCA, _, _ := writeCA(t)
	tn := newTestNet(t, store.SQLite)
	port := freePort(t)
	hub, err := tn.hq.LeafHub(LeafTLSFiles{CertFile: certFile, KeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	tn.hq.Attach(openBus(t, bus.Options{ServerName: "hq", JetStreamDomain: "hq", LeafListenPort: port, LeafHub: hub}))
	url := fmt.Sprintf("nats-leaf://127.0.0.1:%d", port)

	// A mission pinning headquarters' key refuses the operator's
	// certificate, and so does one trusting another CA.
	for _, files := range []LeafTLSFiles{{}, {CAFile: otherCA}} {
		dial, err := tn.mission.LeafDial(files)
		if err != nil {
			t.Fatal(err)
		}
		openBus(t, bus.Options{ServerName: "mission-h01", JetStreamDomain: "mission-h01", LeafRemotes: []string{url}, LeafDial: dial})
	}
	time.Sleep(2 * time.Second)
	if n := leafLinks(t, tn); n != 0 {
		t.Fatalf("a mission accepted a certificate it has no reason to trust (%d links)", n)
	}
	dial, err := tn.mission.LeafDial(LeafTLSFiles{CAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	openBus(t, bus.Options{ServerName: "mission-h01", JetStreamDomain: "mission-h01", LeafRemotes: []string{url}, LeafDial: dial})
	waitFor(t, 10*time.Second, "the link verified by the operator's CA", func() bool { return leafLinks(t, tn) == 1 })

	if _, err := tn.hq.LeafHub(LeafTLSFiles{CertFile: certFile, KeyFile: caFile}); err == nil || !strings.Contains(err.Error(), "--leaf-tls-key") {
		t.Errorf("LeafHub with a key file that holds no key = %v", err)
	}
	if _, err := tn.mission.LeafDial(LeafTLSFiles{CAFile: keyFile}); err == nil || !strings.Contains(err.Error(), "--leaf-tls-ca") {
		t.Errorf("LeafDial with a CA file that holds no certificate = %v", err)
	}
}
