package archimate

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

func TestRenderViewDrawsNodesConnectionsAndEscapes(t *testing.T) {
	m, err := Decode(bytes.NewReader(mustSample(t)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	svg := RenderView(m, &m.Views[0], "vi")
	s := string(svg)
	for _, want := range []string{`<rect x="30" y="40" width="120" height="55" fill="#b5ffff"`, `Cổng thông tin`, `points="92,67 200,20 220,20 308,67"`, `A note &lt;script&gt;`, `stroke-dasharray`} {
		if !strings.Contains(s, want) {
			t.Errorf("SVG lacks %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, "<script>") {
		t.Fatal("a label's markup reached the SVG unescaped")
	}
	// The SVG is well-formed XML.
	d := xml.NewDecoder(bytes.NewReader(svg))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("SVG is not well-formed: %v", err)
		}
	}
}

func TestWrapCutsLongNames(t *testing.T) {
	got := wrap("national data exchange platform of the government", 10, 2)
	if len(got) != 2 || !strings.HasSuffix(got[1], "…") {
		t.Fatalf("%q", got)
	}
}
