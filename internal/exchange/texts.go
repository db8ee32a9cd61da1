package exchange

import (
	"maps"

	"chancery/internal/i18n"
)

// Texts returns this package's user-facing strings, for the catalogue
// built at wiring (i18n.New); the table is never changed, so each call
// returns a copy.
func Texts() i18n.Texts { return maps.Clone(texts) }

// The exchange: the monitoring page of a node.
var texts = i18n.Texts{
	"exchange.monitor.title": {"Giám sát trao đổi dữ liệu", "Exchange monitoring"},
	"exchange.monitor.lead": {"Nút %s (vai trò %s): kết nối với các nút khác, hàng đợi và số liệu theo dịch vụ.",
		"Node %s (role %s): links to other nodes, queues and per-service counts."},
	"exchange.monitor.noconf": {"Nút này chưa có cấu hình toàn cục; nó chưa thể gửi hay nhận thông điệp.",
		"This node has no global configuration yet; it cannot send or receive messages."},
	"exchange.monitor.expired": {"Cấu hình toàn cục đã hết hạn lúc %s: nút từ chối gửi thông điệp mới cho tới khi nhận được cấu hình mới từ trụ sở. Hãy kiểm tra kết nối với trụ sở.",
		"The global configuration expired at %s: this node refuses new messages until headquarters sends a fresh one. Check the link to headquarters."},
	"exchange.monitor.expiring": {"Cấu hình toàn cục sẽ hết hạn lúc %s. Hãy bảo đảm trụ sở phát hành cấu hình mới trước thời điểm đó.",
		"The global configuration expires at %s. Make sure headquarters publishes a fresh one before then."},
	"exchange.monitor.stopped":     {"Dịch vụ truyền thông điệp của nút này không chạy.", "This node's message transport is not running."},
	"exchange.monitor.conf":        {"Cấu hình toàn cục", "Global configuration"},
	"exchange.monitor.serial":      {"Số hiệu", "Serial"},
	"exchange.monitor.expires":     {"Hết hạn", "Expires"},
	"exchange.monitor.links":       {"Kết nối với các nút", "Links to nodes"},
	"exchange.monitor.peer":        {"Nút", "Node"},
	"exchange.monitor.state":       {"Trạng thái", "State"},
	"exchange.monitor.since":       {"Từ lúc", "Since"},
	"exchange.monitor.waiting":     {"Lô đang chờ gửi", "Batches waiting"},
	"exchange.monitor.unknown":     {"Không rõ", "Unknown"},
	"exchange.monitor.up":          {"Đã kết nối", "Connected"},
	"exchange.monitor.down":        {"Mất kết nối", "Disconnected"},
	"exchange.monitor.nolinks":     {"Nút này không có kết nối trực tiếp với nút nào.", "This node links to no other node directly."},
	"exchange.monitor.backlog":     {"Hàng đợi theo nút nhận", "Backlog by destination"},
	"exchange.monitor.destination": {"Nút nhận", "Destination"},
	"exchange.monitor.queued":      {"Lô trong hàng đợi", "Batches queued"},
	"exchange.monitor.pending":     {"Thông điệp chưa đóng lô", "Messages not yet batched"},
	"exchange.monitor.nobacklog":   {"Không có gì đang chờ.", "Nothing is waiting."},
	"exchange.monitor.services":    {"Theo dịch vụ", "By service"},
	"exchange.monitor.service":     {"Dịch vụ", "Service"},
	"exchange.monitor.sent":        {"Đã gửi", "Sent"},
	"exchange.monitor.delivered":   {"Đã nhận", "Delivered"},
	"exchange.monitor.refused":     {"Bị từ chối", "Refused"},
	"exchange.monitor.requests":    {"Yêu cầu đồng bộ", "Requests"},
	"exchange.monitor.errors":      {"Lỗi", "Errors"},
	"exchange.monitor.noservices":  {"Chưa có thông điệp hay yêu cầu nào từ khi nút khởi động.", "No messages or requests since the node started."},
	"exchange.monitor.dead":        {"Thông điệp bị bên nhận từ chối", "Dead letters"},
	"exchange.monitor.dead.lead": {"Thông điệp mà webhook của hệ thống nhận đã từ chối nhiều lần liên tiếp; chúng được đưa ra khỏi hàng đợi để các thông điệp sau vẫn được chuyển theo thứ tự. Hãy gửi lại sau khi bên nhận đã khắc phục, hoặc hủy bỏ.",
		"Messages the receiving system's webhook refused time after time; they were taken out of the queue so that the messages behind them are still delivered in order. Resend one once the receiver is fixed, or discard it."},
	"exchange.monitor.dead.id":        {"Mã thông điệp", "Message id"},
	"exchange.monitor.dead.recipient": {"Hệ thống nhận", "Recipient"},
	"exchange.monitor.dead.since":     {"Bị từ chối lúc", "Refused at"},
	"exchange.monitor.dead.answer":    {"Trả lời cuối của bên nhận", "The receiver's last answer"},
	"exchange.monitor.dead.actions":   {"Thao tác", "Actions"},
	"exchange.monitor.dead.resend":    {"Gửi lại", "Resend"},
	"exchange.monitor.dead.discard":   {"Hủy bỏ", "Discard"},
	"exchange.monitor.dead.none":      {"Không có thông điệp nào bị từ chối.", "No message was refused."},
	"exchange.flash.resent":           {"Thông điệp đã được đưa lại vào hàng đợi và sẽ được chuyển tiếp theo.", "The message is back in the queue and is pushed next."},
	"exchange.flash.discarded":        {"Thông điệp đã bị hủy bỏ.", "The message was discarded."},
}
