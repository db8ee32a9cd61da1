package analytics

import (
	"maps"

	"chancery/internal/i18n"
)

// Texts returns the data repository's user-facing strings, for the
// catalogue built at wiring (i18n.New); each call returns a copy.
func Texts() i18n.Texts { return maps.Clone(texts) }

var texts = i18n.Texts{
	"analytics.nav": {"Danh mục dữ liệu", "Data catalogue"},

	"analytics.catalogue.title": {"Danh mục dữ liệu dùng chung", "Catalogue of shared data"},
	"analytics.catalogue.lead": {"Các bộ dữ liệu của Bộ: đơn vị chủ quản, độ mật, dữ liệu cá nhân, hệ thống nguồn, tần suất cập nhật, kiểm tra chất lượng và ai được sử dụng.",
		"The ministry's datasets: owner unit, classification, personal data, source system, refresh, quality checks and who may use them."},
	"analytics.catalogue.count": {"%d bộ dữ liệu", "%d datasets"},
	"analytics.catalogue.empty": {"Chưa có bộ dữ liệu nào bạn được xem.", "No dataset you may see yet."},
	"analytics.owner.ministry":  {"Bộ Ngoại giao (dữ liệu của hệ thống)", "The ministry (Chancery's own data)"},
	"analytics.yes":             {"Có", "Yes"},
	"analytics.no":              {"Không", "No"},

	"analytics.totals.title":   {"Kho số liệu phân tích: 30 ngày qua", "Analytics store: the last 30 days"},
	"analytics.totals.period":  {"Từ %s đến %s, các đơn vị bạn được xem", "From %s to %s, the units you may see"},
	"analytics.totals.measure": {"Chỉ tiêu", "Measure"},
	"analytics.totals.value":   {"Số lượng", "Count"},
	"analytics.totals.bi": {"Công cụ BI (Superset, Metabase) đọc các khung nhìn bi_* bằng vai trò chỉ đọc chancery_bi; xem README.",
		"BI tools (Superset, Metabase) read the bi_* views with the read-only role chancery_bi; see the README."},

	"analytics.measure.dossiers_received":      {"Hồ sơ tiếp nhận", "Dossiers received"},
	"analytics.measure.dossiers_resolved":      {"Hồ sơ đã giải quyết", "Dossiers resolved"},
	"analytics.measure.dossiers_resolved_late": {"Hồ sơ giải quyết trễ hạn", "Dossiers resolved late"},
	"analytics.measure.dossiers_overdue":       {"Hồ sơ quá hạn", "Dossiers overdue"},
	"analytics.measure.documents_in":           {"Văn bản đến", "Incoming documents"},
	"analytics.measure.documents_out":          {"Văn bản đi", "Outgoing documents"},
	"analytics.measure.exchange_sent":          {"Thông điệp đã gửi", "Messages sent"},
	"analytics.measure.exchange_received":      {"Thông điệp đã nhận", "Messages received"},
	"analytics.measure.alerts":                 {"Cảnh báo an ninh", "Security alerts"},
	"analytics.measure.tasks_assigned":         {"Nhiệm vụ được giao", "Tasks assigned"},
	"analytics.measure.tasks_completed":        {"Nhiệm vụ hoàn thành", "Tasks completed"},
	"analytics.measure.reports_submitted":      {"Báo cáo đã nộp", "Reports submitted"},

	"analytics.dataset.about":          {"Thông tin bộ dữ liệu", "About the dataset"},
	"analytics.dataset.kind":           {"Loại", "Kind"},
	"analytics.dataset.builtin":        {"Dữ liệu hệ thống tự đăng ký", "Held by Chancery, registered automatically"},
	"analytics.dataset.outside":        {"Dữ liệu ngoài hệ thống, do đơn vị đăng ký", "Held outside Chancery, registered by its unit"},
	"analytics.dataset.refreshed":      {"cập nhật lần cuối %s", "last refreshed %s"},
	"analytics.dataset.report_refresh": {"Báo đã cập nhật dữ liệu hôm nay", "Report a refresh now"},

	"analytics.checks.title":   {"Kiểm tra chất lượng", "Quality checks"},
	"analytics.checks.check":   {"Kiểm tra", "Check"},
	"analytics.checks.result":  {"Kết quả lần cuối", "Last result"},
	"analytics.checks.value":   {"Giá trị đo", "Measured"},
	"analytics.checks.run":     {"Thời điểm chạy", "Run at"},
	"analytics.checks.never":   {"Chưa chạy", "Not run yet"},
	"analytics.checks.ok":      {"Đạt", "Passed"},
	"analytics.checks.fail":    {"Không đạt", "Failed"},
	"analytics.checks.none":    {"Bộ dữ liệu này chưa có kiểm tra nào.", "This dataset has no checks."},
	"analytics.checks.run_now": {"Chạy kiểm tra ngay", "Run the checks now"},
	"analytics.checks.passed":  {"%d đạt", "%d passed"},
	"analytics.checks.failed":  {"%d không đạt", "%d failed"},
	"analytics.checks.not_run": {"%d chưa chạy", "%d not run"},

	"analytics.check.min_rows":         {"Có ít nhất %g dòng", "At least %g rows"},
	"analytics.check.max_null_rate":    {"Tỉ lệ giá trị trống không quá %g", "Empty values at most %g of the rows"},
	"analytics.check.max_invalid_rate": {"Tỉ lệ dòng không hợp lệ không quá %g", "Invalid rows at most %g of the rows"},
	"analytics.check.max_age_hours":    {"Cập nhật trong vòng %g giờ", "Refreshed within %g hours"},

	"analytics.refresh.continuous": {"Liên tục, khi có thay đổi", "Continuously, as changes commit"},
	"analytics.refresh.daily":      {"Hằng ngày", "Daily"},
	"analytics.refresh.weekly":     {"Hằng tuần", "Weekly"},
	"analytics.refresh.monthly":    {"Hằng tháng", "Monthly"},
	"analytics.refresh.yearly":     {"Hằng năm", "Yearly"},
	"analytics.refresh.on_demand":  {"Khi cần", "On demand"},

	"analytics.new.title":  {"Đăng ký bộ dữ liệu", "Register a dataset"},
	"analytics.new.lead":   {"Đăng ký một bộ dữ liệu đơn vị giữ ngoài hệ thống, để các đơn vị khác biết và sử dụng đúng quy định.", "Register a dataset your unit holds outside Chancery, so that other units know of it and use it as allowed."},
	"analytics.new.submit": {"Đăng ký", "Register"},

	"analytics.field.name":                 {"Bộ dữ liệu", "Dataset"},
	"analytics.field.code":                 {"Mã bộ dữ liệu", "Code"},
	"analytics.field.code.hint":            {"Chữ thường, số, dấu chấm, gạch dưới hoặc gạch ngang, ví dụ lanh-su.thi-thuc.", "Lower-case letters, digits, '.', '_' or '-', such as consular.visas."},
	"analytics.field.name_vi":              {"Tên tiếng Việt", "Name in Vietnamese"},
	"analytics.field.name_en":              {"Tên tiếng Anh", "Name in English"},
	"analytics.field.description":          {"Mô tả", "Description"},
	"analytics.field.owner_unit":           {"Đơn vị chủ quản", "Owner unit"},
	"analytics.field.choose_unit":          {"Chọn đơn vị", "Choose a unit"},
	"analytics.field.classification":       {"Độ mật", "Classification"},
	"analytics.field.personal_data":        {"Có dữ liệu cá nhân", "Holds personal data"},
	"analytics.field.source_system":        {"Hệ thống nguồn", "Source system"},
	"analytics.field.refresh":              {"Tần suất cập nhật", "Refresh"},
	"analytics.field.users":                {"Đối tượng được sử dụng", "Who may use it"},
	"analytics.field.freshness_hours":      {"Kiểm tra độ mới (giờ)", "Freshness check (hours)"},
	"analytics.field.freshness_hours.hint": {"Báo lỗi khi dữ liệu không được cập nhật sau số giờ này; để trống nếu không kiểm tra.", "Fails when the data was not refreshed within this many hours; leave empty for no check."},

	"analytics.invalid.code":            {"Mã không hợp lệ.", "Invalid code."},
	"analytics.invalid.name_vi":         {"Tên tiếng Việt không hợp lệ.", "Invalid Vietnamese name."},
	"analytics.invalid.name_en":         {"Tên tiếng Anh không hợp lệ.", "Invalid English name."},
	"analytics.invalid.source_system":   {"Hệ thống nguồn không hợp lệ.", "Invalid source system."},
	"analytics.invalid.owner_unit":      {"Hãy chọn đơn vị chủ quản.", "Choose the owner unit."},
	"analytics.invalid.classification":  {"Độ mật không hợp lệ.", "Invalid classification."},
	"analytics.invalid.freshness_hours": {"Số giờ không hợp lệ.", "Invalid number of hours."},
	"analytics.error.conflict":          {"Mã bộ dữ liệu này đã có trong danh mục.", "A dataset with this code is in the catalogue already."},
	"analytics.error.forbidden":         {"Bạn không được đăng ký bộ dữ liệu cho đơn vị này.", "You may not register datasets for this unit."},

	"analytics.flash.registered": {"Đã đăng ký bộ dữ liệu.", "The dataset is registered."},
	"analytics.flash.checked":    {"Đã chạy kiểm tra chất lượng.", "The quality checks have run."},
	"analytics.flash.refreshed":  {"Đã ghi nhận lần cập nhật.", "The refresh is recorded."},
}
