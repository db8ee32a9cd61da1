package records

import "chancery/internal/i18n"

// edxmlTexts are the strings of the edXML packages' page (edxml_http.go).
var edxmlTexts = i18n.Texts{
	"records.edxml.title": {"Trao đổi văn bản điện tử", "Document exchange"},
	"records.edxml.lead": {"Gói tin edXML gửi đến và gửi đi qua trục trao đổi, với các cơ quan, đơn vị và cơ quan đại diện, cùng trạng thái xử lý của từng gói.",
		"edXML packages received and sent through the exchange, with other agencies and missions, and each package's status."},
	"records.edxml.waiting":      {"Văn bản đến qua trục, chờ vào sổ", "Packages received, to register"},
	"records.edxml.none_waiting": {"Không có gói tin nào chờ vào sổ.", "No package is waiting to be registered."},
	"records.edxml.received":     {"Gói tin đã nhận", "Packages received"},
	"records.edxml.sent":         {"Gói tin đã gửi", "Packages sent"},
	"records.edxml.none":         {"Chưa có gói tin nào.", "No packages yet."},
	"records.edxml.from":         {"Cơ quan gửi", "From"},
	"records.edxml.to":           {"Nơi nhận", "To"},
	"records.edxml.number":       {"Số, ký hiệu", "Number and symbol"},
	"records.edxml.subject":      {"Trích yếu", "Subject"},
	"records.edxml.arrived":      {"Thời điểm đến", "Arrived"},
	"records.edxml.status":       {"Trạng thái", "Status"},
	"records.edxml.document":     {"Văn bản", "Document"},
	"records.edxml.open":         {"Mở văn bản", "Open the document"},
	"records.edxml.actions":      {"Thao tác", "Actions"},
	"records.edxml.register":     {"Vào sổ", "Register"},
	"records.edxml.return":       {"Trả lại", "Return"},
	"records.edxml.reason":       {"Lý do trả lại", "Reason for returning"},

	"records.edxml.flash.registered": {"Đã vào sổ văn bản đến; trạng thái “đã tiếp nhận” được gửi cho cơ quan gửi.",
		"Registered in the incoming register; “accepted” is on its way to the sender."},
	"records.edxml.flash.returned": {"Đã trả lại gói tin cho cơ quan gửi.", "The package was returned to its sender."},

	"records.edxml.error.conflict": {"Gói tin này đã được vào sổ, trả lại hoặc bị thu hồi.", "This package was already registered, returned or recalled."},
	"records.edxml.error.invalid":  {"Không thực hiện được: dữ liệu không hợp lệ.", "That could not be done: the input is not valid."},
	"records.edxml.invalid.reason": {"Hãy nêu lý do trả lại.", "Say why the package is returned."},

	"records.edxml.status.queued":      {"Chờ gửi", "Queued"},
	"records.edxml.status.sent":        {"Đã gửi", "Sent"},
	"records.edxml.status.failed":      {"Gửi không thành công", "Failed"},
	"records.edxml.status.received":    {"Đã đến", "Received"},
	"records.edxml.status.accepted":    {"Đã tiếp nhận (vào sổ)", "Accepted (registered)"},
	"records.edxml.status.assigned":    {"Đã phân công", "Assigned"},
	"records.edxml.status.in_progress": {"Đang xử lý", "In progress"},
	"records.edxml.status.done":        {"Hoàn thành", "Done"},
	"records.edxml.status.returned":    {"Bị trả lại", "Returned"},
	"records.edxml.status.recalled":    {"Đã thu hồi", "Recalled"},
}
