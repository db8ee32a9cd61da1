package dlp

import (
	"bytes"
)

// provinces[code] reports whether a 12-digit identity number may begin
// with code: the 63 provinces' codes of Circular 07/2016/TT-BCA (the
// numbers issued before the 2025 merger of provinces keep theirs).
var provinces = func() (p [100]bool) {
	for _, c := range []int{1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36, 37, 38,
		40, 42, 44, 45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75, 77, 79, 80, 82, 83, 84, 86, 87,
		89, 91, 92, 93, 94, 95, 96} {
		p[c] = true
	}
	return p
}()

// identityNumber reports whether the 12 digits d make a personal
// identity number: PPP C YY NNNNNN, a province's code, the century of
// birth and sex (0–3: a man or a woman born in the 1900s or the 2000s),
// and a year of birth not after year.
func identityNumber(d []byte, year int) bool {
	if d[0] != '0' || !provinces[int(d[1]-'0')*10+int(d[2]-'0')] || d[3] > '3' {
		return false
	}
	born := 1900 + 100*int((d[3]-'0')/2) + 10*int(d[4]-'0') + int(d[5]-'0')
	return born <= year
}

// mobile reports whether the two digits after a leading 0 (or +84) open
// a Vietnamese mobile number (the prefixes since the 2018 renumbering)
// or a landline (2 and the area's code).
func mobile(a, b byte) bool {
	switch a {
	case '3':
		return b >= '2'
	case '5':
		return b == '2' || b == '5' || b == '6' || b == '8' || b == '9'
	case '7':
		return b == '0' || b >= '6'
	case '8':
		return b >= '1'
	case '9':
		return true
	}
	return false
}

// phone reports whether digits d are a Vietnamese phone number: 0 and 9 digits for a mobile, 0 and 10 for a
// landline (02x and the subscriber); 84 instead of the 0 with a '+' or
// without.
func phone(d []byte) bool {
	switch {
	case len(d) == 10 && d[0] == '0':
		return mobile(d[1], d[2])
	case len(d) == 11 && d[0] == '0':
		return d[1] == '2'
	case len(d) == 11 && d[0] == '8' && d[1] == '4':
		return mobile(d[2], d[3])
	case len(d) == 12 && d[0] == '8' && d[1] == '4':
		return d[2] == '2'
	}
	return false
}

func isDigit(b byte) bool  { return '0' <= b && b <= '9' }
func isLetter(b byte) bool { return ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z') || b >= 0x80 }

// oldCardLabels are what precede a 9-digit identity card number (in
// lower case, as UTF-8), within oldCardWindow bytes before it.
var oldCardLabels = [][]byte{[]byte("cmnd"), []byte("cmtnd"), []byte("chứng minh"), []byte("chung minh"), []byte("identity card")}

const oldCardWindow = 40

// labelled reports whether one of oldCardLabels is written (in any case)
// in the window of text before position i.
func labelled(text []byte, i int) bool {
	w := text[max(0, i-oldCardWindow):i]
	var buf [oldCardWindow]byte
	low := buf[:len(w)]
	for j, b := range w {
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		low[j] = b
	}
	// "CHỨNG MINH" in capitals: Ứ lower-cases outside ASCII.
	low = bytes.ReplaceAll(low, []byte("Ứ"), []byte("ứ"))
	for _, l := range oldCardLabels {
		if bytes.Contains(low, l) {
			return true
		}
	}
	return false
}

// maxNumber bounds the digits of a number written in groups.
const maxNumber = 15

// scanNumbers counts identity, passport and phone numbers in text. A
// number must stand alone: digits joined to letters (a code such as
// HS2024000123) or to a decimal part (12.000.000,50) are not one, and
// dates and amounts fail the numbers' own structure (a 12-digit amount
// does not begin with a province's code and a sensible year).
func scanNumbers(text []byte, year int, c *Counts) {
	for i := 0; i < len(text); {
		if !isDigit(text[i]) {
			i++
			continue
		}
		start := i
		j := i
		for j < len(text) && isDigit(text[j]) {
			j++
		}
		first := j - start
		var prev byte
		if start > 0 {
			prev = text[start-1]
		}
		// A capital letter and seven digits: a passport's number.
		if 'A' <= prev && prev <= 'Z' && first == 7 && (start < 2 || !isLetter(text[start-2]) && !isDigit(text[start-2])) &&
			(j == len(text) || !isLetter(text[j]) && !isDigit(text[j])) {
			c[PassportNumber]++
			i = j
			continue
		}
		if isLetter(prev) || ((prev == '.' || prev == ',') && start > 1 && isDigit(text[start-2])) {
			i = j
			continue
		}
		// Digits in groups ("0912 345 678", "+84 912.345.678"): joined
		// only when the first group is short, as a phone number's is, so
		// a list of whole numbers stays a list.
		var buf [maxNumber]byte
		d := append(buf[:0], text[start:min(j, start+maxNumber)]...)
		groups := 1
		if first <= 4 {
			for j+1 < len(text) && (text[j] == ' ' || text[j] == '.' || text[j] == '-') && isDigit(text[j+1]) && groups < 5 {
				k := j + 1
				for k < len(text) && isDigit(text[k]) {
					k++
				}
				if len(d)+k-j-1 > maxNumber {
					break
				}
				d = append(d, text[j+1:k]...)
				j, groups = k, groups+1
			}
		}
		i = j
		if j < len(text) && (isLetter(text[j]) || (text[j] == ',' || text[j] == '.') && j+1 < len(text) && isDigit(text[j+1])) {
			continue
		}
		switch {
		case (first >= 9 || groups > 1) && phone(d):
			c[PhoneNumber]++
		case len(d) == 12 && (groups == 1 || first >= 3) && identityNumber(d, year):
			c[IdentityNumber]++
		case len(d) == 9 && groups == 1 && labelled(text, start):
			c[OldIdentityNumber]++
		}
	}
}

// scanEmails counts e-mail addresses in text: a local part, '@', and a
// domain with a dot and a top-level name of at least two letters.
func scanEmails(text []byte, c *Counts) {
	for i := 0; ; {
		k := bytes.IndexByte(text[i:], '@')
		if k < 0 {
			return
		}
		at := i + k
		l := at
		for l > 0 && at-l < 64 && localChar(text[l-1]) {
			l--
		}
		r, dot := at+1, -1
		for r < len(text) && r-at < 255 && domainChar(text[r]) {
			if text[r] == '.' {
				dot = r
			}
			r++
		}
		for r > at+1 && text[r-1] == '.' { // a sentence's full stop
			r--
			dot = bytes.LastIndexByte(text[at+1:r], '.')
			if dot >= 0 {
				dot += at + 1
			}
		}
		if l < at && dot > at+1 && r-dot > 2 && tld(text[dot+1:r]) {
			c[EmailAddress]++
		}
		i = max(r, at+1)
	}
}

func localChar(b byte) bool {
	return isDigit(b) || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z') || b == '.' || b == '_' || b == '%' || b == '+' || b == '-'
}

func domainChar(b byte) bool {
	return isDigit(b) || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z') || b == '.' || b == '-'
}

func tld(b []byte) bool {
	for _, c := range b {
		if !('a' <= c && c <= 'z') && !('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
