//go:build ignore

// Command testreport reads `go test -json` events on standard input and
// tells CI what happened: the output of every failed test and build, each
// skipped test with its reason, and a closing count. It exits non-zero when
// a test or build failed, or when CHANCERY_REQUIRE_POSTGRES,
// CHANCERY_REQUIRE_BROWSER or CHANCERY_REQUIRE_OCR is set and a test
// skipped for want of PostgreSQL, a browser or the OCR tools (pdftotext,
// pdftoppm, tesseract with its Vietnamese data) — judged by the skipped
// test's own output, which go test prints before the "--- SKIP" line.
//
// Run it as `go run .ci/testreport.go < events.json`.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// needs matches the skip messages of tests that CI must not skip.
var needs = regexp.MustCompile(`(?i)postgres|initdb|chromium|browser|axe-core|ocr tools|xmllint`)

func main() {
	outputs := map[string]*strings.Builder{} // package + test → its output
	key := func(e event) string { return e.Package + " " + e.Test }
	var passed, failed, skipped, pkgFailed int
	var failures, skips, required, buildErrs []string
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			// go test prints build errors of packages it cannot run outside
			// the event stream in older toolchains: keep them.
			buildErrs = append(buildErrs, string(line))
			continue
		}
		switch e.Action {
		case "build-output":
			buildErrs = append(buildErrs, strings.TrimRight(e.Output, "\n"))
		case "output":
			b := outputs[key(e)]
			if b == nil {
				b = &strings.Builder{}
				outputs[key(e)] = b
			}
			b.WriteString(e.Output)
		case "pass":
			if e.Test != "" {
				passed++
			}
		case "fail":
			if e.Test != "" {
				failed++
			} else {
				pkgFailed++
			}
			if b := outputs[key(e)]; b != nil && (e.Test != "" || packageTrouble(b.String())) {
				failures = append(failures, fmt.Sprintf("--- FAIL %s\n%s", key(e), b.String()))
			}
		case "skip":
			if e.Test == "" {
				continue // a package with no tests
			}
			skipped++
			out := ""
			if b := outputs[key(e)]; b != nil {
				out = b.String()
			}
			reason := skipReason(out)
			skips = append(skips, fmt.Sprintf("%s: %s", key(e), reason))
			if needs.MatchString(reason) {
				required = append(required, fmt.Sprintf("%s: %s", key(e), reason))
			}
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "testreport: read the test events:", err)
		os.Exit(2)
	}
	if len(buildErrs) > 0 {
		fmt.Println("build output:")
		fmt.Println(strings.Join(buildErrs, "\n"))
	}
	for _, f := range failures {
		fmt.Print(f)
	}
	sort.Strings(skips)
	if len(skips) > 0 {
		fmt.Println("skipped tests:")
		for _, s := range skips {
			fmt.Println("  " + s)
		}
	}
	status := 0
	if failed > 0 || pkgFailed > 0 {
		status = 1
	}
	strict := os.Getenv("CHANCERY_REQUIRE_POSTGRES") != "" || os.Getenv("CHANCERY_REQUIRE_BROWSER") != "" || os.Getenv("CHANCERY_REQUIRE_OCR") != "" || os.Getenv("CHANCERY_REQUIRE_XMLLINT") != ""
	if strict && len(required) > 0 {
		fmt.Println("a PostgreSQL, browser or OCR test skipped; CI requires them:")
		for _, s := range required {
			fmt.Println("  " + s)
		}
		status = 1
	}
	fmt.Printf("tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped)
	os.Exit(status)
}

// skipReason picks the skip message out of a skipped test's output: the
// lines between its "=== RUN" and "--- SKIP" lines.
func skipReason(out string) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		lines = append(lines, t)
	}
	if len(lines) == 0 {
		return "(no reason given)"
	}
	return strings.Join(lines, " / ")
}

// packageTrouble reports whether a failed package's own output (outside
// any test) says more than the closing FAIL lines: a panic, a TestMain
// failure, a timeout.
func packageTrouble(out string) bool {
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		if t != "" && t != "FAIL" && !strings.HasPrefix(t, "FAIL\t") && !strings.HasPrefix(t, "ok") {
			return true
		}
	}
	return false
}
