// Package portal is the ministry's electronic portal's foreign
// information: news, press releases and the spokesperson's statements,
// and the travel advisories of citizen protection, each in Vietnamese and
// English, drafted by the press department and published only after the
// spokesperson's approval, every step recorded in the audit ledger; the
// missions' public pages; and the portal's own pages (citizen protection,
// the Atom feed, the sitemap, the privacy notice and the accessibility
// statement).
//
// Who may draft, approve or keep a mission's page is authz's grants table
// (KindPublication, KindMissionPage); the service asks Decide.
package portal

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"chancery/internal/errs"
	"chancery/internal/i18n"
	"chancery/internal/identity"
	"chancery/internal/web"
)

// Kind is what a publication is.
type Kind string

// The kinds. News, press releases and statements are the portal's
// foreign information (/news); advisories are citizen protection's
// travel advisories (/protection), one country's each.
const (
	News         Kind = "news"
	PressRelease Kind = "press_release"
	Statement    Kind = "statement"
	Advisory     Kind = "advisory"
)

// Kinds lists the kinds in the order pages offer them.
var Kinds = []Kind{News, PressRelease, Statement, Advisory}

func (k Kind) valid() bool { return slices.Contains(Kinds, k) }

// Status is where a publication is in its approval.
type Status string

// The statuses. A draft is edited and submitted; the spokesperson
// approves a submitted one (or rejects it back to draft, with a reason);
// an approved one is published; a published one may be withdrawn, and a
// withdrawn one edited again (back to draft), so nothing reaches the
// public that the spokesperson has not approved as it stands.
const (
	Draft     Status = "draft"
	Submitted Status = "submitted"
	Approved  Status = "approved"
	Published Status = "published"
	Withdrawn Status = "withdrawn"
)

// Statuses lists the statuses in the order of the flow.
var Statuses = []Status{Draft, Submitted, Approved, Published, Withdrawn}

// Advisory levels, as most foreign ministries grade them.
const (
	LevelNormal     = 1 // exercise normal caution
	LevelIncreased  = 2 // exercise increased caution
	LevelReconsider = 3 // reconsider travel
	LevelDoNotGo    = 4 // do not travel
)

// Limits on what a publication holds. A body is long prose; a title is
// one line a list shows whole.
const (
	MaxTitle   = 300
	MaxSummary = 1000
	MaxBody    = 100_000
	MaxTags    = 12
	MaxTag     = 40
	MaxSlug    = 120
)

