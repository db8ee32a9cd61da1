package dlp

import (
	"maps"

	"chancery/internal/i18n"
)

// Texts returns this package's user-facing strings, for the catalogue
// built at wiring; each call returns a copy.
func Texts() i18n.Texts { return maps.Clone(texts) }

var texts = i18n.Texts{
	"dlp.nav":           {"Chống rò rỉ dữ liệu", "Data-loss prevention"},
	"dlp.title":         {"Chống rò rỉ dữ liệu: hàng chờ duyệt và chính sách", "Data-loss prevention: held items and policy"},
	"dlp.lead":          {"Những gì rời hệ thống qua trục liên thông, tải xuống, kết xuất hồ sơ và thư điện tử được quét tìm dấu chỉ độ mật và dữ liệu cá nhân số lượng lớn. Chính sách quyết định cho đi, giữ lại chờ duyệt hoặc chặn; mỗi quyết định được ghi vào nhật ký (số lượng và loại, không bao giờ là dữ liệu).", "What leaves through the exchange, downloads, case-file exports and e-mail is scanned for classification markings and personal data in bulk. The policy lets it go, holds it for approval or blocks it; each decision is recorded in the ledger (counts and kinds, never the data)."},
	"dlp.holds":         {"Mục bị giữ lại", "Held items"},
	"dlp.waiting":       {"%d đang chờ", "%d waiting"},
	"dlp.status":        {"Trạng thái", "Status"},
	"dlp.show":          {"Lọc", "Show"},
	"dlp.hold":          {"Mục", "Item"},
	"dlp.way":           {"Đường ra", "Way out"},
	"dlp.sender":        {"Người gửi", "Sender"},
	"dlp.destination":   {"Nơi nhận", "Destination"},
	"dlp.found":         {"Phát hiện", "Found"},
	"dlp.decide":        {"Quyết định", "Decision"},
	"dlp.note":          {"Ghi chú (bắt buộc khi từ chối)", "Note (required to reject)"},
	"dlp.approve":       {"Cho phép gửi", "Approve"},
	"dlp.reject":        {"Từ chối", "Reject"},
	"dlp.more":          {"Xem thêm", "More"},
	"dlp.none":          {"Không có mục nào.", "No items."},
	"dlp.count":         {"%d", "%d"},
	"dlp.download_self": {"người tải xuống", "the downloader"},
	"dlp.policy":        {"Chính sách đang áp dụng (phiên bản %d)", "Policy in force (version %d)"},
	"dlp.policy_lead":   {"Với mỗi đường ra và mỗi loại phát hiện, quy tắc nghiêm nhất được áp dụng; mục không thuộc quy tắc nào được cho đi. Nơi nhận được miễn là các kênh đã được phép nhận.", "For each way out and kind of finding the strictest rule applies; an item meeting no rule goes. Cleared destinations are channels allowed to receive what the rule stops."},
	"dlp.rules":         {"Quy tắc", "Rules"},
	"dlp.finding":       {"Phát hiện", "Finding"},
	"dlp.decision":      {"Quyết định", "Decision"},
	"dlp.cleared":       {"Nơi nhận được miễn", "Cleared destinations"},
	"dlp.bulk":          {"Ngưỡng \"số lượng lớn\"", "\"In bulk\" thresholds"},
	"dlp.from":          {"từ %d", "from %d"},
	"dlp.policy_json":   {"Chính sách (JSON)", "Policy (JSON)"},
	"dlp.policy_note":   {"Lý do thay đổi", "Why it changes"},
	"dlp.save":          {"Lưu phiên bản mới", "Save a new version"},
	"dlp.versions":      {"Các phiên bản", "Versions"},
	"dlp.version":       {"Phiên bản %d", "Version %d"},

	"dlp.status.held":     {"Đang chờ duyệt", "Waiting"},
	"dlp.status.approved": {"Đã cho phép, chờ gửi lại", "Approved, to be sent again"},
	"dlp.status.rejected": {"Đã từ chối", "Rejected"},
	"dlp.status.released": {"Đã gửi đi", "Released"},
	"dlp.status.all":      {"Tất cả", "All"},

	"dlp.way.exchange": {"Trục liên thông", "Exchange"},
	"dlp.way.download": {"Tải xuống", "Download"},
	"dlp.way.export":   {"Kết xuất hồ sơ", "Case-file export"},
	"dlp.way.mail":     {"Thư điện tử", "E-mail"},
	"dlp.way.all":      {"Mọi đường ra", "Every way out"},

	"dlp.decision.allow": {"Cho đi", "Allow"},
	"dlp.decision.hold":  {"Giữ lại chờ duyệt", "Hold for approval"},
	"dlp.decision.block": {"Chặn", "Block"},

	"dlp.finding.marking":              {"Dấu chỉ độ mật (bất kỳ)", "A classification marking (any)"},
	"dlp.finding.marking_confidential": {"Dấu \"MẬT\"", "\"MẬT\" (confidential) marking"},
	"dlp.finding.marking_secret":       {"Dấu \"TỐI MẬT\"", "\"TỐI MẬT\" (secret) marking"},
	"dlp.finding.marking_top_secret":   {"Dấu \"TUYỆT MẬT\"", "\"TUYỆT MẬT\" (top secret) marking"},
	"dlp.finding.personal_data":        {"Dữ liệu cá nhân số lượng lớn (bất kỳ)", "Personal data in bulk (any)"},
	"dlp.finding.identity_number":      {"Số định danh cá nhân (CCCD)", "Personal identity numbers (CCCD)"},
	"dlp.finding.old_identity_number":  {"Số CMND", "Old identity card numbers (CMND)"},
	"dlp.finding.passport_number":      {"Số hộ chiếu", "Passport numbers"},
	"dlp.finding.phone_number":         {"Số điện thoại", "Phone numbers"},
	"dlp.finding.email_address":        {"Địa chỉ thư điện tử", "E-mail addresses"},
	"dlp.finding.too_big":              {"Quá lớn để quét hết", "Too big to scan whole"},
	"dlp.finding.unreadable":           {"Không đọc được nội dung", "Text could not be read"},

	"dlp.flash.approved": {"Đã cho phép. Mục sẽ được gửi khi người gửi gửi lại.", "Approved. The item goes when its sender sends it again."},
	"dlp.flash.rejected": {"Đã từ chối mục bị giữ.", "The held item was rejected."},
	"dlp.flash.saved":    {"Đã lưu phiên bản mới của chính sách.", "A new version of the policy was saved."},

	"dlp.error.conflict":  {"Không thực hiện được vì dữ liệu đã thay đổi.", "This could not be done: something changed meanwhile."},
	"dlp.error.forbidden": {"Bạn không được làm việc này.", "You may not do this."},
	"dlp.error.invalid":   {"Thông tin chưa hợp lệ.", "Something in the form is not valid."},
	"dlp.invalid.note":    {"Ghi chú chưa hợp lệ (bắt buộc khi từ chối).", "The note is not valid (it is required to reject)."},
	"dlp.invalid.policy":  {"Chính sách không đọc được.", "The policy cannot be read."},
}
