// Package dlp keeps data from leaving Chancery where it should not: it
// scans what goes out through the ways out (exchange messages, records'
// downloads and exports, mail) for classification markings and personal
// data in bulk, decides by a policy that security officers keep whether
// each may go, must wait for a security officer's approval, or is
// blocked, and records each decision in the audit ledger — the counts and
// kinds of what was found, never the data itself.
package dlp

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Kind is a kind of finding.
type Kind uint8

// The kinds of finding.
const (
	// The classification markings of the Law on Protection of State
	// Secrets (29/2018/QH14): the stamps of Circular 24/2020/TT-BCA's
	// form 02 read "MẬT", "TỐI MẬT" and "TUYỆT MẬT", in capitals inside a
	// double border; edXML carries the level as SecretLevel 1–3.
	MarkingConfidential Kind = iota
	MarkingSecret
	MarkingTopSecret
	// IdentityNumber is a 12-digit personal identity number (CCCD) whose
	// province, century-and-sex and year of birth make sense.
	IdentityNumber
	// OldIdentityNumber is a 9-digit identity card number (CMND), counted
	// only after a label that names it ("CMND", "chứng minh"): nine digits
	// alone are as often an amount.
	OldIdentityNumber
	// PassportNumber is a Vietnamese passport's number: a capital letter
	// and seven digits.
	PassportNumber
	// PhoneNumber is a Vietnamese mobile number (0 or +84, then a mobile
	// network's prefix) or a landline (0 or +84, then 2 and the area).
	PhoneNumber
	// EmailAddress is an e-mail address.
	EmailAddress
	numKinds
)

var kindNames = [numKinds]string{"marking_confidential", "marking_secret", "marking_top_secret",
	"identity_number", "old_identity_number", "passport_number", "phone_number", "email_address"}

// String returns the kind's name, as policies and the ledger write it.
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "kind(?)"
}

// Kinds lists every kind of finding in order.
func Kinds() []Kind {
	out := make([]Kind, numKinds)
	for i := range out {
		out[i] = Kind(i)
	}
	return out
}

// Marking reports whether k is a classification marking.
func (k Kind) Marking() bool { return k <= MarkingTopSecret }

// Counts holds how many findings of each kind a scan made.
type Counts [numKinds]int

// Add adds o's counts to c's.
func (c *Counts) Add(o Counts) {
	for i := range c {
		c[i] += o[i]
	}
}

// Total returns the number of findings of every kind.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// folder folds letters for matching: its table gives, for every rune
// below 0x2000 (Latin, Vietnamese's precomposed letters included), the
// lower-case ASCII letter it is written on and whether it carries a
// diacritic. Built once per Scanner from Unicode's decompositions.
type folder [0x2000]uint8

const markedBit = 0x80

func newFolder() *folder {
	f := new(folder)
	for r := rune(0); r < 0x2000; r++ {
		if !unicode.IsLetter(r) {
			continue
		}
		lower := unicode.ToLower(r)
		base, _ := utf8.DecodeRuneInString(norm.NFD.String(string(lower)))
		if lower == 'đ' {
			base = 'd'
		}
		if base < 'a' || base > 'z' {
			continue
		}
		v := uint8(base)
		if base != lower {
			v |= markedBit
		}
		f[r] = v
	}
	return f
}

// maxWord is the longest word (in letters) the marking matcher keeps;
// longer words match nothing it looks for.
const maxWord = 8

// word is one word of text as the marking matcher sees it.
type word struct {
	base   [maxWord]byte // lower-case ASCII letters, without diacritics
	marked [maxWord]rune // lower case, with diacritics
	n      int           // letters; more than maxWord: too long to match
	upper  bool          // every letter is a capital
	marks  bool          // some letter carries a diacritic
	nl     bool          // a line break (or the text's start) comes before it
	colon  bool          // a ':' separates it from the word before
	gap    int           // characters between it and the word before
	spaced bool          // built of single letters spaced out ("M Ậ T")
}

