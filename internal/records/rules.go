package records

// This file holds the rules of Vietnamese law the records capability
// follows, each with where it lives and whether it could be checked
// against a published text (with the search tool, in session, on
// 6 December 2026). A rule marked "not verified" comes from the issue's
// text (issue 18) and must be checked against the official gazette
// before it is relied on beyond this code.
//
// Decree 30/2020/NĐ-CP of 5 March 2020 on clerical work (công tác văn thư):
//   - Article 9 and Appendix III, section I: the abbreviations of the
//     names of administrative document types (the table in docTypes).
//     Verified: thuvienphapluat.vn ("Bảng viết tắt tên loại văn bản hành
//     chính và bản sao văn bản"), luatvietnam.vn and kynangandlifeskills.com
//     reproduce the same 27 types and 3 kinds of copy. Công văn (official
//     letter) has no abbreviation (it is not in the table).
//   - Appendix I, part I, section II, item 3: the number is the document's
//     ordinal among those the agency issues in a year, unique in that
//     year, in Arabic numerals, with a leading zero below 10 ("Số: 05");
//     a slash separates number and symbol, hyphens separate the groups of
//     the symbol, no spaces; the symbol is the type's abbreviation and the
//     issuing agency's ("15/QĐ-BNG"). Verified: luatvietnam.vn ("Cách ghi
//     số và ký hiệu văn bản đúng chuẩn Nghị định 30") and
//     yeuconthongthai.com.vn: numbering starts at 01 on 1 January and ends
//     on 31 December each year.
//   - The symbol of a công văn is the issuing agency's abbreviation and the
//     drafting unit's ("12/BNG-VP"): from the text; the sources
//     found were cut off before that sentence. Not verified.
//   - Documents containing state secrets numbered in a series of their own
//     (hệ thống số riêng): from the text. Not verified (the search
//     found no text of the article); the code keeps one secret series per
//     issuing unit and year.
//   - Urgency (độ khẩn) Hỏa tốc, Thượng khẩn, Khẩn: from the text.
//     Not verified (no source found in the search corpus).
//   - The columns of the incoming and outgoing registers (sổ đăng ký văn
//     bản đến / đi) and the metadata of Appendix VI (electronic document
//     input data): not verified — no copy of the appendices was found.
//     Document carries the fields the registers print in common use
//     (arrival number and date, sender, number and symbol, date, type,
//     subject, urgency, level, handling unit, due date); check them
//     against Appendix VI before an export claims conformance.
//
// Law 117/2025/QH15 on Protection of State Secrets (passed 10 December
// 2025, in force 1 March 2026, replacing Law 29/2018/QH14; 5 chapters, 28
// articles). Verified: pbgdpl.gov.vn and phaply.net.vn (in force date,
// replacement), thuviennhadat.vn (text of chapter I).
//   - Three levels, Tuyệt mật / Tối mật / Mật (top secret, secret,
//     confidential): verified in Law 29/2018 Article 8; kept by the 2025 law
//     per the same sources' summaries.
//   - Protection periods from the day the level is determined: 30 years
//     for Tuyệt mật, 20 for Tối mật, 10 for Mật (protectionYears). Verified
//     for Law 29/2018 Article 19(1) (hethongphapluat.vn); tienphong.vn
//     reports the same periods for the current law. The article number in
//     Law 117/2025 was not verified: cite it as "the protection-period
//     article" until checked.
//   - Extension, change of level and declassification with a record, and
//     copies only with permission: from the text; their articles in
//     Law 117/2025 were not verified.
//
// Law on Archives 33/2024/QH15 (passed 21 June 2024, in force 1 July 2025).
// Verified (thuvienphapluat.vn, hethongphapluat.com): case files go to the
// agency's current archive (lưu trữ hiện hành) within at most 1 year from
// the year the work ended, and to the historical archive within 5 years of
// that. Retention of "permanent or a number of years": from the issue's
// text and long-standing practice (vdanang.com); the article was not
// verified.

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"chancery/internal/authz"
	"chancery/internal/errs"
)

// DocType is a type of administrative document (tên loại văn bản).
type DocType struct {
	// Key is the type's API name.
	Key string
	// NameVI is its name in Vietnamese.
	NameVI string
	// Abbr is its abbreviation in the symbol (Decree 30, Appendix III);
	// empty for the công văn, which has none.
	Abbr string
}

// TypeOfficialLetter is the key of the công văn, the one type without an
// abbreviation: its symbol names the drafting unit instead.
const TypeOfficialLetter = "cong_van"

