package govsim

import (
	"fmt"
	"time"
	"unicode/utf8"

	"chancery/internal/errs"
	"chancery/internal/web"
)

// An identity number (số định danh cá nhân, printed on the citizen
// identity card, CCCD) has 12 digits, by Decree 137/2015/NĐ-CP and
// Circular 59/2021/TT-BCA:
//
//	PPP C YY NNNNNN
//
// PPP is the code of the province where the birth was registered; C the
// century of birth and sex (0 a man born 1900–1999, 1 a woman born
// 1900–1999, 2 and 3 the same for 2000–2099, and 4–9 later centuries);
// YY the last two digits of the year of birth; NNNNNN a random serial.

// provinceCodes are the 63 province codes an identity number may begin
// with. When the 63 provinces were merged into 34 on 1 July 2025, each
// new province took the code of one of its parts and numbers already
// issued kept theirs, so every one of these codes still opens valid
// numbers.
var provinceCodes = map[string]bool{
	"001": true, // Hà Nội
	"002": true, // Hà Giang
	"004": true, // Cao Bằng
	"006": true, // Bắc Kạn
	"008": true, // Tuyên Quang
	"010": true, // Lào Cai
	"011": true, // Điện Biên
	"012": true, // Lai Châu
	"014": true, // Sơn La
	"015": true, // Yên Bái
	"017": true, // Hòa Bình
	"019": true, // Thái Nguyên
	"020": true, // Lạng Sơn
	"022": true, // Quảng Ninh
	"024": true, // Bắc Giang
	"025": true, // Phú Thọ
	"026": true, // Vĩnh Phúc
	"027": true, // Bắc Ninh
	"030": true, // Hải Dương
	"031": true, // Hải Phòng
	"033": true, // Hưng Yên
	"034": true, // Thái Bình
	"035": true, // Hà Nam
	"036": true, // Nam Định
	"037": true, // Ninh Bình
	"038": true, // Thanh Hóa
	"040": true, // Nghệ An
	"042": true, // Hà Tĩnh
	"044": true, // Quảng Bình
	"045": true, // Quảng Trị
	"046": true, // Thừa Thiên Huế
	"048": true, // Đà Nẵng
	"049": true, // Quảng Nam
	"051": true, // Quảng Ngãi
	"052": true, // Bình Định
	"054": true, // Phú Yên
	"056": true, // Khánh Hòa
	"058": true, // Ninh Thuận
	"060": true, // Bình Thuận
	"062": true, // Kon Tum
	"064": true, // Gia Lai
	"066": true, // Đắk Lắk
	"067": true, // Đắk Nông
	"068": true, // Lâm Đồng
	"070": true, // Bình Phước
	"072": true, // Tây Ninh
	"074": true, // Bình Dương
	"075": true, // Đồng Nai
	"077": true, // Bà Rịa - Vũng Tàu
	"079": true, // Hồ Chí Minh
	"080": true, // Long An
	"082": true, // Tiền Giang
	"083": true, // Bến Tre
	"084": true, // Trà Vinh
	"086": true, // Vĩnh Long
	"087": true, // Đồng Tháp
	"089": true, // An Giang
	"091": true, // Kiên Giang
	"092": true, // Cần Thơ
	"093": true, // Hậu Giang
	"094": true, // Sóc Trăng
	"095": true, // Bạc Liêu
	"096": true, // Cà Mau
}

// idNumber is what an identity number says about its holder.
type idNumber struct {
	province  string
	female    bool
	birthYear int
}

// parseIDNumber checks the structure of a 12-digit identity number and
// returns what it says. It returns an *errs.FieldError for the field
// "id", naming the fault, for anything else; now bounds the year of birth.
func parseIDNumber(id string, now time.Time) (idNumber, error) {
	if n := utf8.RuneCountInString(id); n != 12 {
		return idNumber{}, errs.Invalid("id", fmt.Sprintf("an identity number has 12 digits; this one has %d characters", n))
	}
	for i, c := range []rune(id) {
		if c < '0' || c > '9' {
			return idNumber{}, errs.Invalid("id", fmt.Sprintf("an identity number has only digits; character %d is not one", i+1))
		}
	}
	if !provinceCodes[id[:3]] {
		return idNumber{}, errs.Invalid("id", fmt.Sprintf("the first three digits, %s, are not a province code (001 Hà Nội to 096 Cà Mau, with gaps)", id[:3]))
	}
	c := int(id[3] - '0')
	if c > 3 {
		return idNumber{}, errs.Invalid("id", fmt.Sprintf("the fourth digit, %d, stands for a birth after 2099; it must be 0 or 1 (a man or a woman born 1900–1999) or 2 or 3 (born 2000–2099)", c))
	}
	year := 1900 + 100*(c/2) + 10*int(id[4]-'0') + int(id[5]-'0')
	if now.In(web.MinistryZone()).Year() < year {
		return idNumber{}, errs.Invalid("id", fmt.Sprintf("the fourth to sixth digits give %d as the year of birth, which has not come yet", year))
	}
	return idNumber{province: id[:3], female: c%2 == 1, birthYear: year}, nil
}