// is reports whether w is the word written base without diacritics and
// marked with them: with marks it must be exactly marked ("mặt" is not
// "mật"); a word written without any diacritic may be either.
func (w *word) is(base, marked string) bool {
	if w.n != len(base) || string(w.base[:w.n]) != base {
		return false
	}
	if !w.marks {
		return true
	}
	i := 0
	for _, r := range marked {
		if i >= w.n || w.marked[i] != r {
			return false
		}
		i++
	}
	return i == w.n
}

// baseIn reports whether w's letters without diacritics are one of set.
func (w *word) baseIn(set []string) bool {
	if w.n > maxWord {
		return false
	}
	for _, s := range set {
		if string(w.base[:w.n]) == s {
			return true
		}
	}
	return false
}

// The words that make "mật" part of another word rather than a marking:
// bí mật (secret, in prose), bảo mật (security), cơ mật, thân mật, giải mật
// (the stamp of declassification, form 05), độ mật (the label "level");
// after it, mật khẩu (password), mật mã (cipher), mật độ (density), mật ong
// (honey), mật thiết, mật danh, mật vụ, mật thám, mật lệnh, mật ước, mật
// đàm, mật thư, mật báo, mật mía, mật gấu, mật ngọt.
var (
	compoundBefore = []string{"bi", "bao", "co", "than", "giai", "do"}
	compoundAfter  = []string{"khau", "ma", "do", "ong", "thiet", "danh", "vu", "tham", "lenh", "uoc", "dam", "thu", "bao", "mia", "gau", "ngot"}
)

// markings finds classification markings in a stream of words. A word is
// judged once the word after it is known, so it keeps the last five.
type markings struct {
	w      [5]word // w[4] is the newest; w[3] the one being judged
	have   int
	counts *Counts
}

func (m *markings) push(nw word) {
	copy(m.w[:4], m.w[1:])
	m.w[4] = nw
	if m.have < 5 {
		m.have++
	}
	if m.have >= 2 {
		m.judge(false)
	}
}

// flush judges the last word, which has no word after it.
func (m *markings) flush() {
	if m.have == 0 {
		return
	}
	copy(m.w[:4], m.w[1:])
	m.w[4] = word{}
	m.have++
	m.judge(true)
}

// at returns the word k places before the judged one (0: itself), or nil
// when the text has none there.
func (m *markings) at(k int) *word {
	i := 3 - k
	if i < 0 || m.have < 2+k {
		return nil
	}
	return &m.w[i]
}

// judge decides whether the judged word ends a marking. The rules, chosen
// so ordinary prose raises none:
//
//   - "tuyệt mật" in any case, with or without diacritics;
//   - "tối mật" in any case with diacritics; without them ("toi mat" is
//     also "tôi mất", I lost) only in capitals, alone on its line or as
//     the value of a label ending in "mật:" (such as "Độ mật: Tối mật");
//   - "mật" alone: in capitals with diacritics (the stamp), alone on its
//     line, or as a label's value; without diacritics ("mat" is also mất,
//     mặt, mát) only alone on its line or as a label's value;
//   - never where "mật" is part of a longer word (bí mật, mật khẩu, …).
func (m *markings) judge(last bool) {
	cur := m.at(0)
	if cur == nil {
		return
	}
	var next *word
	if !last {
		next = &m.w[4]
	}
	prev := m.at(1)
	level, start, before := MarkingConfidential, cur, prev
	switch {
	case cur.is("tuyetmat", "tuyệtmật"):
		level = MarkingTopSecret
	case cur.is("toimat", "tốimật"):
		level = MarkingSecret
	case !cur.is("mat", "mật"):
		return
	case prev != nil && !cur.nl && prev.is("tuyet", "tuyệt"):
		level, start, before = MarkingTopSecret, prev, m.at(2)
	case prev != nil && !cur.nl && prev.is("toi", "tối"):
		level, start, before = MarkingSecret, prev, m.at(2)
	}
	if level == MarkingConfidential && before != nil && !start.nl && before.baseIn(compoundBefore) {
		return
	}
	if next != nil && !next.nl && next.baseIn(compoundAfter) {
		return
	}
	marks := start.marks && cur.marks
	upper := start.upper && cur.upper
	alone := start.nl && (next == nil || next.nl)
	label := start.colon && before != nil && before.is("mat", "mật")
	ok := false
	switch level {
	case MarkingTopSecret:
		ok = true
	case MarkingSecret:
		ok = marks || upper || alone || label
	default:
		ok = alone || label || (upper && marks)
	}
	if ok {
		m.counts[level]++
	}
}

