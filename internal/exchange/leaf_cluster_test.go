package exchange

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"chancery/internal/bus"
	"chancery/internal/store"
)

// missionAccount runs deploy/nats/mission-account.sh for node id and
// returns its sections by title: the account block, HQ's exports and
// HQ's imports.
func missionAccount(t *testing.T, id string) map[string]string {
	t.Helper()
	out, err := exec.Command("bash", filepath.Join("..", "..", "deploy", "nats", "mission-account.sh"), id).Output()
	if err != nil {
		t.Fatalf("mission-account.sh %s: %v", id, err)
	}
	sections := map[string]string{}
	title := ""
	for line := range strings.Lines(string(out)) {
		if rest, ok := strings.CutPrefix(line, "# --- "+id+": "); ok {
			title = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "---"))
			continue
		}
		sections[title] += line
	}
	return sections
}

// On headquarters' external cluster, configured by deploy/nats, a
// mission creates its consumer only through headquarters' replicas,
// which create the consumer the transport uses whatever the mission asked
// for; and it cannot create, read, pull from or delete another mission's
// consumer, nor reach headquarters' JetStream API.
func TestOnTheClusterAMissionCreatesOnlyItsOwnConsumerAsHeadquartersMakesIt(t *testing.T) {
	tn := newTestNet(t, store.SQLite)
	missions := []string{"mission-h01", "mission-h02"}
	var accounts, hqExports, hqImports string
	for _, id := range missions {
		s := missionAccount(t, id)
		// A client user in the mission's account stands for its leaf
		// link, which the cluster binds to the same account.
		accounts += strings.Replace(s["paste into the accounts block"], ": {\n", ": {\n  users: [ { user: \""+id+"\", password: \"pw\" } ]\n", 1)
		hqExports += s["add to HQ's exports"]
		hqImports += s["add to HQ's imports"]
	}
	stock := startStockNATS(t, fmt.Sprintf(`
listen: "127.0.0.1:-1"
jetstream { store_dir: %q, domain: hq }
accounts: {
  HQ: {
    jetstream: enabled
    users: [ { user: "chancery", password: "hq" } ]
    exports: [
      { service: "chx.req.hq" }
      { service: "chx.conf.get" }
      { stream: "chx.conf" }
      { service: "chx.hub.nojs" }
%s    ]
    imports: [
%s    ]
  }
%s}
`, t.TempDir(), hqExports, hqImports, accounts))
	addr := strings.TrimPrefix(stock.ClientURL(), "nats://")
	hqBus := openBus(t, bus.Options{URL: "nats://chancery:hq@" + addr, JetStreamDomain: "hq"})
	tn.hq.Attach(hqBus)
	ctx := testCtx()
	js := hqBus.JetStream()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: streamName, Subjects: []string{subjectPrefix + "hq.>"},
		Retention: jetstream.WorkQueuePolicy}); err != nil {
		t.Fatal(err)
	}
	connect := func(id string) *nats.Conn {
		nc, err := nats.Connect(stock.ClientURL(), nats.UserInfo(id, "pw"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	a, b := connect(missions[0]), connect(missions[1])
	api := func(op, id string) string {
		s := "$JS.API.CONSUMER." + op + "." + streamName + "." + consumerName("hq", id)
		if op == "CREATE" {
			s = "$JS.hq.API.CONSUMER.CREATE." + streamName + "." + consumerName("hq", id) + "." + subjectFor("hq", id)
		}
		return s
	}
	request := func(nc *nats.Conn, subject string, body any) (*nats.Msg, error) {
		data, _ := json.Marshal(body)
		return nc.Request(subject, data, 5*time.Second)
	}

	// A hostile creation: a push consumer delivering into headquarters'
	// JetStream API, acknowledging nothing.
	hostile := map[string]any{"stream_name": streamName, "config": map[string]any{"durable_name": consumerName("hq", missions[0]),
		"deliver_subject": "$JS.API.STREAM.DELETE." + streamName, "filter_subject": subjectFor("hq", missions[0]), "ack_policy": "none"}}
	var reply *nats.Msg
	waitFor(t, 10*time.Second, "headquarters' replica to answer the creation", func() bool {
		var err error
		reply, err = request(a, api("CREATE", missions[0]), hostile)
		return err == nil
	})
	var created struct {
		Error *struct{ Description string } `json:"error"`
	}
	if err := json.Unmarshal(reply.Data, &created); err != nil || created.Error != nil {
		t.Fatalf("the mission's own creation: %s", reply.Data)
	}
	cons, err := js.Consumer(ctx, streamName, consumerName("hq", missions[0]))
	if err != nil {
		t.Fatal(err)
	}
	if cfg := cons.CachedInfo().Config; cfg.DeliverSubject != "" || cfg.AckPolicy != jetstream.AckExplicitPolicy || cfg.FilterSubject != subjectFor("hq", missions[0]) {
		t.Fatalf("the consumer was made as the mission asked (deliver %q, ack %v, filter %q), not as the transport uses it",
			cfg.DeliverSubject, cfg.AckPolicy, cfg.FilterSubject)
	}
	if _, err := request(b, api("CREATE", missions[1]), map[string]any{"stream_name": streamName}); err != nil {
		t.Fatalf("the other mission's own creation: %v", err)
	}

	// Nothing of the other mission's consumer, nor headquarters' API,
	// answers the first mission: at most its own account's server says
	// it has no JetStream.
	for _, subject := range []string{
		api("CREATE", missions[1]), strings.Replace(api("CREATE", missions[1]), "$JS.hq.API.", "$JS.API.", 1), hubCreatePrefix + "hq." + missions[1],
		api("DELETE", missions[1]), api("INFO", missions[1]), api("MSG.NEXT", missions[1]),
		"$JS.API.CONSUMER.CREATE." + streamName + ".other", "$JS.API.CONSUMER.DURABLE.CREATE." + streamName + ".other",
		"$JS.API.STREAM.DELETE." + streamName, "$JS.API.INFO",
	} {
		var body []byte // what the API takes: nothing but for a creation
		if strings.Contains(subject, "CREATE") {
			body, _ = json.Marshal(map[string]any{"stream_name": streamName, "config": map[string]any{"durable_name": "other"}})
		}
		m, err := a.Request(subject, body, 5*time.Second)
		if errors.Is(err, nats.ErrNoResponders) {
			continue
		}
		if err != nil || !strings.Contains(string(m.Data), "JetStream not enabled for account") {
			t.Errorf("mission %s on %s: %v %s, want no answer from headquarters", missions[0], subject, err, m.Data)
		}
	}
	if _, err := js.Consumer(ctx, streamName, consumerName("hq", missions[1])); err != nil {
		t.Errorf("the other mission's consumer: %v", err)
	}
	stream, err := js.Stream(ctx, streamName)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range stream.ConsumerNames(ctx).Name() {
		names = append(names, n)
	}
	if len(names) != 2 {
		t.Errorf("consumers on headquarters' stream: %v, want the two missions' own", names)
	}
}
