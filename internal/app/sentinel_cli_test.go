package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSentinelCommand: `chancery sentinel` is wired, a hostile file
// exits 1 with a message naming the line, and a wrong command line 2.
func TestSentinelCommand(t *testing.T) {
	dir := t.TempDir()
	hostile := filepath.Join(dir, "hostile.jsonl")
	if err := os.WriteFile(hostile, []byte("{\"format\":\x00}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := Main(t.Context(), []string{"sentinel", "replay", hostile}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "line 1 of the export holds a NUL byte") {
		t.Errorf("replay of a hostile file: exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := Main(t.Context(), []string{"sentinel", "eval", "--staff", "x"}, &out, &errb); code != 2 {
		t.Errorf("eval --staff x: exit %d, stderr %q", code, errb.String())
	}
}