// wordReader splits text into words for the marking matcher.
type wordReader struct {
	fold    *folder
	m       markings
	cur     word
	inWord  bool
	nl      bool // a line break since the last word
	colon   bool
	gap     int
	pending word // the last word, held back to join spaced-out letters
	hasPend bool
}

func (wr *wordReader) letter(r rune) {
	if !wr.inWord {
		wr.cur = word{nl: wr.nl, colon: wr.colon, gap: wr.gap, upper: true}
		wr.inWord = true
		wr.nl, wr.colon, wr.gap = false, false, 0
	}
	w := &wr.cur
	if w.n < maxWord {
		var v uint8
		if r < 0x2000 {
			v = wr.fold[r]
		}
		w.base[w.n] = v &^ markedBit
		w.marked[w.n] = unicode.ToLower(r)
		if v&markedBit != 0 {
			w.marks = true
		}
		if v == 0 { // a letter of another script: matches nothing
			w.n = maxWord + 1
			return
		}
	}
	if !unicode.IsUpper(r) {
		w.upper = false
	}
	w.n++
}

// mark applies a combining mark that follows a letter (text that was not
// in NFC): the letter is then marked, whatever the mark.
func (wr *wordReader) mark() {
	if wr.inWord {
		wr.cur.marks = true
	}
}

func (wr *wordReader) other(r rune) {
	if wr.inWord {
		wr.endWord()
	}
	switch r {
	case '\n', '\r', '\v', '\f', 0x85, 0x2028, 0x2029:
		wr.nl = true
	case ':':
		wr.colon = true
	}
	wr.gap++
}

func (wr *wordReader) endWord() {
	wr.inWord = false
	w := wr.cur
	// Letters spaced out ("M Ậ T", "T.Ố.I M.Ậ.T") join into one word.
	if wr.hasPend && w.n == 1 && wr.pending.n >= 1 && wr.pending.n < maxWord &&
		(wr.pending.spaced || wr.pending.n == 1) && !w.nl && w.gap <= 3 {
		p := &wr.pending
		p.base[p.n], p.marked[p.n] = w.base[0], w.marked[0]
		p.n++
		p.marks = p.marks || w.marks
		p.upper = p.upper && w.upper
		p.spaced = true
		return
	}
	if wr.hasPend {
		wr.m.push(wr.pending)
	}
	wr.pending, wr.hasPend = w, true
}

func (wr *wordReader) finish() {
	if wr.inWord {
		wr.endWord()
	}
	if wr.hasPend {
		wr.m.push(wr.pending)
		wr.hasPend = false
	}
	wr.m.flush()
}

// scanWords counts the markings in text, which holds no format
// characters (see clean).
func (f *folder) scanWords(text []byte, c *Counts) {
	wr := wordReader{fold: f, nl: true, m: markings{counts: c}}
	for i := 0; i < len(text); {
		b := text[i]
		if b < utf8.RuneSelf {
			i++
			if ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z') {
				wr.letter(rune(b))
			} else {
				wr.other(rune(b))
			}
			continue
		}
		r, n := utf8.DecodeRune(text[i:])
		i += n
		switch {
		case unicode.IsLetter(r):
			wr.letter(r)
		case unicode.Is(unicode.Mn, r):
			wr.mark()
		default:
			wr.other(r)
		}
	}
	wr.finish()
}
