package web

import (
	"maps"

	"chancery/internal/i18n"
)

// Texts returns this package's user-facing strings, for the catalogue
// built at wiring (i18n.New); the table is never changed, so each call
// returns a copy.
func Texts() i18n.Texts { return maps.Clone(texts) }

// The strings every page shares: the layout, error pages and forms.
var texts = i18n.Texts{
	"app.name":    {"Chancery", "Chancery"},
	"app.tagline": {"Nền tảng số dùng chung của Bộ Ngoại giao", "The Ministry of Foreign Affairs' shared digital platform"},
	"app.skip":    {"Chuyển đến nội dung chính", "Skip to main content"},
	"lang.switch": {"English", "Tiếng Việt"},
	"lang.label":  {"Ngôn ngữ", "Language"},
	"nav.main":    {"Điều hướng chính", "Main navigation"},
	"nav.menu":    {"Trình đơn", "Menu"},
	"nav.console": {"Bảng điều khiển", "Console"},
	"nav.home":    {"Trang chủ", "Home"},
	"nav.public":  {"Cổng thông tin", "Portal"},
	"nav.signin":  {"Đăng nhập", "Sign in"},
	"nav.signout": {"Đăng xuất", "Sign out"},
	"nav.account": {"Tài khoản", "Account"},
	"error.title": {"Có lỗi xảy ra", "Something went wrong"},
	"error.400":   {"Yêu cầu không hợp lệ", "Invalid request"},
	"error.401":   {"Cần đăng nhập", "Sign-in required"},
	"error.403":   {"Không được phép", "Not allowed"},
	"error.404":   {"Không tìm thấy", "Not found"},
	"error.409":   {"Xung đột dữ liệu", "Conflict"},
	"error.413":   {"Dữ liệu quá lớn", "Too large"},
	"error.429":   {"Quá nhiều lần thử", "Too many attempts"},
	"error.500":   {"Lỗi hệ thống", "Server error"},
	"error.503":   {"Dịch vụ tạm thời không sẵn sàng", "Service unavailable"},
	"error.507":   {"Bộ nhớ của máy chủ đã đầy", "The server's storage is full"},
	// The answer to an upload when the server takes all it can at once.
	"error.uploads_busy": {"Máy chủ đang nhận nhiều tệp cùng lúc. Vui lòng gửi lại sau %d giây.", "The server is taking as many uploads as it can at once. Please send the files again in %d seconds."},
	"error.request_id":   {"Mã yêu cầu", "Request id"},
	"error.back":         {"Quay lại trang chủ", "Back to the home page"},
	"form.save":          {"Lưu", "Save"},
	"form.cancel":        {"Hủy", "Cancel"},
	"form.create":        {"Tạo mới", "Create"},
	"form.required":      {"bắt buộc", "required"},
	"form.errors":        {"Vui lòng sửa các lỗi dưới đây.", "Please correct the errors below."},
	"footer.text":        {"Bộ Ngoại giao nước Cộng hòa xã hội chủ nghĩa Việt Nam", "Ministry of Foreign Affairs of the Socialist Republic of Viet Nam"},
	// portal: the public footer's contact, hotline and notices.
	"footer.contact":        {"Liên hệ", "Contact"},
	"footer.address":        {"Số 1 Tôn Thất Đàm, Ba Đình, Hà Nội", "1 Ton That Dam, Ba Dinh, Ha Noi"},
	"footer.email":          {"banbientap@mofa.gov.vn", "banbientap@mofa.gov.vn"},
	"footer.hotline":        {"Tổng đài bảo hộ công dân (24/7)", "Citizen protection hotline (24/7)"},
	"footer.hotline_number": {"+84 981 84 84 84", "+84 981 84 84 84"},
	"footer.hotline_tel":    {"+84981848484", "+84981848484"},
	"footer.links":          {"Thông tin về cổng", "About the portal"},
	"footer.privacy":        {"Thông báo xử lý dữ liệu cá nhân", "Privacy notice"},
	"footer.accessibility":  {"Tuyên bố về khả năng tiếp cận", "Accessibility statement"},
	"footer.missions":       {"Cơ quan đại diện ở nước ngoài", "Missions abroad"},
	"footer.sitemap":        {"Sơ đồ cổng", "Sitemap"},
}
