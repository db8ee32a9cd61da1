package exchange

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"

	"chancery/internal/errs"
	"chancery/internal/store"
)

// commandEnv runs commands against node n.
func commandEnv(n *Node, out, errOut *bytes.Buffer) CommandEnv {
	return CommandEnv{
		Open: func(fs *flag.FlagSet) func(context.Context) (*Node, func() error, error) {
			return func(context.Context) (*Node, func() error, error) { return n, func() error { return nil }, nil }
		},
		Stdout: out, Stderr: errOut,
	}
}

func TestCommandListsServicesAndShowsTheConfiguration(t *testing.T) {
	tn := newTestNet(t, store.SQLite)
	var out, errOut bytes.Buffer
	env := commandEnv(tn.mission.Node, &out, &errOut)
	if err := Command(context.Background(), env, []string{"services", "--kind", "async"}); err != nil {
		t.Fatal(err)
	}
	list := out.String()
	if !strings.Contains(list, reportSvc.String()) || !strings.Contains(list, noticeSvc.String()) || strings.Contains(list, lookupSvc.String()) {
		t.Errorf("async services:\n%s", list)
	}
	out.Reset()
	if err := Command(context.Background(), env, []string{"conf"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "node mission-h01 (mission)") || !strings.Contains(out.String(), "(valid)") {
		t.Errorf("conf:\n%s", out.String())
	}
}

func TestCommandIssuesAndRevokesTokens(t *testing.T) {
	tn := newTestNet(t, store.SQLite)
	var out, errOut bytes.Buffer
	env := commandEnv(tn.mission.Node, &out, &errOut)
	if err := Command(context.Background(), env, []string{"token", "issue", consular.String(), "--label", "consular.example"}); err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(out.String())
	if got, err := tn.mission.Client(context.Background(), token); err != nil || got != consular {
		t.Fatalf("the issued token authenticates %v, %v", got, err)
	}
	if err := Command(context.Background(), env, []string{"token", "revoke", consular.String()}); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.mission.Client(context.Background(), token); !errors.Is(err, ErrBadClientToken) {
		t.Errorf("a revoked token authenticates: %v", err)
	}
	// A token for a subsystem another node serves is refused.
	if err := Command(context.Background(), env, []string{"token", "issue", procedures.String()}); err == nil {
		t.Error("the mission issued a token for headquarters' subsystem")
	}
}

func TestCommandRefusesBadCommandLines(t *testing.T) {
	tn := newTestNet(t, store.SQLite)
	for _, args := range [][]string{
		nil,
		{"unknown"},
		{"services", "--kind", "sometimes"},
		{"token", "issue"},
		{"token", "issue", "not/a/client"},
		{"send", "--service", reportSvc.String(), "x.json"},
		{"send", "--node", "ftp://x", "--token", "chx_x", "--service", reportSvc.String(), "x.json"},
		{"send", "--node", "http://127.0.0.1:1", "--token", "chx_x", "--service", "bad", "x.json"},
		{"inbox", "--node", "http://127.0.0.1:1"},
	} {
		var out, errOut bytes.Buffer
		err := Command(context.Background(), commandEnv(tn.mission.Node, &out, &errOut), args)
		if !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("chancery exchange %s: err = %v, want a usage error", strings.Join(args, " "), err)
		}
	}
}
