package console

import (
	"maps"

	"chancery/internal/i18n"
)

// Texts returns this package's user-facing strings, for the catalogue
// built at wiring (i18n.New); the table is never changed, so each call
// returns a copy.
func Texts() i18n.Texts { return maps.Clone(texts) }

// The staff console's home page, and the names of roles and clearance
// levels as the console shows them.
var texts = i18n.Texts{
	"console.home.title":        {"Tổng quan", "Overview"},
	"console.greeting":          {"Xin chào, %s", "Hello, %s"},
	"console.home.lead":         {"Đây là các chức năng bạn được phép sử dụng.", "These are the functions open to you."},
	"console.profile.heading":   {"Phiên làm việc của bạn", "Your session"},
	"console.profile.username":  {"Tên đăng nhập", "Username"},
	"console.profile.unit":      {"Đơn vị", "Unit"},
	"console.profile.roles":     {"Vai trò", "Roles"},
	"console.profile.no_roles":  {"Chưa được giao vai trò", "No roles assigned"},
	"console.profile.clearance": {"Độ mật được tiếp cận", "Clearance"},
	"console.tiles.heading":     {"Chức năng", "Functions"},
	"console.tile.units.title":  {"Đơn vị", "Units"},
	"console.tile.units.text": {
		"Cơ cấu tổ chức của Bộ: các đơn vị trong nước, cơ quan đại diện ở nước ngoài và lịch sử sáp nhập.",
		"The ministry's organisation: units at home, missions abroad and their history of mergers.",
	},
	"console.tile.staff.title": {"Cán bộ", "Staff"},
	"console.tile.staff.text": {
		"Tài khoản cán bộ, vai trò và độ mật được tiếp cận.",
		"Staff accounts, their roles and clearances.",
	},

	// The home's "your work": where each member of staff goes first.
	"console.work.heading":            {"Công việc của bạn", "Your work"},
	"console.work.none":               {"Vai trò của bạn chưa có công việc nào trên bảng điều khiển. Hãy liên hệ quản trị hệ thống.", "Your roles give you no work in the console yet. Ask an administrator."},
	"console.work.queue.title":        {"Hàng chờ hồ sơ", "Dossier queue"},
	"console.work.queue.text":         {"Tiếp nhận hồ sơ mới, hồ sơ chờ bổ sung và trả kết quả.", "Receive new dossiers, follow the ones awaiting papers and return results."},
	"console.work.mine.title":         {"Hồ sơ của tôi", "My dossiers"},
	"console.work.mine.text":          {"Hồ sơ được giao cho bạn xử lý hoặc phê duyệt, hạn sớm nhất lên trước.", "Dossiers assigned to you to process or decide, soonest deadline first."},
	"console.work.audit.title":        {"Tra cứu nhật ký kiểm tra", "Audit search"},
	"console.work.audit.text":         {"Tìm sự kiện trong nhật ký và kiểm chứng chúng theo điểm kiểm tra đã ký.", "Find events in the ledger and verify them against its signed checkpoints."},
	"console.work.proposals.title":    {"Đề xuất cấp quyền", "Grants to approve"},
	"console.work.proposals.text":     {"Phê duyệt hoặc từ chối các đề xuất vai trò và độ mật.", "Approve or reject the roles and clearances administrators propose."},
	"console.work.directory.title":    {"Danh bạ cán bộ", "Staff directory"},
	"console.work.directory.text":     {"Tài khoản cán bộ, vai trò, độ mật và đơn vị.", "Staff accounts, their roles, clearances and units."},
	"console.work.exchange.title":     {"Trục liên thông", "Data exchange"},
	"console.work.exchange.text":      {"Dịch vụ, phân hệ và nút của trục liên thông; giám sát thông điệp.", "The exchange's services, subsystems and nodes; the message monitor."},
	"console.work.architecture.title": {"Kho kiến trúc", "Architecture repository"},
	"console.work.architecture.text":  {"Thành phần, quan hệ và mức tuân thủ Khung kiến trúc số.", "Components, relationships and conformance to the digital architecture framework."},
	"console.work.records.title":      {"Công việc văn bản", "My documents work"},
	"console.work.records.text":       {"Văn bản giao cho bạn hoặc đơn vị, chờ ý kiến chỉ đạo hoặc phê duyệt, chưa đọc.", "Documents assigned to you or your unit, awaiting your instruction or approval, unread."},
	"console.work.tasks.title":        {"Nhiệm vụ chỉ đạo", "Leadership tasks"},
	"console.work.tasks.text":         {"Giao nhiệm vụ, theo dõi tiến độ và nhiệm vụ quá hạn của các đơn vị.", "Assign tasks and follow each unit's progress and overdue tasks."},
	"console.work.indices.title":      {"Chỉ số phục vụ", "Service indices"},
	"console.work.indices.text":       {"Chỉ số chất lượng phục vụ theo Quyết định 766, so sánh các đơn vị.", "Decision 766's service quality indices, unit by unit."},

	"console.role.clerk":            {"Văn thư", "Clerk"},
	"console.role.officer":          {"Chuyên viên", "Officer"},
	"console.role.approver":         {"Người phê duyệt", "Approver"},
	"console.role.archivist":        {"Lưu trữ viên", "Archivist"},
	"console.role.auditor":          {"Kiểm tra viên", "Auditor"},
	"console.role.security_officer": {"Cán bộ an ninh thông tin", "Security officer"},
	"console.role.administrator":    {"Quản trị hệ thống", "Administrator"},
	"console.role.press_officer":    {"Cán bộ báo chí", "Press officer"},
	"console.role.spokesperson":     {"Người phát ngôn", "Spokesperson"},
	"console.role.architect":        {"Kiến trúc sư", "Architect"},
	"console.role.leader":           {"Lãnh đạo Bộ", "Ministry leadership"},

	"console.level.none":         {"Không mật", "Unclassified"},
	"console.level.confidential": {"Mật", "Confidential"},
	"console.level.secret":       {"Tối mật", "Secret"},
	"console.level.top_secret":   {"Tuyệt mật", "Top secret"},
}
