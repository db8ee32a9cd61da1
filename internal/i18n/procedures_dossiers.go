package i18n

// Administrative procedures: channels and the e-mail notices sent to
// applicants as their dossiers move.
func init() {
	add(map[string]Text{
		"procedures.channel.1": {"Trực tiếp", "In person"},
		"procedures.channel.2": {"Trực tuyến", "Online"},
		"procedures.channel.3": {"Qua bưu chính công ích", "By post"},

		"procedures.notice.subject":           {"Hồ sơ %s", "Dossier %s"},
		"procedures.notice.status_label":      {"Trạng thái", "Status"},
		"procedures.notice.appointment_label": {"Ngày hẹn trả kết quả", "Appointment for the result"},
		"procedures.notice.reason_label":      {"Lý do", "Reason"},
		"procedures.notice.status":            {"Hồ sơ %s đã thay đổi trạng thái.", "Dossier %s has a new status."},
		"procedures.notice.submit":            {"Hồ sơ %s đã được nộp thành công. Cơ quan sẽ kiểm tra và tiếp nhận hồ sơ.", "Dossier %s was submitted. The unit will check and receive it."},
		"procedures.notice.receive":           {"Hồ sơ %s đã được tiếp nhận; thời hạn giải quyết bắt đầu được tính.", "Dossier %s was received; the time limit now runs."},
		"procedures.notice.refuse_intake":     {"Hồ sơ %s không được tiếp nhận.", "Dossier %s was not accepted."},
		"procedures.notice.request_documents": {"Hồ sơ %s cần bổ sung giấy tờ. Thời gian bổ sung không tính vào thời hạn giải quyết.", "Dossier %s needs more documents. The time you take is not counted against the time limit."},
		"procedures.notice.request_payment":   {"Hồ sơ %s cần thực hiện nghĩa vụ tài chính.", "Dossier %s awaits payment of a fee."},
		"procedures.notice.stop":              {"Hồ sơ %s đã dừng xử lý.", "Processing of dossier %s has stopped."},
		"procedures.notice.approve":           {"Hồ sơ %s đã có kết quả. Kết quả điện tử đã được ký số.", "Dossier %s is decided. The electronic result is signed."},
		"procedures.notice.refuse":            {"Hồ sơ %s đã được giải quyết: không chấp thuận.", "Dossier %s was decided: refused."},
		"procedures.notice.return_result":     {"Kết quả hồ sơ %s đã được trả. Mời bạn đánh giá mức độ hài lòng.", "The result of dossier %s was returned. Please rate the service."},
		"procedures.notice.apologise":         {"Chúng tôi xin lỗi vì hồ sơ %s bị chậm so với thời hạn. Ngày hẹn trả kết quả mới được ghi dưới đây.", "We apologise that dossier %s is late. The new appointment is below."},
	})
}