// docTypes is Decree 30/2020/NĐ-CP Appendix III, section I, in its order,
// plus the công văn.
var docTypes = []DocType{
	{"nghi_quyet", "Nghị quyết (cá biệt)", "NQ"},
	{"quyet_dinh", "Quyết định (cá biệt)", "QĐ"},
	{"chi_thi", "Chỉ thị", "CT"},
	{"quy_che", "Quy chế", "QC"},
	{"quy_dinh", "Quy định", "QyĐ"},
	{"thong_cao", "Thông cáo", "TC"},
	{"thong_bao", "Thông báo", "TB"},
	{"huong_dan", "Hướng dẫn", "HD"},
	{"chuong_trinh", "Chương trình", "CTr"},
	{"ke_hoach", "Kế hoạch", "KH"},
	{"phuong_an", "Phương án", "PA"},
	{"de_an", "Đề án", "ĐA"},
	{"du_an", "Dự án", "DA"},
	{"bao_cao", "Báo cáo", "BC"},
	{"bien_ban", "Biên bản", "BB"},
	{"to_trinh", "Tờ trình", "TTr"},
	{"hop_dong", "Hợp đồng", "HĐ"},
	{"cong_dien", "Công điện", "CĐ"},
	{"ban_ghi_nho", "Bản ghi nhớ", "BGN"},
	{"ban_thoa_thuan", "Bản thỏa thuận", "BTT"},
	{"giay_uy_quyen", "Giấy ủy quyền", "GUQ"},
	{"giay_moi", "Giấy mời", "GM"},
	{"giay_gioi_thieu", "Giấy giới thiệu", "GGT"},
	{"giay_nghi_phep", "Giấy nghỉ phép", "GNP"},
	{"phieu_gui", "Phiếu gửi", "PG"},
	{"phieu_chuyen", "Phiếu chuyển", "PC"},
	{"phieu_bao", "Phiếu báo", "PB"},
	{TypeOfficialLetter, "Công văn", ""},
}

// DocTypes returns the document types, in Appendix III's order, the công
// văn last.
func DocTypes() []DocType { return append([]DocType(nil), docTypes...) }

// LookupType returns the type with key, or an error wrapping
// errs.ErrInvalid naming the keys.
func LookupType(key string) (DocType, error) {
	for _, t := range docTypes {
		if t.Key == key {
			return t, nil
		}
	}
	keys := make([]string, len(docTypes))
	for i, t := range docTypes {
		keys[i] = t.Key
	}
	return DocType{}, errs.Invalid("type", fmt.Sprintf("unknown document type %q: use one of %s", key, strings.Join(keys, ", ")))
}

// typeByAbbr returns the type whose abbreviation is abbr.
func typeByAbbr(abbr string) (DocType, bool) {
	for _, t := range docTypes {
		if t.Abbr != "" && t.Abbr == abbr {
			return t, true
		}
	}
	return DocType{}, false
}

// Urgency is how fast a document must be handled (độ khẩn).
type Urgency uint8

// The urgencies, from none to the most urgent.
const (
	Normal     Urgency = iota
	Urgent             // Khẩn
	VeryUrgent         // Thượng khẩn
	Flash              // Hỏa tốc
)

var urgencyNames = [...]string{"normal", "urgent", "very_urgent", "flash"}

// String returns the urgency's API name.
func (u Urgency) String() string {
	if int(u) < len(urgencyNames) {
		return urgencyNames[u]
	}
	return "urgency(" + strconv.Itoa(int(u)) + ")"
}

// Label returns the urgency's marking in Vietnamese, "" for normal.
func (u Urgency) Label() string {
	return [...]string{"", "Khẩn", "Thượng khẩn", "Hỏa tốc"}[min(int(u), 3)]
}

// ParseUrgency parses an urgency's API name; "" is normal.
func ParseUrgency(s string) (Urgency, error) {
	if s == "" {
		return Normal, nil
	}
	for i, n := range urgencyNames {
		if s == n {
			return Urgency(i), nil
		}
	}
	return 0, errs.Invalid("urgency", fmt.Sprintf("unknown urgency %q: use one of %s", s, strings.Join(urgencyNames[:], ", ")))
}

// MarshalText encodes the urgency as its API name.
func (u Urgency) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText decodes an urgency's API name.
func (u *Urgency) UnmarshalText(b []byte) error {
	v, err := ParseUrgency(string(b))
	*u = v
	return err
}

// protectionYears is the protection period of each level, from the day
// it is determined (see the file comment: Law 29/2018 Article 19(1),
// carried into Law 117/2025).
var protectionYears = [...]int{authz.Confidential: 10, authz.Secret: 20, authz.TopSecret: 30}

