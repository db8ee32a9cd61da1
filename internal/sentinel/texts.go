package sentinel

import (
	"maps"

	"chancery/internal/i18n"
)

// Texts returns this package's user-facing strings, for the catalogue
// built at wiring; each call returns a copy.
func Texts() i18n.Texts { return maps.Clone(texts) }

var texts = i18n.Texts{
	"sentinel.nav":          {"Giám sát an ninh", "Security monitoring"},
	"sentinel.queue.title":  {"Cảnh báo an ninh", "Security alerts"},
	"sentinel.queue.filter": {"Lọc cảnh báo", "Filter alerts"},
	"sentinel.queue.submit": {"Lọc", "Filter"},
	"sentinel.queue.count":  {"%d cảnh báo", "%d alerts"},
	"sentinel.queue.empty":  {"Không có cảnh báo nào khớp.", "No alert matches."},
	"sentinel.queue.pages":  {"Các trang cảnh báo", "Alert pages"},
	"sentinel.queue.prev":   {"Trang trước", "Previous page"},
	"sentinel.queue.next":   {"Trang sau", "Next page"},
	"sentinel.queue.page":   {"Trang %d / %d", "Page %d of %d"},

	"sentinel.status.all":                   {"Mọi trạng thái", "Any status"},
	"sentinel.status.new":                   {"Mới", "New"},
	"sentinel.status.investigating":         {"Đang xác minh", "Investigating"},
	"sentinel.status.closed_true_positive":  {"Đã đóng: vi phạm thật", "Closed: true positive"},
	"sentinel.status.closed_false_positive": {"Đã đóng: báo nhầm", "Closed: false positive"},

	"sentinel.field.status":   {"Trạng thái", "Status"},
	"sentinel.field.rule":     {"Quy tắc", "Rule"},
	"sentinel.field.user":     {"Tài khoản", "User"},
	"sentinel.field.assignee": {"Người xử lý", "Assignee"},
	"sentinel.field.notes":    {"Ghi chú", "Notes"},

	"sentinel.col.risk":    {"Rủi ro", "Risk"},
	"sentinel.col.score":   {"Điểm", "Score"},
	"sentinel.col.alert":   {"Cảnh báo", "Alert"},
	"sentinel.col.rule":    {"Quy tắc", "Rule"},
	"sentinel.col.user":    {"Tài khoản", "User"},
	"sentinel.col.status":  {"Trạng thái", "Status"},
	"sentinel.col.created": {"Thời điểm", "Raised"},

	"sentinel.alert.title":           {"Cảnh báo an ninh", "Security alert"},
	"sentinel.alert.back":            {"Về hàng đợi cảnh báo", "Back to the alert queue"},
	"sentinel.alert.what":            {"Điều đã xảy ra", "What happened"},
	"sentinel.alert.period":          {"Khoảng thời gian", "Period"},
	"sentinel.alert.mission":         {"Cơ quan đại diện", "Mission"},
	"sentinel.alert.evidence":        {"Bằng chứng: %d sự kiện nhật ký", "Evidence: %d ledger events"},
	"sentinel.alert.evidence_help":   {"Mỗi sự kiện mở trang nhật ký kiểm toán với bằng chứng Merkle của nó.", "Each event opens the audit ledger's page with its Merkle proof."},
	"sentinel.alert.remote_evidence": {"Các sự kiện nằm trong nhật ký của %s; số thứ tự:", "The events are in the ledger of %s; their sequence numbers:"},
	"sentinel.alert.event":           {"Sự kiện số %d", "Event %d"},
	"sentinel.alert.risk":            {"Rủi ro của %s theo thời gian", "%s's risk over time"},
	"sentinel.alert.triage":          {"Xử lý cảnh báo", "Triage"},
	"sentinel.alert.save":            {"Lưu", "Save"},
	"sentinel.alert.history":         {"Lịch sử xử lý", "Triage history"},
	"sentinel.flash.updated":         {"Đã lưu việc xử lý cảnh báo.", "The alert's triage was saved."},

	"sentinel.error.conflict":  {"Cảnh báo đã được người khác thay đổi hoặc không thể chuyển như vậy; tải lại trang.", "The alert was changed by someone else or cannot move so; reload the page."},
	"sentinel.error.invalid":   {"Dữ liệu không hợp lệ.", "The input is not valid."},
	"sentinel.error.forbidden": {"Bạn không được xử lý cảnh báo.", "You may not triage alerts."},
	"sentinel.error.too_large": {"Nội dung quá lớn.", "The input is too large."},
}
