package compliance

import (
	"maps"

	"chancery/internal/i18n"
)

// Texts returns this package's user-facing strings; each call returns a
// copy.
func Texts() i18n.Texts { return maps.Clone(texts) }

var texts = i18n.Texts{
	"compliance.nav":            {"Tuân thủ an toàn thông tin", "Compliance"},
	"compliance.title":          {"Kiểm tra tuân thủ an toàn thông tin", "Security compliance checks"},
	"compliance.lead":           {"Các kiểm tra được chạy trực tiếp lúc %s; mỗi phát hiện dẫn tới bằng chứng (trang cán bộ, sự kiện nhật ký).", "Checks run live at %s; each finding links to its evidence (the staff page, the audit event)."},
	"compliance.failed":         {"%d kiểm tra có phát hiện", "%d checks with findings"},
	"compliance.at":             {"Lần gần nhất: %s", "Last: %s"},
	"compliance.subject":        {"Đối tượng", "Subject"},
	"compliance.finding":        {"Phát hiện", "Finding"},
	"compliance.evidence":       {"Bằng chứng", "Evidence"},
	"compliance.open_evidence":  {"Bằng chứng về %s", "Evidence on %s"},
	"compliance.verify":         {"Kiểm tra toàn vẹn nhật ký ngay", "Verify the ledger now"},
	"compliance.flash.verified": {"Đã kiểm tra toàn vẹn nhật ký: không phát hiện sai lệch.", "The ledger was verified: nothing was tampered with."},
	"compliance.flash.failed":   {"Kiểm tra toàn vẹn nhật ký phát hiện vấn đề; xem phát hiện bên dưới.", "Verifying the ledger found a problem; see the finding below."},

	"compliance.status.pass":      {"Đạt", "Pass"},
	"compliance.status.fail":      {"Có phát hiện", "Findings"},
	"compliance.status.no_record": {"Không có hồ sơ", "No record"},

	"compliance.check.mfa":          {"Xác thực hai yếu tố của cán bộ được cấp độ mật", "Second factor of cleared staff"},
	"compliance.check.signing_key":  {"Tuổi khóa ký", "Signing key age"},
	"compliance.check.checkpoint":   {"Điểm kiểm tra nhật ký và chứng thực", "Ledger checkpoint and witnesses"},
	"compliance.check.verification": {"Lần kiểm tra toàn vẹn nhật ký gần nhất", "Last verification of the ledger"},
	"compliance.check.two_person":   {"Cấp độ mật không qua hai người", "Clearances granted without two people"},
	"compliance.check.dormant":      {"Tài khoản đặc quyền không hoạt động", "Dormant privileged accounts"},
	"compliance.check.backups":      {"Sao lưu", "Backups"},

	"compliance.about.mfa":          {"Cán bộ có độ mật, quản trị viên, cán bộ an ninh và kiểm toán viên phải đăng nhập bằng yếu tố thứ hai.", "Cleared staff, administrators, security officers and auditors must sign in with a second factor."},
	"compliance.about.signing_key":  {"Khóa ký các điểm kiểm tra của nhật ký cần được thay định kỳ.", "The key that signs the ledger's checkpoints is rotated periodically."},
	"compliance.about.checkpoint":   {"Điểm kiểm tra đã ký gần nhất của nhật ký và số chữ ký chứng thực của bên chứng kiến.", "The ledger's latest signed checkpoint and how many witnesses cosigned it."},
	"compliance.about.verification": {"Kiểm tra lại toàn bộ nhật ký từ dữ liệu lưu trữ (băm lại từng sự kiện, cây và các điểm kiểm tra).", "Recomputing the whole ledger from storage (every event, the tree, the checkpoints)."},
	"compliance.about.two_person":   {"Mỗi độ mật phải do quản trị viên đề xuất và cán bộ an ninh phê duyệt.", "Each clearance must be proposed by an administrator and approved by a security officer."},
	"compliance.about.dormant":      {"Tài khoản đặc quyền không đăng nhập trong 90 ngày cần được rà soát hoặc khóa.", "Privileged accounts that have not signed in for 90 days are reviewed or disabled."},
	"compliance.about.backups":      {"Chancery không lưu hồ sơ sao lưu: việc sao lưu cơ sở dữ liệu, kho tệp và khóa chủ được thực hiện và kiểm tra bên ngoài hệ thống.", "Chancery keeps no record of backups: the database, the blob store and the master key are backed up and checked outside it."},
}
