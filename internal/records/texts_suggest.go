package records

import "chancery/internal/i18n"

// suggestTexts are the assistant's strings, for the pages that show its
// suggestions beside the fields a clerk fills in.
var suggestTexts = i18n.Texts{
	"records.suggest.title":      {"Gợi ý", "Suggestions"},
	"records.suggest.hint":       {"Gợi ý do máy học từ các văn bản đến của đơn vị mà bạn được xem; hãy kiểm tra, chấp nhận hoặc sửa trước khi đăng ký.", "Learned from your unit's incoming documents that you may see; check, accept or change each before registering."},
	"records.suggest.button":     {"Gợi ý từ nội dung", "Suggest from the text"},
	"records.suggest.accept":     {"Dùng gợi ý", "Use the suggestion"},
	"records.suggest.confidence": {"Độ tin cậy", "Confidence"},
	"records.suggest.type":       {"Loại văn bản", "Type"},
	"records.suggest.urgency":    {"Độ khẩn", "Urgency"},
	"records.suggest.subject":    {"Trích yếu", "Subject"},
	"records.suggest.handler":    {"Đơn vị thường xử lý", "Unit that usually handles it"},
	"records.suggest.text":       {"Nội dung văn bản (để gợi ý)", "The document's text (for suggestions)"},
	"records.suggest.text.hint":  {"Dán hoặc gõ vài dòng đầu của văn bản rồi bấm «Gợi ý từ nội dung». Tệp đã chọn cần chọn lại sau khi xem gợi ý.", "Paste or type the document's first lines, then press «Suggest from the text». A file already chosen must be chosen again after the suggestions."},
	"records.suggest.none":       {"Chưa đủ văn bản đã đăng ký để gợi ý.", "Not enough registered documents to suggest from."},
}
