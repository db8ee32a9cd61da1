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
	"console.profile.unit":      {"Mã đơn vị", "Unit id"},
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

	"console.role.clerk":            {"Văn thư", "Clerk"},
	"console.role.officer":          {"Chuyên viên", "Officer"},
	"console.role.approver":         {"Người phê duyệt", "Approver"},
	"console.role.archivist":        {"Lưu trữ viên", "Archivist"},
	"console.role.auditor":          {"Kiểm tra viên", "Auditor"},
	"console.role.security_officer": {"Cán bộ an ninh thông tin", "Security officer"},
	"console.role.administrator":    {"Quản trị hệ thống", "Administrator"},
	"console.role.architect":        {"Kiến trúc sư", "Architect"},

	"console.level.none":         {"Không mật", "Unclassified"},
	"console.level.confidential": {"Mật", "Confidential"},
	"console.level.secret":       {"Tối mật", "Secret"},
	"console.level.top_secret":   {"Tuyệt mật", "Top secret"},
}
