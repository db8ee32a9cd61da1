package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"chancery/internal/store/storetest"
)

// run runs the chancery command line in this process and returns its
// standard output, failing the test on a non-zero exit.
func run(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := Main(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("chancery %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// TestMissionEnrolsAndExchangesWithHeadquarters runs headquarters and a
// mission as two real processes, as the README's demo says: the mission
// enrols with a token issued on headquarters, receives the global
// configuration, joins as a leaf node, sends an asynchronous report that
// arrives in headquarters' inbox, and calls the population service at
// headquarters synchronously.
//
// Headquarters starts on a copy of the seeded demo data every in-process
// demo node of these tests starts on (theDemoTemplate; the records' demo
// year left out), as a demo node starts the second time: seeding it
// afresh in the child took most of this test's minute and a half under
// -race, and TestAuditVerifyAfterADemoServe already runs a `serve --demo`
// that seeds from nothing.
func TestMissionEnrolsAndExchangesWithHeadquarters(t *testing.T) {
	hqCfg := testConfig(t, true)
	theDemoTemplate.firstStart(t, hqCfg)
	// The mission's data directories hold a copy of storetest's migrated
	// database, as testConfig's do (what is under test is the enrolment,
	// not the migrations, which TestMigrateCommandReportsTheSchemaVersion
	// runs from nothing).
	hqDir, missionDir, secondDir := hqCfg.DataDir, t.TempDir(), t.TempDir()
	storetest.MigratedDataDir(t, missionDir)
	storetest.MigratedDataDir(t, secondDir)
	leaf := fmt.Sprintf("127.0.0.1:%d", storetest.FreePort(t))
	_, hq := startChild(t, "serve", "--demo", "--data", hqDir, "--addr", "127.0.0.1:0", "--leaf-addr", leaf)
	admin := mustLogin(t, hq, "admin", "Chancery-Demo-2026", totpNow(t, demoSecret(t, hqDir, "admin")))

	var enrolment struct{ Token, Command string }
	status := callJSON(t, http.MethodPost, hq+"/api/v1/exchange/enrolments", admin, `{"member":"000.01.02.G12"}`, &enrolment)
	if status != http.StatusCreated || !strings.Contains(enrolment.Command, "--token "+enrolment.Token) {
		t.Fatalf("issue enrolment = %d %+v", status, enrolment)
	}
	_, mission := startChild(t, "serve", "--role", "mission", "--join", hq, "--token", enrolment.Token,
		"--data", missionDir, "--addr", "127.0.0.1:0", "--admin-password", "Embassy-in-Paris-2026")
	if conf := run(t, "exchange", "conf", "--data", missionDir); !strings.Contains(conf, "node mission-000-01-02-g12 (mission)") {
		t.Fatalf("the mission's configuration:\n%s", conf)
	}
	// A second enrolment with the same token is refused: tokens are used once.
	if err := Main(context.Background(), []string{"serve", "--role", "mission", "--join", hq, "--token", enrolment.Token,
		"--data", secondDir, "--addr", "127.0.0.1:0"}, io.Discard, io.Discard); err == 0 {
		t.Fatal("a used enrolment token enrolled a second node")
	}

	missionToken := run(t, "exchange", "token", "issue", "VN/GOV/000.01.02.G12/consular", "--data", missionDir)
	hqToken := run(t, "exchange", "token", "issue", "VN/GOV/000.00.03.G12/consular", "--data", hqDir)
	report := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(report, []byte(`{"month":"2026-11","visas":412}`), 0o600); err != nil {
		t.Fatal(err)
	}
	id := run(t, "exchange", "send", "--node", mission, "--token", missionToken,
		"--service", "VN/GOV/000.00.03.G12/consular/consular-report/v1", "--level", "confidential", report)

	deadline := time.Now().Add(30 * time.Second)
	for {
		inbox := run(t, "exchange", "inbox", "--node", hq, "--token", hqToken, "--ack")
		if strings.Contains(inbox, id) {
			if !strings.Contains(inbox, `"sender":"VN/GOV/000.01.02.G12/consular"`) || !strings.Contains(inbox, `"level":"confidential"`) {
				t.Fatalf("the report arrived as %s", inbox)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s did not reach headquarters' inbox within 30 s (inbox: %q)", id, inbox)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if again := run(t, "exchange", "inbox", "--node", hq, "--token", hqToken); strings.Contains(again, id) {
		t.Fatalf("an acknowledged message is still in the inbox: %s", again)
	}

	req, _ := http.NewRequest(http.MethodGet, mission+"/exchange/v1/VN/GOV/000.00.00.G02/population/citizen-lookup/v1/v1/citizens/001188004215", nil)
	req.Header.Set("Authorization", "Bearer "+missionToken)
	// The population database answers only a lookup that says for whom
	// and why; the exchange carries both to it.
	req.Header.Set("X-Road-UserId", "staff:paris.clerk")
	req.Header.Set("X-Road-Issue", "applicant at the counter")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Nguyễn Thị Lan") || resp.Header.Get("X-Chancery-Message-Id") == "" {
		t.Fatalf("citizen lookup through the exchange = %d %s", resp.StatusCode, body)
	}

	// The embassy's counter takes a dossier on the mission's own node;
	// its statuses reach the National Public Service Portal through the
	// leaf link and headquarters.
	// The mission's administrator enrols a second factor with a code
	// the command line issues, then also works the counter.
	clerk := mustLogin(t, mission, "admin", "Embassy-in-Paris-2026", "")
	code := regexp.MustCompile(`enrolment code for admin: (\S+)`).FindStringSubmatch(run(t, "user", "--data", missionDir, "enrolment-code", "admin"))
	var enrolled struct{ Secret string }
	if code == nil || callJSON(t, http.MethodPost, mission+"/api/v1/auth/totp/enrolment", clerk, `{"enrolment_code":"`+code[1]+`"}`, &enrolled) != http.StatusOK {
		t.Fatalf("enrol the mission administrator's second factor with %q: %+v", code, enrolled)
	}
	if status := callJSON(t, http.MethodPost, mission+"/api/v1/auth/totp/confirm", clerk, `{"totp":"`+totpNow(t, enrolled.Secret)+`"}`, &struct{}{}); status != http.StatusNoContent {
		t.Fatalf("confirm the mission administrator's second factor = %d", status)
	}
	run(t, "user", "--data", missionDir, "set-role", "admin", "administrator,clerk")
	dossier := `{"procedure_code":"1.900003","agency_code":"000.01.02.G12","channel":1,"receipt":"BL-0001","form":{
		"applicant":{"full_name":"Trần Văn Minh","id_type":"passport","id_number":"C1234567","email":"minh@example.com"},
		"document_name":"Acte de naissance","issuing_authority":"Mairie de Paris","issue_date":"2020-01-10",
		"issuing_country":"FR","copies":1,"delivery":"counter","declaration":true}}`
	var created struct{ Code string }
	if status := callJSON(t, http.MethodPost, mission+"/api/v1/dossiers", clerk, dossier, &created); status != http.StatusCreated || created.Code == "" {
		t.Fatalf("the embassy's counter entry = %d %+v", status, created)
	}
	if !strings.HasPrefix(created.Code, "000.01.02.G12-") {
		t.Errorf("the embassy's dossier is numbered %s", created.Code)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, hq+"/console/simulators/national-portal?dossier_code="+created.Code, nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Count(string(page), "<code>"+created.Code+"</code>") >= 2 {
			break // registered (1) and received (2)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the embassy's dossier %s did not reach the national portal simulator within 30 s", created.Code)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Sentinel at the mission: wrong passwords for several accounts from
	// one address trip its credential-stuffing rule; the mission scores
	// its own ledger and forwards the alert through the exchange, and
	// headquarters lists it with the mission's name.
	for _, name := range []string{"ana", "bao", "chi", "dung", "em", "giang"} {
		resp, err := http.Post(mission+"/api/v1/auth/login", "application/json", strings.NewReader(`{"username":"`+name+`","password":"not-the-password"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	officer := mustLogin(t, hq, "security.officer", "Chancery-Demo-2026", totpNow(t, demoSecret(t, hqDir, "security.officer")))
	deadline = time.Now().Add(90 * time.Second)
	for {
		var alerts struct {
			Items []struct {
				Rule     string `json:"rule"`
				Node     string `json:"node"`
				NodeName string `json:"node_name"`
			}
		}
		if status := callJSON(t, http.MethodGet, hq+"/api/v1/sentinel/alerts?rule=credential_stuffing", officer, "", &alerts); status != http.StatusOK {
			t.Fatalf("list headquarters' alerts = %d", status)
		}
		found := false
		for _, a := range alerts.Items {
			found = found || a.Node == "mission-000-01-02-g12" && a.NodeName != ""
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mission's credential-stuffing alert did not reach headquarters within 90 s: %+v", alerts.Items)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// The mission witnesses headquarters' ledger: headquarters pushes its
	// checkpoints through the exchange and serves them with the mission's
	// cosignature (c2sp.org/tlog-witness).
	auditor := mustLogin(t, hq, "auditor", "Chancery-Demo-2026", totpNow(t, demoSecret(t, hqDir, "auditor")))
	deadline = time.Now().Add(90 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, hq+"/api/v1/audit/log/checkpoint", nil)
		req.Header.Set("Authorization", "Bearer "+auditor)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		note, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(note), "\n— chancery/witness/mission-000-01-02-g12 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("headquarters' checkpoint has no cosignature of the mission within 90 s: %d\n%s", resp.StatusCode, note)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// Revoked on headquarters' console, the mission is cut off at once:
	// headquarters' NATS server closes its leaf link and refuses it since,
	// so its calls find no one to answer (its own configuration, which it
	// can no longer fetch, does not know of the revocation).
	if status := callJSON(t, http.MethodPost, hq+"/api/v1/exchange/nodes/mission-000-01-02-g12/revoke", admin,
		`{"reason":"keys lost"}`, &struct{}{}); status != http.StatusNoContent {
		t.Fatalf("revoke the mission's node = %d", status)
	}
	lookup := func() int {
		req, _ := http.NewRequest(http.MethodGet, mission+"/exchange/v1/VN/GOV/000.00.00.G02/population/citizen-lookup/v1/v1/citizens/001188004215", nil)
		req.Header.Set("Authorization", "Bearer "+missionToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Cut off, the mission gets no answer from headquarters: 503 once it
	// knows its link is down, 504 while a request is still waiting on it.
	cutOff := func(status int) bool {
		return status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
	}
	deadline = time.Now().Add(15 * time.Second) // at once, but the machine may be loaded
	for status := lookup(); !cutOff(status); status = lookup() {
		if time.Now().After(deadline) {
			t.Fatalf("the revoked mission still reaches headquarters after 15 s: its lookup answers %d", status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // the mission's server tries to rejoin every second
	if status := lookup(); !cutOff(status) {
		t.Fatalf("the revoked mission rejoined: its lookup answers %d", status)
	}
}

// callJSON sends a JSON request with a bearer token and decodes the
// answer into out, returning the status.
func callJSON(t *testing.T, method, url, bearer, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil && err != io.EOF {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp.StatusCode
}
