package exchange

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"chancery/internal/authz"
)

// send without --level sends authz's name of the lowest level, which the
// node's API takes; it once sent "unclassified", which the API refused.
func TestCommandSendDefaultsToALevelTheAPITakes(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get(HeaderLevel))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"id": "m1"}`))
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "x.json")
	if err := os.WriteFile(file, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	env := CommandEnv{Stdout: &out, Stderr: &errOut}
	for _, args := range [][]string{{}, {"--level", "secret"}} {
		args = append([]string{"send", "--node", srv.URL, "--token", "chx_x", "--service", reportSvc.String()}, append(args, file)...)
		if err := Command(context.Background(), env, args); err != nil {
			t.Fatalf("%v: %v (%s)", args, err, errOut.String())
		}
	}
	if len(got) != 2 || got[0] != "none" || got[1] != "secret" {
		t.Fatalf("levels sent = %q, want none then secret", got)
	}
	for _, l := range got {
		if _, err := authz.ParseLevel(l); err != nil {
			t.Errorf("the API refuses the level sent: %v", err)
		}
	}
}
