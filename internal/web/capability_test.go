package web

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestCapabilitySetUp pins the handlers' shared set-up: the pages are
// parsed once at start, and a missing service or a broken template is
// an error at start naming the capability.
func TestCapabilitySetUp(t *testing.T) {
	shell := NewShell(testTexts(t))
	type service struct{ name string }
	good := fstest.MapFS{"templates/page.html": {Data: []byte(`{{define "content"}}ok{{end}}`)}}
	var c Capability[service]
	if err := c.Init("demo", shell, &service{"s"}, good); err != nil || c.Svc.name != "s" || c.Shell != shell || c.Pages == nil {
		t.Fatalf("Init = %v, %+v; want the service, shell and pages", err, c)
	}
	if err := new(Capability[service]).Init("demo", shell, nil, good); err == nil || !strings.Contains(err.Error(), "demo: NewHandler needs the service") {
		t.Errorf("no service: %v", err)
	}
	broken := fstest.MapFS{"templates/page.html": {Data: []byte(`{{define "content"}}{{.Oops`)}}
	if err := new(Capability[service]).Init("demo", shell, &service{}, broken); err == nil || !strings.Contains(err.Error(), "demo: parse page templates") {
		t.Errorf("a broken template: %v", err)
	}
}
