package govsim

import (
	"maps"

	"chancery/internal/i18n"
)

// Texts returns this package's user-facing strings, for the catalogue
// built at wiring (i18n.New); the table is never changed, so each call
// returns a copy.
func Texts() i18n.Texts { return maps.Clone(texts) }

// The staff console's page of the National Public Service Portal
// simulator (internal/govsim), with the portal's names of dossier
// statuses, submission channels and fee states.
var texts = i18n.Texts{
	"govsim.badge": {"Trình mô phỏng", "Simulator"},

	"govsim.population.title": {"Nhật ký tra cứu của trình mô phỏng CSDL quốc gia về dân cư", "National Population Database simulator: access log"},
	"govsim.population.lead": {"Trình mô phỏng ghi lại mỗi lần tra cứu: hệ thống nào hỏi, cho người dùng nào và vì sao (X-Road-UserId, X-Road-Issue), về số định danh nào.",
		"The simulator records every lookup: which system asked, for which end user and why (X-Road-UserId, X-Road-Issue), about which identity number."},
	"govsim.population.lookups":       {"Các lần tra cứu, mới nhất trước", "Lookups, newest first"},
	"govsim.population.none":          {"Chưa có lần tra cứu nào.", "No lookups yet."},
	"govsim.population.col.at":        {"Thời điểm", "At"},
	"govsim.population.col.client":    {"Hệ thống", "System"},
	"govsim.population.col.end_user":  {"Người dùng", "End user"},
	"govsim.population.col.purpose":   {"Mục đích", "Purpose"},
	"govsim.population.col.id_number": {"Số định danh", "Identity number"},
	"govsim.population.col.found":     {"Kết quả", "Result"},
	"govsim.population.found":         {"Có", "Found"},
	"govsim.population.not_found":     {"Không có", "Not found"},
	"govsim.national_portal.title":    {"Trình mô phỏng Cổng Dịch vụ công quốc gia", "National Public Service Portal simulator"},
	"govsim.national_portal.lead": {
		"Đây là trình mô phỏng dùng cho chế độ trình diễn, không phải Cổng Dịch vụ công quốc gia thật. Trình mô phỏng nhận các cập nhật trạng thái hồ sơ mà Chancery gửi qua nền tảng trao đổi dữ liệu; các cập nhật được liệt kê dưới đây.",
		"This is a simulator for demo mode, not the real National Public Service Portal. It receives the dossier status updates Chancery sends through the data exchange; they are listed below.",
	},
	"govsim.national_portal.endpoint":   {"Địa chỉ nhận cập nhật", "Receives updates at"},
	"govsim.national_portal.held":       {"Đang lưu giữ", "Held"},
	"govsim.national_portal.held.count": {"%d cập nhật (tối đa %d; khi đầy, cập nhật nhận sớm nhất bị loại bỏ trước)", "%d updates (at most %d; when full, the earliest received is dropped first)"},

	"govsim.national_portal.filter":                  {"Lọc theo hồ sơ", "Filter by dossier"},
	"govsim.national_portal.filter.clear":            {"Bỏ lọc", "Clear the filter"},
	"govsim.national_portal.field.dossier_code":      {"Mã hồ sơ", "Dossier code"},
	"govsim.national_portal.field.dossier_code.hint": {"Có dạng {mã cơ quan}-{yymmdd}-{số thứ tự}, ví dụ 000.00.03.G12-250301-0007.", "Of the form {agency code}-{yymmdd}-{sequence}, e.g. 000.00.03.G12-250301-0007."},
	"govsim.national_portal.filter.invalid":          {"Mã hồ sơ phải có dạng {mã cơ quan}-{yymmdd}-{số thứ tự}.", "A dossier code has the form {agency code}-{yymmdd}-{sequence}."},
	"govsim.national_portal.updates":                 {"Các cập nhật trạng thái đã nhận", "Status updates received"},
	"govsim.national_portal.shown":                   {"Hiển thị %d cập nhật mới nhất trong số %d.", "Showing the newest %d of %d updates."},
	"govsim.national_portal.none":                    {"Trình mô phỏng chưa nhận được cập nhật nào.", "The simulator has received no updates yet."},
	"govsim.national_portal.none.dossier":            {"Không có cập nhật nào cho hồ sơ này.", "No updates for this dossier."},
	"govsim.national_portal.col.received":            {"Nhận lúc", "Received"},
	"govsim.national_portal.col.dossier":             {"Mã hồ sơ", "Dossier code"},
	"govsim.national_portal.col.procedure":           {"Mã thủ tục", "Procedure code"},
	"govsim.national_portal.col.status":              {"Trạng thái", "Status"},
	"govsim.national_portal.col.channel":             {"Hình thức nộp", "Channel"},
	"govsim.national_portal.col.paid":                {"Phí, lệ phí", "Fees"},
	"govsim.national_portal.col.updated":             {"Cập nhật lúc", "Updated"},
	"govsim.national_portal.col.agency":              {"Mã cơ quan", "Agency code"},

	// The portal's status codes of a dossier, 1 to 10.
	"govsim.status.1":  {"Mới đăng ký", "Newly registered"},
	"govsim.status.2":  {"Được tiếp nhận", "Received"},
	"govsim.status.3":  {"Không được tiếp nhận", "Not accepted"},
	"govsim.status.4":  {"Đang xử lý", "In progress"},
	"govsim.status.5":  {"Yêu cầu bổ sung giấy tờ", "Supplement requested"},
	"govsim.status.6":  {"Yêu cầu thực hiện nghĩa vụ tài chính", "Payment requested"},
	"govsim.status.7":  {"Công dân yêu cầu rút hồ sơ", "Withdrawn by the applicant"},
	"govsim.status.8":  {"Dừng xử lý", "Processing stopped"},
	"govsim.status.9":  {"Đã xử lý xong", "Processed"},
	"govsim.status.10": {"Đã trả kết quả", "Result returned"},

	"govsim.channel.1": {"Trực tiếp", "In person"},
	"govsim.channel.2": {"Trực tuyến", "Online"},
	"govsim.channel.3": {"Qua dịch vụ bưu chính công ích", "By public postal service"},

	"govsim.paid.no":     {"Chưa nộp", "Not paid"},
	"govsim.paid.yes":    {"Đã nộp", "Paid"},
	"govsim.paid.online": {"Đã nộp trực tuyến", "Paid online"},
}
