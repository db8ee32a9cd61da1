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

	// What an error page says, in the reader's language (see errorDetail).
	"error.detail.general":          {"Không thể thực hiện yêu cầu này.", "The request could not be carried out."},
	"error.400.detail":              {"Yêu cầu có dữ liệu không hợp lệ. Hãy kiểm tra lại và thử lại.", "The request holds something that is not valid. Check it and try again."},
	"error.403.detail":              {"Vai trò của bạn không cho phép thao tác này.", "Your roles do not allow this."},
	"error.404.detail":              {"Không có trang hoặc mục này, hoặc bạn không được phép xem.", "There is no such page or item, or you may not see it."},
	"error.409.detail":              {"Dữ liệu đã thay đổi hoặc xung đột với dữ liệu hiện có. Hãy tải lại trang và thử lại.", "The data changed meanwhile or conflicts with what is stored. Reload the page and try again."},
	"error.500.detail":              {"Đã có lỗi ở phía hệ thống. Khi báo lỗi, hãy cung cấp mã yêu cầu.", "Something went wrong on our side. Quote the request id when you report it."},
	"error.503.detail":              {"Một dịch vụ mà máy chủ cần đang tạm thời không sẵn sàng. Hãy thử lại sau vài giây; nếu vẫn lỗi, hãy báo người vận hành kèm mã yêu cầu.", "A service this server depends on is unavailable for the moment. Try again in a few seconds; if it persists, tell the operator and quote the request id."},
	"error.507.detail":              {"Bộ nhớ của máy chủ đã đầy nên chưa có gì được lưu. Hãy thử lại sau; nếu vẫn lỗi, hãy báo người vận hành kèm mã yêu cầu.", "The server's storage is full, so nothing was saved. Try again later; if it persists, tell the operator and quote the request id."},
	"error.code.no_role":            {"Không vai trò nào của bạn cho phép thao tác này.", "None of your roles allows this."},
	"error.code.csrf":               {"Mã bảo mật của biểu mẫu bị thiếu hoặc sai. Hãy tải lại trang và thử lại.", "The form's security token is missing or wrong. Reload the page and try again."},
	"error.code.sign_in_incomplete": {"Hãy hoàn tất đăng nhập trước (đăng ký xác thực hai lớp hoặc đổi mật khẩu).", "Finish signing in first (enrol a second factor or change your password)."},
	"error.code.wrong_account_kind": {"Trang này không dành cho loại tài khoản của bạn.", "This page is not for your kind of account."},
	"error.precise":                 {"Chi tiết (tiếng Anh)", "Details"},

	// A long list's pages (web.Pager).
	"pager.label":       {"Các trang của danh sách", "Pages of the list"},
	"pager.first":       {"← Trang đầu", "← First page"},
	"pager.next":        {"Trang sau →", "Next page →"},
	"pager.shown":       {"Đang hiện %d mục", "Showing %d"},
	"pager.shown_range": {"Mục %d–%d", "Items %d–%d"},
}
