package i18n

// Administrative procedures: form validation messages, the national
// dossier statuses, lifecycle actions and roles, and the catalogue's
// enumerations.
func init() {
	add(map[string]Text{
		"procedures.form.not_json":     {"Biểu mẫu gửi lên không phải là một đối tượng JSON hợp lệ.", "The submitted form is not a valid JSON object."},
		"procedures.form.required":     {"Trường này bắt buộc phải nhập.", "This field is required."},
		"procedures.form.unknown":      {"Trường này không có trong biểu mẫu.", "This field is not part of the form."},
		"procedures.form.type_object":  {"Phải là một nhóm trường.", "Must be a group of fields."},
		"procedures.form.type_string":  {"Phải là văn bản.", "Must be text."},
		"procedures.form.type_integer": {"Phải là số nguyên.", "Must be a whole number."},
		"procedures.form.type_number":  {"Phải là một số.", "Must be a number."},
		"procedures.form.type_boolean": {"Phải là có hoặc không.", "Must be yes or no."},
		"procedures.form.enum":         {"Hãy chọn một giá trị trong danh sách.", "Choose one of the listed values."},
		"procedures.form.must_tick":    {"Bạn cần đánh dấu ô này để tiếp tục.", "Tick this box to go on."},
		"procedures.form.control":      {"Không được chứa ký tự điều khiển.", "Must not contain control characters."},
		"procedures.form.min_length":   {"Phải có ít nhất %d ký tự.", "Must be at least %d characters."},
		"procedures.form.max_length":   {"Không được dài quá %d ký tự.", "Must be at most %d characters."},
		"procedures.form.pattern":      {"Không đúng định dạng yêu cầu.", "Is not in the required format."},
		"procedures.form.date":         {"Phải là ngày hợp lệ, viết theo dạng NNNN-TT-NN.", "Must be a real date written YYYY-MM-DD."},
		"procedures.form.email":        {"Phải là địa chỉ thư điện tử hợp lệ, ví dụ ten@example.com.", "Must be a valid e-mail address such as name@example.com."},
		"procedures.form.minimum":      {"Không được nhỏ hơn %s.", "Must be at least %s."},
		"procedures.form.maximum":      {"Không được lớn hơn %s.", "Must be at most %s."},

		// The national dossier statuses, worded as the National Public
		// Service Portal lists them.
		"procedures.status.1":  {"Mới đăng ký", "Newly registered"},
		"procedures.status.2":  {"Đã tiếp nhận", "Received"},
		"procedures.status.3":  {"Không được tiếp nhận", "Refused at intake"},
		"procedures.status.4":  {"Đang xử lý", "Processing"},
		"procedures.status.5":  {"Yêu cầu bổ sung giấy tờ", "Additional documents requested"},
		"procedures.status.6":  {"Yêu cầu thực hiện nghĩa vụ tài chính", "Financial obligation requested"},
		"procedures.status.7":  {"Công dân yêu cầu rút hồ sơ", "Withdrawal requested"},
		"procedures.status.8":  {"Dừng xử lý", "Processing stopped"},
		"procedures.status.9":  {"Đã xử lý xong", "Completed"},
		"procedures.status.10": {"Đã trả kết quả", "Result returned"},

		"procedures.action.receive":            {"Tiếp nhận hồ sơ", "Receive"},
		"procedures.action.refuse_intake":      {"Từ chối tiếp nhận", "Refuse at intake"},
		"procedures.action.assign":             {"Phân công xử lý", "Assign"},
		"procedures.action.request_documents":  {"Yêu cầu bổ sung giấy tờ", "Request documents"},
		"procedures.action.supplement":         {"Nộp bổ sung giấy tờ", "Supplement"},
		"procedures.action.request_payment":    {"Yêu cầu thực hiện nghĩa vụ tài chính", "Request payment"},
		"procedures.action.pay":                {"Thanh toán", "Pay"},
		"procedures.action.request_withdrawal": {"Yêu cầu rút hồ sơ", "Request withdrawal"},
		"procedures.action.stop":               {"Dừng xử lý", "Stop processing"},
		"procedures.action.appraise":           {"Thẩm định", "Appraise"},
		"procedures.action.approve":            {"Phê duyệt", "Approve"},
		"procedures.action.refuse":             {"Từ chối giải quyết", "Refuse"},
		"procedures.action.return_result":      {"Trả kết quả", "Return the result"},

		"procedures.role.clerk":     {"Cán bộ tiếp nhận", "Clerk"},
		"procedures.role.officer":   {"Chuyên viên xử lý", "Officer"},
		"procedures.role.approver":  {"Lãnh đạo phê duyệt", "Approver"},
		"procedures.role.applicant": {"Người nộp hồ sơ", "Applicant"},
		"procedures.role.system":    {"Hệ thống", "System"},

		"procedures.outcome.granted": {"Giải quyết", "Granted"},
		"procedures.outcome.refused": {"Từ chối giải quyết", "Refused"},

		"procedures.online.full":    {"Dịch vụ công trực tuyến toàn trình", "Fully online"},
		"procedures.online.partial": {"Dịch vụ công trực tuyến một phần", "Partly online"},

		"procedures.result.legalization_stamp":  {"Con dấu hợp pháp hóa lãnh sự", "Legalization stamp"},
		"procedures.result.certification_stamp": {"Con dấu chứng nhận lãnh sự", "Certification stamp"},
		"procedures.result.passport":            {"Hộ chiếu", "Passport"},
		"procedures.result.visa":                {"Thị thực", "Visa"},
		"procedures.result.certificate":         {"Giấy chứng nhận", "Certificate"},
		"procedures.result.written_response":    {"Văn bản trả lời", "Written response"},

		"procedures.where.home":    {"Tại các đơn vị trong nước", "At units in Viet Nam"},
		"procedures.where.mission": {"Tại cơ quan đại diện ở nước ngoài", "At missions abroad"},
		"procedures.fee.local_currency": {"Có thể nộp bằng tiền nước sở tại theo tỷ giá cơ quan đại diện áp dụng.",
			"May be paid in the local currency at the rate the mission applies."},
		"procedures.assumption": {"Giá trị giả định, chưa đối chiếu với văn bản đang có hiệu lực", "Assumed value, not yet checked against the regulation in force"},
	})
}
