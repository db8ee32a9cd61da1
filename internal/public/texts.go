package public

import (
	"maps"

	"chancery/internal/i18n"
)

// Texts returns this package's user-facing strings, for the catalogue
// built at wiring (i18n.New); the table is never changed, so each call
// returns a copy.
func Texts() i18n.Texts { return maps.Clone(texts) }

// The public site's home page.
var texts = i18n.Texts{
	"public.home.title":    {"Cổng thông tin điện tử", "Electronic portal"},
	"public.hero.country":  {"Cộng hòa xã hội chủ nghĩa Việt Nam", "Socialist Republic of Viet Nam"},
	"public.hero.ministry": {"Bộ Ngoại giao", "Ministry of Foreign Affairs"},
	"public.hero.lead": {
		"Dịch vụ công trực tuyến, tra cứu hồ sơ và thông tin đối ngoại dành cho công dân và tổ chức trong nước và ở nước ngoài.",
		"Online public services, dossier tracking and foreign-affairs information for citizens and organisations at home and abroad.",
	},
	"public.search.label":        {"Tìm dịch vụ công", "Find a public service"},
	"public.search.placeholder":  {"Ví dụ: hợp pháp hóa lãnh sự", "For example: consular legalisation"},
	"public.search.submit":       {"Tìm kiếm", "Search"},
	"public.tiles.heading":       {"Dịch vụ và thông tin", "Services and information"},
	"public.tile.services.title": {"Dịch vụ công trực tuyến", "Online public services"},
	"public.tile.services.text": {
		"Nộp hồ sơ chứng nhận, hợp pháp hóa lãnh sự và các thủ tục khác mà không cần đến trụ sở.",
		"Apply for consular authentication, legalisation and other procedures without visiting an office.",
	},
	"public.tile.track.title": {"Tra cứu hồ sơ", "Track a dossier"},
	"public.tile.track.text": {
		"Theo dõi tình trạng giải quyết hồ sơ bằng mã hồ sơ đã được cấp khi nộp.",
		"Follow the progress of your dossier with the code you were given when you applied.",
	},
	"public.tile.protection.title": {"Bảo hộ công dân", "Citizen protection"},
	"public.tile.protection.text": {
		"Hỗ trợ và liên hệ khẩn cấp cho công dân Việt Nam gặp khó khăn ở nước ngoài.",
		"Help and emergency contacts for Vietnamese citizens in difficulty abroad.",
	},
	"public.tile.info.title": {"Thông tin đối ngoại", "Foreign information"},
	"public.tile.info.text": {
		"Tin tức, thông cáo báo chí và hoạt động đối ngoại của Việt Nam.",
		"News, press releases and Viet Nam's foreign-affairs activities.",
	},
	"public.account.heading": {"Tài khoản công dân", "Citizen account"},
	"public.account.text": {
		"Đăng nhập để nộp hồ sơ, nhận kết quả và theo dõi các yêu cầu của bạn ở một nơi.",
		"Sign in to submit dossiers, receive results and follow your requests in one place.",
	},
	"public.account.register": {"Đăng ký tài khoản", "Create an account"},
	"public.account.open":     {"Vào tài khoản của tôi", "Go to my account"},
	"public.account.welcome":  {"Xin chào, %s.", "Hello, %s."},
}
