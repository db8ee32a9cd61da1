package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"chancery/internal/errs"
	"chancery/internal/keys"
	"chancery/internal/store"
	"chancery/internal/store/storetest"
)

// fakeHQ plays headquarters' enrolment endpoint: it checks the secret,
// certifies the mission's keys in a real configuration signed by the
// headquarters node, or refuses with refuseStatus.
type fakeHQ struct {
	hq           *testNode
	secret       string
	refuseStatus int
	got          EnrolRequest
	// leafUser and leafPassword, if set, are sent as the mission's leaf
	// user on a stock NATS cluster.
	leafUser, leafPassword string
}

func (f *fakeHQ) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != EnrolPath || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	if err := json.NewDecoder(r.Body).Decode(&f.got); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if f.refuseStatus != 0 || !strings.HasPrefix(f.got.Token, f.secret+".") {
		status := f.refuseStatus
		if status == 0 {
			status = http.StatusForbidden
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(status), "detail": "the enrolment token was used already"})
		return
	}
	hqInfo := withRole(f.hq.Info(), hqMember)
	conf := &GlobalConf{Instance: DefaultInstance, Serial: 5, HQ: hqInfo.ID, Issued: time.Now().UTC(), Expires: time.Now().Add(time.Hour).UTC(),
		Members: []Member{
			{Instance: DefaultInstance, Class: ClassGOV, Code: hqMember, Node: hqInfo.ID},
			{Instance: DefaultInstance, Class: ClassGOV, Code: missionMember, Node: "mission-h01"},
		},
		Nodes: []NodeInfo{hqInfo, {ID: "mission-h01", Role: RoleMission, Member: missionMember, Domain: "mission-h01",
			SigningKey: f.got.SigningKey, SigningKeyID: keys.KeyID(f.got.SigningKey), EncryptionKey: f.got.EncryptionKey, Certified: time.Now().UTC()}},
	}
	if err := conf.Build(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	signed, err := SignConf(conf, f.hq.ring.Signer())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	json.NewEncoder(w).Encode(EnrolResponse{NodeID: "mission-h01", Conf: signed, LeafURLs: []string{"nats-leaf://hq.invalid:7422"},
		LeafUser: f.leafUser, LeafPassword: f.leafPassword})
}

func TestEnrolMakesAMissionNodeThatTrustsTheTokensKey(t *testing.T) {
	ctx := testCtx()
	hq := newTestNode(t, store.SQLite, RoleHQ, "hq", nil)
	fake := &fakeHQ{hq: hq, secret: "s3cret"}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	token := "s3cret." + keys.Fingerprint(hq.ring.PublicKey())

	db := storetest.MustOpen(t, store.SQLite)
	ring := mustRing(t)
	if err := Enrol(ctx, db, ring, srv.URL+"/", token, srv.Client()); err != nil {
		t.Fatalf("Enrol: %v", err)
	}
	if string(fake.got.SigningKey) != string(ring.PublicKey()) || len(fake.got.EncryptionKey) != KEMPublicKeySize || fake.got.Token != token {
		t.Errorf("headquarters received %+v", fake.got)
	}
	n, err := OpenNode(ctx, db, ring, nil, NodeOptions{Role: RoleMission})
	if err != nil {
		t.Fatalf("OpenNode after Enrol: %v", err)
	}
	c, err := n.Conf()
	if err != nil || c.Serial != 5 || n.ID() != "mission-h01" || n.HQURL() != srv.URL+"/" || len(n.LeafURLs()) != 1 {
		t.Fatalf("enrolled node %s (hq %s, leaf %v) holds %v, %v", n.ID(), n.HQURL(), n.LeafURLs(), c, err)
	}
	if string(n.Info().EncryptionKey) != string(fake.got.EncryptionKey) {
		t.Error("the node's encryption key is not the one headquarters certified")
	}
	// The mission trusts headquarters' key for later configurations.
	if string(n.trustAnchor()) != string(hq.ring.PublicKey()) {
		t.Error("the mission does not trust headquarters' key")
	}
	err = Enrol(ctx, db, ring, srv.URL, token, srv.Client())
	if !errors.Is(err, errs.ErrConflict) {
		t.Errorf("a second Enrol = %v, want a conflict", err)
	}
}

func TestEnrolRefusals(t *testing.T) {
	ctx := testCtx()
	hq := newTestNode(t, store.SQLite, RoleHQ, "hq", nil)
	keyID := keys.Fingerprint(hq.ring.PublicKey())
	for _, tc := range []struct {
		name         string
		token, url   string
		refuseStatus int
		want         error
		text         []string
	}{
		{"token naming another key", "s3cret." + keys.Fingerprint(mustRing(t).PublicKey()), "", 0, ErrBadSignature, []string{"do not join"}},
		// A token of before the full fingerprint: its 64-bit key id is
		// refused before headquarters is even asked.
		{"token with a short key id", "s3cret." + hq.ring.Signer().KeyID(), "", 0, errs.ErrInvalid, []string{"short id", "new token"}},
		{"token with a mangled fingerprint", "s3cret." + strings.ToUpper(keyID), "", 0, errs.ErrInvalid, []string{"64 hex digits"}},
		{"headquarters refuses", "wrong." + keyID, "", 0, nil, []string{"403", "the enrolment token was used already"}},
		{"headquarters fails", "s3cret." + keyID, "", http.StatusServiceUnavailable, nil, []string{"503"}},
		{"token without key id", "s3cret", "", 0, errs.ErrInvalid, []string{"<secret>.<key fingerprint>"}},
		{"token ending in a dot", "s3cret.", "", 0, errs.ErrInvalid, []string{"<secret>.<key fingerprint>"}},
		{"not a web address", "s3cret." + keyID, "ftp://hq", 0, errs.ErrInvalid, []string{"--join"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(&fakeHQ{hq: hq, secret: "s3cret", refuseStatus: tc.refuseStatus})
			defer srv.Close()
			url := srv.URL
			if tc.url != "" {
				url = tc.url
			}
			db := storetest.MustOpen(t, store.SQLite)
			err := Enrol(ctx, db, mustRing(t), url, tc.token, srv.Client())
			if err == nil {
				t.Fatal("Enrol succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Enrol = %v, want %v", err, tc.want)
			}
			for _, s := range tc.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Enrol = %q, want it to say %q", err, s)
				}
			}
			if ok, err := Enrolled(context.Background(), db); err != nil || ok {
				t.Errorf("after a refused enrolment Enrolled = %v, %v; want nothing saved", ok, err)
			}
		})
	}
}