// Item is a publication: its content, in Vietnamese and English (one
// item, two languages), and where it is in its approval.
type Item struct {
	ID int64 `json:"id"`
	Content
	Status Status `json:"status"`
	// AuthorID is the press officer who drafted it; DecidedBy the
	// spokesperson who last approved or rejected it (0: nobody yet).
	AuthorID  int64 `json:"author_id"`
	DecidedBy int64 `json:"decided_by,omitempty"`
	// Note is the reason of the last rejection or withdrawal, shown to
	// the author.
	Note        string    `json:"note,omitempty"`
	Version     int       `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	PublishedAt time.Time `json:"published_at,omitzero"`
}

// Title returns the title in lang ("vi" or "en").
func (it Item) Title(lang i18n.Lang) string { return pick(lang, it.TitleVI, it.TitleEN) }

// Summary returns the summary in lang.
func (it Item) Summary(lang i18n.Lang) string { return pick(lang, it.SummaryVI, it.SummaryEN) }

// Body returns the body in lang.
func (it Item) Body(lang i18n.Lang) string { return pick(lang, it.BodyVI, it.BodyEN) }

// Paragraphs returns the body in lang split at blank lines, for pages.
func (it Item) Paragraphs(lang i18n.Lang) []string {
	var out []string
	for p := range strings.SplitSeq(strings.ReplaceAll(it.Body(lang), "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func pick(lang i18n.Lang, vi, en string) string {
	if lang == i18n.EN {
		return en
	}
	return vi
}

// Content is what a press officer writes: a new publication's or an
// edit's whole text. Country and Level are an advisory's: the host
// country's ISO 3166-1 alpha-2 code and the level, 1 to 4; empty and 0
// otherwise.
type Content struct {
	Kind      Kind     `json:"kind"`
	Slug      string   `json:"slug"`
	TitleVI   string   `json:"title_vi"`
	TitleEN   string   `json:"title_en"`
	SummaryVI string   `json:"summary_vi"`
	SummaryEN string   `json:"summary_en"`
	BodyVI    string   `json:"body_vi"`
	BodyEN    string   `json:"body_en"`
	Tags      []string `json:"tags"`
	Country   string   `json:"country"`
	Level     int      `json:"level"`
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// clean checks c and returns it tidied (trimmed, tags folded and
// deduplicated, a slug made from the English title when none is given),
// or an *errs.FieldError naming the first field at fault.
func (c Content) clean() (Content, error) {
	if !c.Kind.valid() {
		return c, errs.Invalid("kind", fmt.Sprintf("must be one of news, press_release, statement, advisory, not %q", web.Clip(string(c.Kind))))
	}
	lines := []struct {
		field string
		v     *string
		max   int
		need  bool
	}{
		{"title_vi", &c.TitleVI, MaxTitle, true}, {"title_en", &c.TitleEN, MaxTitle, true},
		{"summary_vi", &c.SummaryVI, MaxSummary, false}, {"summary_en", &c.SummaryEN, MaxSummary, false},
	}
	for _, l := range lines {
		*l.v = strings.TrimSpace(*l.v)
		if err := checkLine(l.field, *l.v, l.max, l.need); err != nil {
			return c, err
		}
	}
	for _, b := range []struct {
		field string
		v     *string
	}{{"body_vi", &c.BodyVI}, {"body_en", &c.BodyEN}} {
		*b.v = strings.TrimSpace(strings.ReplaceAll(*b.v, "\r\n", "\n"))
		if err := web.CheckText(b.field, *b.v); err != nil {
			return c, err
		}
		if *b.v == "" {
			return c, errs.Invalid(b.field, "is required: write the text in both languages")
		}
		if n := utf8.RuneCountInString(*b.v); n > MaxBody {
			return c, errs.Invalid(b.field, fmt.Sprintf("is %d characters long; at most %d fit, so split the text into two items", n, MaxBody))
		}
	}
	c.Slug = strings.TrimSpace(c.Slug)
	if c.Slug == "" {
		c.Slug = Slugify(c.TitleEN)
	}
	if len(c.Slug) > MaxSlug || !slugPattern.MatchString(c.Slug) {
		return c, errs.Invalid("slug", fmt.Sprintf("%q is not an address: use at most %d lower-case letters a-z, digits and single hyphens, such as viet-nam-welcomes-the-agreement", web.Clip(c.Slug), MaxSlug))
	}
	tags, err := cleanTags(c.Tags)
	if err != nil {
		return c, err
	}
	c.Tags = tags
	if c.Kind == Advisory {
		c.Country = strings.ToUpper(strings.TrimSpace(c.Country))
		if len(c.Country) != 2 || strings.Trim(c.Country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return c, errs.Invalid("country", "an advisory needs the country's ISO 3166-1 alpha-2 code, such as FR")
		}
		if c.Level < LevelNormal || c.Level > LevelDoNotGo {
			return c, errs.Invalid("level", "an advisory's level is 1 (exercise normal caution) to 4 (do not travel)")
		}
	} else if c.Country != "" || c.Level != 0 {
		return c, errs.Invalid("country", "only an advisory names a country and a level")
	}
	return c, nil
}

// checkLine checks one line of text: no line breaks, no control or
// direction characters, at most max characters, present if need.
func checkLine(field, v string, max int, need bool) error {
	if err := web.CheckText(field, v); err != nil {
		return err
	}
	if strings.ContainsAny(v, "\r\n\t") {
		return errs.Invalid(field, "must be one line: remove the line breaks")
	}
	if need && v == "" {
		return errs.Invalid(field, "is required: write it in both languages")
	}
	if n := utf8.RuneCountInString(v); n > max {
		return errs.Invalid(field, fmt.Sprintf("is %d characters long; at most %d fit", n, max))
	}
	return nil
}

// cleanTags trims tags and drops those whose address (Slugify: "Biển
// Đông" is bien-dong) repeats an earlier one's, keeping the order given.
func cleanTags(in []string) ([]string, error) {
	var out, seen []string
	for _, t := range in {
		t = strings.TrimSpace(t)
		if err := checkLine("tags", t, MaxTag, false); err != nil {
			return nil, err
		}
		s := Slugify(t)
		if s == "" || slices.Contains(seen, s) {
			continue
		}
		seen, out = append(seen, s), append(out, t)
	}
	if len(out) > MaxTags {
		return nil, errs.Invalid("tags", fmt.Sprintf("has %d tags; at most %d fit", len(out), MaxTags))
	}
	return out, nil
}

// Slugify returns s as an address: Vietnamese diacritics removed (đ is
// d), lower case, runs of anything but letters and digits one hyphen,
// cut at MaxSlug.
func Slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range identity.Fold(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= MaxSlug {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

// Tag is a tag as a page links it: its address and its label.
type Tag struct{ Slug, Label string }

// TagLinks returns the tags with their addresses.
func (c Content) TagLinks() []Tag {
	out := make([]Tag, len(c.Tags))
	for i, t := range c.Tags {
		out[i] = Tag{Slug: Slugify(t), Label: t}
	}
	return out
}

// searchText is what a publication is found by: its titles, summaries,
// bodies and tags, folded as queries are (identity.Fold).
func searchText(c Content) string {
	return identity.Fold(strings.Join([]string{c.TitleVI, c.TitleEN, c.SummaryVI, c.SummaryEN, c.BodyVI, c.BodyEN, strings.Join(c.Tags, " ")}, "\n"))
}

// Filter selects publications.
type Filter struct {
	// Kinds, if any, are the kinds listed; else every kind but
	// advisories (the news pages').
	Kinds []Kind
	// Status, if set, lists only that status; the public lists see
	// only Published, whatever is asked.
	Status Status
	Tag    string
	// Query matches titles, summaries, bodies and tags, ignoring case
	// and Vietnamese diacritics.
	Query   string
	Country string
	// Page is the page wanted, from 1; PerPage its size (if zero,
	// DefaultPerPage; at most MaxPerPage).
	Page, PerPage int
}

// Page sizes.
const (
	DefaultPerPage = 10
	MaxPerPage     = 100
)

// ItemPage is one page of a list.
type ItemPage struct {
	Items []Item `json:"items"`
	// Total counts every item the filter selects; Page and Pages place
	// this page among them.
	Total int `json:"total"`
	Page  int `json:"page"`
	Pages int `json:"pages"`
}

func (f Filter) clean() (Filter, error) {
	for _, k := range f.Kinds {
		if !k.valid() {
			return f, errs.Invalid("kind", fmt.Sprintf("must be one of news, press_release, statement, advisory, not %q", web.Clip(string(k))))
		}
	}
	if len(f.Kinds) == 0 {
		f.Kinds = []Kind{News, PressRelease, Statement}
	}
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		return f, errs.Invalid("status", fmt.Sprintf("must be one of draft, submitted, approved, published, withdrawn, not %q", web.Clip(string(f.Status))))
	}
	if len(f.Query) > 200 {
		return f, errs.Invalid("q", "is too long: search with at most 200 characters")
	}
	f.Tag = Slugify(f.Tag)
	if f.Page < 1 {
		f.Page = 1
	}
	if f.Page > 10_000 {
		return f, errs.Invalid("page", "is beyond the last page")
	}
	if f.PerPage <= 0 {
		f.PerPage = DefaultPerPage
	}
	f.PerPage = min(f.PerPage, MaxPerPage)
	return f, nil
}

// Directory is what the portal needs of the unit directory: the missions
// abroad. *identity.Service implements it.
type Directory interface {
	ListUnits(ctx context.Context, f identity.UnitFilter) ([]identity.Unit, int64, error)
	UnitByCode(ctx context.Context, code string) (identity.Unit, error)
}
