package exchange

import (
	"context"
	"strconv"
	"testing"
	"time"

	"chancery/internal/bus"
	"chancery/internal/store"
)

// Configurations published in quick succession (a mission's enrolment
// and the registrations that follow it) reach the missions as the
// newest only, not one by one: each is parsed and stored by every
// mission.
func TestHeadquartersPublishesTheNewestOfConfigurationsInQuickSuccession(t *testing.T) {
	tn := newTestNet(t, store.SQLite)
	b := openBus(t, bus.Options{ServerName: "hq", JetStreamDomain: tn.hq.Domain()})
	tn.hq.Attach(b)
	sub, err := b.Conn().SubscribeSync(confSubject)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Conn().Flush(); err != nil {
		t.Fatal(err)
	}
	run(t, tn.hq.Node)
	const published = 10
	for range published {
		tn.conf.Serial++
		tn.conf.Issued = time.Now().UTC()
		if err := tn.conf.Build(); err != nil {
			t.Fatal(err)
		}
		signed, err := SignConf(tn.conf, tn.hq.ring.Signer())
		if err != nil {
			t.Fatal(err)
		}
		if err := tn.hq.PublishConf(context.Background(), signed); err != nil {
			t.Fatal(err)
		}
	}
	var got []uint64
	for len(got) == 0 || got[len(got)-1] != tn.conf.Serial {
		m, err := sub.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("after serials %v, the newest (%d) was not published: %v", got, tn.conf.Serial, err)
		}
		c, err := ParseConf(m.Data, tn.hq.ring.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c.Serial)
	}
	if len(got) > published/2 {
		t.Errorf("headquarters published serials %v one by one; want the newest to supersede those not yet sent", got)
	}
	if c, err := tn.hq.Conf(); err != nil || c.Serial != tn.conf.Serial {
		t.Errorf("headquarters holds %v (%v), want serial %d installed at once", c, err, tn.conf.Serial)
	}
}

// A mission that names the serial it holds is answered with the
// configuration only when headquarters holds a newer one, so that it
// can ask often and make up for a publication its link lost.
func TestHeadquartersAnswersAConfigurationRequestOnlyWithANewerOne(t *testing.T) {
	tn := newTestNet(t, store.SQLite)
	b := openBus(t, bus.Options{ServerName: "hq", JetStreamDomain: tn.hq.Domain()})
	tn.hq.Attach(b)
	run(t, tn.hq.Node)
	ask := func(body string) []byte {
		t.Helper()
		m, err := b.Conn().Request(confGetSubject, []byte(body), 10*time.Second)
		if err != nil {
			t.Fatalf("ask with %q: %v", body, err)
		}
		return m.Data
	}
	serial := strconv.FormatUint(tn.conf.Serial, 10)
	if got := ask(serial); len(got) != 0 {
		t.Errorf("a mission holding serial %s was sent %d bytes, want an empty answer", serial, len(got))
	}
	for _, body := range []string{strconv.FormatUint(tn.conf.Serial-1, 10), ""} {
		c, err := ParseConf(ask(body), tn.hq.ring.PublicKey())
		if err != nil || c.Serial != tn.conf.Serial {
			t.Errorf("a mission asking with %q got %v, %v; want serial %d", body, c, err, tn.conf.Serial)
		}
	}
}
