package audit

import (
	"maps"

	"chancery/internal/i18n"
)

// Texts returns this package's user-facing strings, for the catalogue
// built at wiring (i18n.New); the table is never changed, so each call
// returns a copy.
func Texts() i18n.Texts { return maps.Clone(texts) }

// The audit ledger: search, event proofs, checkpoints, exports.
var texts = i18n.Texts{
	"nav.audit": {"Nhật ký kiểm toán", "Audit log"},

	"audit.title": {"Nhật ký kiểm toán", "Audit log"},
	"audit.lead": {"Mọi lần truy cập và thay đổi được ghi vào sổ cái chống sửa đổi: cây Merkle có điểm kiểm tra được ký số.",
		"Every access and change is recorded in a tamper-evident ledger: a Merkle tree with signed checkpoints."},
	"audit.subnav":              {"Các trang nhật ký kiểm toán", "Audit log pages"},
	"audit.search":              {"Tìm sự kiện", "Search events"},
	"audit.search.submit":       {"Tìm", "Search"},
	"audit.search.clear":        {"Bỏ lọc", "Clear"},
	"audit.results":             {"Kết quả", "Results"},
	"audit.next":                {"Trang tiếp theo →", "Next page →"},
	"audit.none_found":          {"Không có sự kiện nào phù hợp.", "No events match."},
	"audit.any":                 {"Tất cả", "Any"},
	"audit.field.actor_kind":    {"Loại chủ thể", "Actor kind"},
	"audit.field.actor":         {"Mã chủ thể", "Actor id"},
	"audit.field.actor.hint":    {"Mã số cán bộ, công dân hoặc tên thành phần hệ thống.", "A staff or citizen id, or a system component's name."},
	"audit.field.unit":          {"Mã đơn vị", "Unit id"},
	"audit.field.action":        {"Hành động", "Action"},
	"audit.field.action.hint":   {"Ví dụ: login, record.read, audit.export.", "For example login, record.read, audit.export."},
	"audit.field.resource_type": {"Loại đối tượng", "Resource type"},
	"audit.field.resource_id":   {"Mã đối tượng", "Resource id"},
	"audit.field.outcome":       {"Kết quả", "Outcome"},
	"audit.field.from":          {"Từ ngày", "From"},
	"audit.field.to":            {"Đến ngày", "To"},
	"audit.field.to.hint":       {"Tính cả ngày này (giờ Việt Nam).", "This day included (Viet Nam time)."},
	"audit.field.from_seq":      {"Từ sự kiện số", "From event number"},
	"audit.field.from_seq.hint": {"Để trống: từ sự kiện đầu tiên.", "Empty: from the first event."},
	"audit.field.to_seq":        {"Đến sự kiện số", "To event number"},
	"audit.field.to_seq.hint":   {"Tính cả sự kiện này. Để trống: đến sự kiện cuối cùng đã có điểm kiểm tra.", "This event included. Empty: up to the last event a checkpoint covers."},

	"audit.invalid.actor_kind":    {"Hãy chọn một loại chủ thể trong danh sách.", "Choose an actor kind from the list."},
	"audit.invalid.actor":         {"Mã chủ thể không hợp lệ.", "The actor id is not valid."},
	"audit.invalid.unit":          {"Mã đơn vị phải là số nguyên dương.", "The unit id must be a positive whole number."},
	"audit.invalid.action":        {"Hành động chỉ gồm chữ thường không dấu, chữ số và các dấu . _ -", "An action is lower-case ASCII letters, digits and . _ -"},
	"audit.invalid.resource_type": {"Loại đối tượng chỉ gồm chữ thường không dấu, chữ số và các dấu . _ -", "A resource type is lower-case ASCII letters, digits and . _ -"},
	"audit.invalid.resource_id":   {"Mã đối tượng không hợp lệ.", "The resource id is not valid."},
	"audit.invalid.outcome":       {"Hãy chọn một kết quả trong danh sách.", "Choose an outcome from the list."},
	"audit.invalid.from":          {"Ngày bắt đầu phải có dạng NNNN-TT-NN.", "The start must be a date written YYYY-MM-DD."},
	"audit.invalid.to":            {"Ngày kết thúc phải có dạng NNNN-TT-NN và không trước ngày bắt đầu.", "The end must be a date written YYYY-MM-DD, not before the start."},
	"audit.invalid.after":         {"Liên kết trang không hợp lệ; hãy tìm lại từ đầu.", "The page link is not valid; search again."},
	"audit.invalid.limit":         {"Số kết quả mỗi trang phải là số nguyên dương.", "The page size must be a positive whole number."},
	"audit.invalid.from_seq":      {"Số thứ tự sự kiện bắt đầu không có trong sổ cái.", "The first event number is not in the ledger."},
	"audit.invalid.to_seq":        {"Số thứ tự sự kiện kết thúc không có trong sổ cái hoặc nhỏ hơn số bắt đầu.", "The last event number is not in the ledger, or is before the first."},

	"audit.col.seq":      {"Số thứ tự", "Seq"},
	"audit.col.time":     {"Thời gian", "Time"},
	"audit.col.actor":    {"Chủ thể", "Actor"},
	"audit.col.unit":     {"Đơn vị", "Unit"},
	"audit.col.action":   {"Hành động", "Action"},
	"audit.col.resource": {"Đối tượng", "Resource"},
	"audit.col.level":    {"Độ mật", "Classification"},
	"audit.col.outcome":  {"Kết quả", "Outcome"},

	"audit.actor.staff":   {"Cán bộ", "Staff"},
	"audit.actor.citizen": {"Công dân", "Citizen"},
	"audit.actor.system":  {"Hệ thống", "System"},
	"audit.actor.member":  {"Hệ thống thành viên", "Member system"},

	"audit.outcome.allowed": {"Cho phép", "Allowed"},
	"audit.outcome.denied":  {"Từ chối", "Denied"},
	"audit.outcome.ok":      {"Thành công", "Succeeded"},
	"audit.outcome.failed":  {"Thất bại", "Failed"},

	"audit.event.title":   {"Sự kiện kiểm toán", "Audit event"},
	"audit.event.heading": {"Sự kiện kiểm toán số %d", "Audit event %d"},
	"audit.reason":        {"Lý do", "Reason"},
	"audit.request_id":    {"Mã yêu cầu", "Request id"},
	"audit.attrs":         {"Thuộc tính", "Attributes"},
	"audit.attr.key":      {"Tên", "Name"},
	"audit.attr.value":    {"Giá trị", "Value"},

	"audit.proof":            {"Bằng chứng", "Proof"},
	"audit.verified":         {"Đã xác minh", "Verified"},
	"audit.verified.against": {"Đã đối chiếu với điểm kiểm tra có %d sự kiện, gốc", "against the checkpoint of size %d, root"},
	"audit.verify.failed":    {"Không xác minh được", "Does not verify"},
	"audit.verify.failed.explain": {"Dữ liệu sự kiện đang lưu không khớp với điểm kiểm tra đã ký. Bản ghi có thể đã bị sửa; hãy chạy “chancery audit verify” và báo cho cán bộ an ninh.",
		"The stored event does not match the signed checkpoint. The record may have been altered; run “chancery audit verify” and tell a security officer."},
	"audit.proof.explain": {"Máy chủ tính lại mã băm lá từ các trường của sự kiện, rồi dùng bằng chứng bao hàm để tính gốc cây và so với gốc trong điểm kiểm tra đã ký.",
		"The server recomputed the leaf hash from the event's fields, then the tree's root from the inclusion proof, and compared it with the root in the signed checkpoint."},
	"audit.leaf_hash":    {"Mã băm lá", "Leaf hash"},
	"audit.proof.hashes": {"Bằng chứng bao hàm", "Inclusion proof"},
	"audit.proof.empty":  {"Không cần mã băm nào: cây chỉ có sự kiện này.", "No hashes: the tree holds only this event."},

	"audit.checkpoint":        {"Điểm kiểm tra", "Checkpoint"},
	"audit.checkpoints.title": {"Điểm kiểm tra", "Checkpoints"},
	"audit.checkpoints.lead": {"Mỗi điểm kiểm tra là cam kết đã ký số về kích thước và gốc của cây; các nút chứng kiến lưu và ký xác nhận chúng, nên lịch sử không thể bị viết lại mà không bị phát hiện.",
		"Each checkpoint is a signed commitment to the tree's size and root; witnesses store and cosign them, so history cannot be rewritten unnoticed."},
	"audit.checkpoints.recent":      {"Điểm kiểm tra gần đây", "Recent checkpoints"},
	"audit.checkpoints.none":        {"Chưa có điểm kiểm tra nào.", "No checkpoint yet."},
	"audit.checkpoint.size":         {"Số sự kiện", "Size"},
	"audit.checkpoint.time":         {"Thời điểm ký", "Signed at"},
	"audit.checkpoint.root":         {"Gốc cây", "Root hash"},
	"audit.checkpoint.witnesses":    {"Nút chứng kiến", "Witnesses"},
	"audit.checkpoint.cosigned":     {"Đã ký xác nhận", "Cosigned"},
	"audit.checkpoint.not_cosigned": {"Chưa có chữ ký xác nhận", "Not cosigned"},
	"audit.origin":                  {"Tên sổ cái", "Origin"},
	"audit.verifier_key":            {"Khóa xác minh", "Verifier key"},

	"audit.export.title": {"Xuất nhật ký", "Export"},
	"audit.export.lead": {"Tải về một đoạn sự kiện dạng JSON Lines, mỗi sự kiện kèm bằng chứng bao hàm đối với cùng một điểm kiểm tra đã ký, để bên ngoài tự kiểm chứng.",
		"Download a range of events as JSON Lines, each with its inclusion proof against one signed checkpoint, for an outside verifier."},
	"audit.export.submit":  {"Tải về", "Download"},
	"audit.export.audited": {"Việc xuất nhật ký cũng được ghi vào nhật ký kiểm toán.", "The export itself is recorded in the audit log."},
}
