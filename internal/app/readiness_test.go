package app

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"chancery/internal/store/storetest"
)

// readiness fetches /readyz and decodes its body, failing the test on a
// status other than 200 or a 503 problem.
func readiness(t *testing.T, base string) (status int, checks map[string]string, detail string) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Checks map[string]string `json:"checks"`
		Detail string            `json:"detail"`
		Code   string            `json:"code"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("readyz body: %v", err)
	}
	switch ct := resp.Header.Get("Content-Type"); {
	case resp.StatusCode == http.StatusOK && strings.HasPrefix(ct, "application/json"):
	case resp.StatusCode == http.StatusServiceUnavailable && ct == "application/problem+json" && body.Code == "not_ready":
	default:
		t.Fatalf("readyz = %d %s code %q, want 200 JSON or a 503 not_ready problem", resp.StatusCode, ct, body.Code)
	}
	return resp.StatusCode, body.Checks, body.Detail
}

// waitReadiness polls /readyz until it answers want, and returns the
// last answer.
func waitReadiness(t *testing.T, base string, want int, within time.Duration) (map[string]string, string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		status, checks, detail := readiness(t, base)
		if status == want {
			return checks, detail
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz still %d %v %q after %s, want %d", status, checks, detail, within, want)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestAFullDiskFailsReadinessAnswers507AndRecoversWithoutARestart runs a
// node whose data directory (SQLite, blobs, the JetStream store) is on a
// small disk, fills it, and frees it again. While it is full, /readyz
// fails naming the database, the bus and the object store, /healthz stays 200, and a
// sign-in (which must write its session) gets a 507 problem, not a 500;
// once freed, the same node is ready and serves again.
func TestAFullDiskFailsReadinessAnswers507AndRecoversWithoutARestart(t *testing.T) {
	cfg := testConfig(t, true)
	cfg.DataDir = storetest.SmallDisk(t, 32<<20)
	a, srv := MustStart(t, cfg)
	if status, checks, _ := readiness(t, srv.URL); status != http.StatusOK {
		t.Fatalf("readyz before the disk is full = %d %v", status, checks)
	}
	// An empty write-ahead log: SQLite's next commit must grow it, as
	// it must once the log is in use (a commit into frames a
	// checkpoint freed needs no new space).
	if _, err := a.DB.ExecContext(t.Context(), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}

	free := storetest.FillDisk(t, cfg.DataDir)
	time.Sleep(2100 * time.Millisecond) // past the cached answer
	checks, detail := waitReadiness(t, srv.URL, http.StatusServiceUnavailable, 5*time.Second)
	if checks["database"] != "down: storage full" || checks["nats"] != "down: storage full" || checks["objects"] != "down: storage full" ||
		!strings.Contains(detail, "database") || !strings.Contains(detail, "message bus") || !strings.Contains(detail, "object store") {
		t.Errorf("readyz on a full disk: checks %v, detail %q; want the three named as full", checks, detail)
	}
	if status, body := get(t, srv.URL+"/healthz", nil); status != http.StatusOK {
		t.Errorf("healthz on a full disk = %d %s; it is about the process, which serves", status, body)
	}
	body := `{"username":"admin","password":"` + cfg.DemoPassword + `","totp":"` + demoTOTP(t, a, "admin") + `"}`
	resp, err := http.Post(srv.URL+"/api/v1/auth/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Code, Detail string
	}
	json.NewDecoder(resp.Body).Decode(&p) //nolint:errcheck // checked below
	resp.Body.Close()
	if resp.StatusCode != http.StatusInsufficientStorage || p.Code != "storage_full" || !strings.Contains(p.Detail, "storage is full") {
		t.Errorf("sign-in on a full disk = %d %+v, want 507 storage_full", resp.StatusCode, p)
	}

	free()
	freed := time.Now()
	checks, _ = waitReadiness(t, srv.URL, http.StatusOK, 20*time.Second)
	t.Logf("ready again %s after the disk was freed: %v", time.Since(freed).Round(time.Millisecond), checks)
	mustLogin(t, srv.URL, "admin", cfg.DemoPassword, demoTOTP(t, a, "admin"))
}

// TestReadinessFailsWhileTheDatabaseTakesNoWrites: a PostgreSQL database
// that answers but takes no writes (read-only, as a standby is after a
// failover) makes the node not ready, though a ping would pass; once it
// takes writes again the node is ready, without a restart.
func TestReadinessFailsWhileTheDatabaseTakesNoWrites(t *testing.T) {
	cfg := testConfig(t, false)
	cfg.DB = storetest.MustPostgresURL(t)
	a, srv := MustStart(t, cfg)
	if status, checks, _ := readiness(t, srv.URL); status != http.StatusOK || checks["database"] != "ok (postgres)" {
		t.Fatalf("readyz = %d %v", status, checks)
	}
	ctx := t.Context()
	var name string
	if err := a.DB.QueryRowContext(ctx, "SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	// New sessions start read-only; idle ones are dropped so that the
	// pool opens new ones.
	if _, err := a.DB.ExecContext(ctx, "ALTER DATABASE "+name+" SET default_transaction_read_only = on"); err != nil {
		t.Fatal(err)
	}
	a.DB.SetMaxIdleConns(0)
	time.Sleep(2100 * time.Millisecond) // past the cached answer
	checks, detail := waitReadiness(t, srv.URL, http.StatusServiceUnavailable, 5*time.Second)
	if checks["database"] != "down: cannot write" || !strings.HasPrefix(checks["nats"], "ok") || !strings.Contains(detail, "the database cannot write") {
		t.Errorf("readyz with a read-only database: checks %v, detail %q", checks, detail)
	}
	if status, _ := get(t, srv.URL+"/healthz", nil); status != http.StatusOK {
		t.Errorf("healthz = %d with a read-only database", status)
	}

	if _, err := a.DB.ExecContext(ctx, "BEGIN READ WRITE; ALTER DATABASE "+name+" RESET default_transaction_read_only; COMMIT"); err != nil {
		t.Fatal(err)
	}
	waitReadiness(t, srv.URL, http.StatusOK, 10*time.Second)
}

// TestReadinessFailsWhileTheObjectStoreCannotStore: readyz writes, reads
// back and deletes an object, so a store that cannot take writes makes
// the node not ready (naming the object store, not the database or the
// bus) until it can again, without a restart. The blobs' directory is
// replaced by a plain file, which no write under it survives, root's
// included.
func TestReadinessFailsWhileTheObjectStoreCannotStore(t *testing.T) {
	cfg := testConfig(t, false)
	_, srv := MustStart(t, cfg)
	if status, checks, _ := readiness(t, srv.URL); status != http.StatusOK || checks["objects"] != "ok" {
		t.Fatalf("readyz = %d %v", status, checks)
	}
	blobs := filepath.Join(cfg.DataDir, "blobs")
	if err := os.Rename(blobs, blobs+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blobs, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond) // past the cached answer
	checks, detail := waitReadiness(t, srv.URL, http.StatusServiceUnavailable, 5*time.Second)
	if checks["objects"] != "down: cannot store objects" || !strings.HasPrefix(checks["database"], "ok") ||
		!strings.HasPrefix(checks["nats"], "ok") || detail != "Not ready: the object store cannot store objects." {
		t.Errorf("readyz with an object store that cannot write: checks %v, detail %q", checks, detail)
	}

	if err := os.Remove(blobs); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(blobs+".away", blobs); err != nil {
		t.Fatal(err)
	}
	checks, _ = waitReadiness(t, srv.URL, http.StatusOK, 10*time.Second)
	if checks["objects"] != "ok" {
		t.Errorf("readyz after the store recovered: %v", checks)
	}
}