// ProtectionPeriod returns the years a state secret of level l is
// protected unless extended; 0 for an unclassified item.
func ProtectionPeriod(l authz.Level) int {
	if int(l) < len(protectionYears) {
		return protectionYears[l]
	}
	return 0
}

// ProtectUntil returns when the protection of an item classified at l on
// day from ends: the same calendar day the period's years later.
func ProtectUntil(l authz.Level, from time.Time) time.Time {
	if y := ProtectionPeriod(l); y > 0 {
		return from.AddDate(y, 0, 0)
	}
	return time.Time{}
}

// LevelLabel returns the level's marking in Vietnamese ("Mật", "Tối mật",
// "Tuyệt mật"), "" for none.
func LevelLabel(l authz.Level) string {
	return [...]string{"", "Mật", "Tối mật", "Tuyệt mật"}[min(int(l), 3)]
}

// NumberSymbol is a document's number and symbol (số và ký hiệu):
// 15/QĐ-BNG, or for a công văn 12/BNG-VP.
type NumberSymbol struct {
	Number int
	// Type is the document type's key.
	Type string
	// Org is the issuing agency's abbreviation (BNG).
	Org string
	// Unit is the drafting unit's abbreviation, for a công văn (VP).
	Unit string
}

// maxSymbolPart bounds an abbreviation's length, in bytes.
const maxSymbolPart = 32

// checkAbbr accepts an abbreviation: letters (Vietnamese included: Đ),
// digits and dots, starting with a letter — what a group of a symbol may
// hold without breaking its slash-and-hyphen syntax.
func checkAbbr(field, s string) error {
	if s == "" {
		return errs.Invalid(field, "is required")
	}
	if len(s) > maxSymbolPart || !utf8.ValidString(s) {
		return errs.Invalid(field, fmt.Sprintf("must be at most %d bytes of UTF-8", maxSymbolPart))
	}
	for i, r := range s {
		if !(unicode.IsLetter(r) || i > 0 && (r >= '0' && r <= '9' || r == '.')) {
			return errs.Invalid(field, fmt.Sprintf("%q must be letters and digits, such as BNG or VP", s))
		}
	}
	return nil
}

// String formats the number and symbol, the number with a leading zero
// below 10 (Decree 30, Appendix I).
func (n NumberSymbol) String() string {
	num := fmt.Sprintf("%02d", n.Number)
	if n.Type == TypeOfficialLetter {
		return num + "/" + n.Org + "-" + n.Unit
	}
	t, _ := LookupType(n.Type)
	return num + "/" + t.Abbr + "-" + n.Org
}

// Validate reports whether n can be formatted and parsed back, as an
// error wrapping errs.ErrInvalid.
func (n NumberSymbol) Validate() error {
	if n.Number < 1 {
		return errs.Invalid("number", "must be 1 or more")
	}
	if _, err := LookupType(n.Type); err != nil {
		return err
	}
	if err := checkAbbr("org_symbol", n.Org); err != nil {
		return err
	}
	if n.Type == TypeOfficialLetter {
		return checkAbbr("unit_symbol", n.Unit)
	}
	if n.Unit != "" {
		return errs.Invalid("unit_symbol", "only a công văn names its drafting unit in the symbol")
	}
	return nil
}

// ParseNumberSymbol parses "15/QĐ-BNG" or, for a công văn, "12/BNG-VP".
// A symbol whose first group is a type's abbreviation is of that type;
// otherwise it is a công văn. It returns an error wrapping
// errs.ErrInvalid for anything else.
func ParseNumberSymbol(s string) (NumberSymbol, error) {
	bad := func(why string) (NumberSymbol, error) {
		return NumberSymbol{}, errs.Invalid("number", fmt.Sprintf("%q is not a number and symbol such as 15/QĐ-BNG or 12/BNG-VP: %s", s, why))
	}
	if len(s) > 3*maxSymbolPart {
		return bad("too long")
	}
	num, sym, ok := strings.Cut(s, "/")
	if !ok {
		return bad("no slash between number and symbol")
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || len(num) > 9 || num[0] == '+' {
		return bad("the number must be digits")
	}
	first, rest, ok := strings.Cut(sym, "-")
	if !ok || rest == "" {
		return bad("the symbol needs two groups joined by a hyphen")
	}
	var out NumberSymbol
	if t, ok := typeByAbbr(first); ok {
		out = NumberSymbol{Number: n, Type: t.Key, Org: rest}
	} else {
		out = NumberSymbol{Number: n, Type: TypeOfficialLetter, Org: first, Unit: rest}
	}
	if err := out.Validate(); err != nil {
		return bad(err.Error())
	}
	return out, nil
}
