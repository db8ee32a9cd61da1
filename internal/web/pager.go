package web

import (
	"net/http"
	"net/url"
	"strconv"
)

// Pager links the pages of a long list that a page shows a bounded page
// of at a time (server-side, by an "after" cursor) rather than scrolling
// it inside a box: the "pager" template draws it.
type Pager struct {
	Label     string // the navigation's accessible name
	First     string // the list's first page; empty on it
	Next      string // the next page; empty on the last
	Shown     string // which rows this page shows, in words
	FirstText string
	NextText  string
}

// NewPager returns the pager of r's list page: its first page drops the
// "after" cursor (and a flash) from r's query, the next starts after
// next (none when next is empty). shown is how many rows the page shows
// and offset how many came before them on earlier pages (the cursor
// cannot tell, so a caller that does not count passes -1 and the pager
// says only how many are shown).
func NewPager(p Page, r *http.Request, next string, shown, offset int) Pager {
	pg := Pager{Label: p.T("pager.label"), FirstText: p.T("pager.first"), NextText: p.T("pager.next")}
	q := r.URL.Query()
	q.Del("flash")
	if q.Get("after") != "" {
		first := cloneWithout(q, "after", "start")
		pg.First = r.URL.Path
		if len(first) > 0 {
			pg.First += "?" + first.Encode()
		}
	}
	if next != "" {
		nq := cloneWithout(q)
		nq.Set("after", next)
		if offset >= 0 {
			nq.Set("start", strconv.Itoa(offset+shown+1))
		}
		pg.Next = r.URL.Path + "?" + nq.Encode()
	}
	if pg.First != "" || pg.Next != "" {
		switch {
		case shown == 0:
		case offset >= 0:
			pg.Shown = p.T("pager.shown_range", offset+1, offset+shown)
		default:
			pg.Shown = p.T("pager.shown", shown)
		}
	}
	return pg
}

// PagerOffset is how many rows came before r's page, as NewPager's next
// link carries it ("start", the first row's number); 0 on the first page
// or when the link carries none or a bad one (the count is a courtesy,
// never trusted for anything else).
func PagerOffset(r *http.Request) int {
	if r.URL.Query().Get("after") == "" {
		return 0
	}
	n, err := OptionalInt("start", r.URL.Query().Get("start"))
	if err != nil || n < 1 {
		return 0
	}
	return n - 1
}

func cloneWithout(q url.Values, keys ...string) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	for _, k := range keys {
		out.Del(k)
	}
	return out
}
