package web

import (
	"net/http/httptest"
	"testing"
)

func TestPagerLinksTheFirstAndNextPagesKeepingTheFilters(t *testing.T) {
	p := NewShell(testTexts(t)).Page(httptest.NewRequest("GET", "/console/users", nil), Console, "nav.home")
	for _, tt := range []struct {
		name, target, next string
		shown              int
		first, nextHref    string
		status             string
	}{
		{"first page of several", "/console/users?q=an&flash=x.flash.y", "51", 50,
			"", "/console/users?after=51&q=an&start=51", "Mục 1–50"},
		{"second page", "/console/users?q=an&after=51&start=51", "102", 50,
			"/console/users?q=an", "/console/users?after=102&q=an&start=101", "Mục 51–100"},
		{"last page", "/console/users?after=102&start=101", "", 3,
			"/console/users", "", "Mục 101–103"},
		{"one page only", "/console/users?q=an", "", 7, "", "", ""},
		{"a forged start counts from the top", "/console/users?after=9&start=-4", "", 2,
			"/console/users", "", "Mục 1–2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.target, nil)
			pg := NewPager(p, r, tt.next, tt.shown, PagerOffset(r))
			if pg.First != tt.first || pg.Next != tt.nextHref || pg.Shown != tt.status {
				t.Errorf("pager = first %q next %q shown %q; want %q, %q, %q", pg.First, pg.Next, pg.Shown, tt.first, tt.nextHref, tt.status)
			}
		})
	}
}

func TestPageAtMarksTheCurrentPageWhateverItsQuery(t *testing.T) {
	shell := NewShell(testTexts(t))
	for _, tt := range []struct {
		target, href string
		want         bool
	}{
		{"/console/audit", "/console/audit", true},
		{"/console/audit?action=login&after=9", "/console/audit", true},
		{"/console/audit/checkpoints", "/console/audit", false},
		{"/console/audit", "/console/audit/checkpoints", false},
	} {
		p := shell.Page(httptest.NewRequest("GET", tt.target, nil), Console, "nav.home")
		if got := p.At(tt.href); got != tt.want {
			t.Errorf("page %s At(%s) = %v, want %v", tt.target, tt.href, got, tt.want)
		}
	}
}
