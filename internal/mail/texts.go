package mail

import (
	"maps"

	"chancery/internal/i18n"
)

// Texts returns this package's user-facing strings, for the catalogue
// built at wiring (i18n.New); the table is never changed, so each call
// returns a copy.
func Texts() i18n.Texts { return maps.Clone(texts) }

// The staff console's pages of the mailbox simulator (internal/mail), the
// demo's catcher of the e-mail notices Chancery sends.
var texts = i18n.Texts{
	"mail.nav":           {"Hộp thư (mô phỏng)", "Mailbox simulator"},
	"mail.badge":         {"Trình mô phỏng", "Simulator"},
	"mail.mailbox.title": {"Hộp thư (mô phỏng)", "Mailbox simulator"},
	"mail.mailbox.lead": {
		"Đây là hộp thư mô phỏng dùng cho chế độ trình diễn: thư điện tử Chancery gửi cho công dân và cán bộ được giữ lại ở đây thay vì được chuyển đi.",
		"This is a mailbox simulator for demo mode: the e-mail Chancery sends to citizens and staff is caught here instead of being delivered.",
	},
	"mail.mailbox.addr":       {"Địa chỉ nhận thư (SMTP)", "Receives mail at (SMTP)"},
	"mail.mailbox.held":       {"Đang lưu giữ", "Held"},
	"mail.mailbox.held.count": {"%d thư (tối đa %d; khi đầy, thư nhận sớm nhất bị loại bỏ trước)", "%d messages (at most %d; when full, the earliest received is dropped first)"},
	"mail.mailbox.messages":   {"Thư đã nhận, mới nhất trước", "Messages received, newest first"},
	"mail.mailbox.none":       {"Hộp thư chưa nhận được thư nào.", "The mailbox has received no mail yet."},
	"mail.col.received":       {"Thời điểm nhận", "Received"},
	"mail.col.from":           {"Người gửi", "From"},
	"mail.col.to":             {"Người nhận", "To"},
	"mail.col.subject":        {"Tiêu đề", "Subject"},
	"mail.message.title":      {"Thư trong hộp thư mô phỏng", "Message in the mailbox simulator"},
	"mail.message.back":       {"← Quay lại hộp thư", "← Back to the mailbox"},
	"mail.message.body":       {"Nội dung (văn bản thuần)", "Body (plain text)"},
	"mail.message.html":       {"Bản HTML", "HTML version"},
	"mail.message.html.shown": {"Thư có kèm bản HTML; ở đây chỉ hiển thị bản văn bản thuần.", "The message has an HTML version too; only the plain text is shown here."},
}
