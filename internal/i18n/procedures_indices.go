package i18n

// The service-quality indices of Decision 766/QĐ-TTg (procedures.Score):
// the groups as the Decision names them, this system's indicators, and
// the words a dashboard shows around them.
func init() {
	add(map[string]Text{
		"procedures.indices.title":            {"Chỉ số chất lượng phục vụ người dân (Quyết định 766/QĐ-TTg)", "Service quality indices (Decision 766/QĐ-TTg)"},
		"procedures.indices.total":            {"Tổng điểm", "Total score"},
		"procedures.indices.points":           {"Điểm", "Points"},
		"procedures.indices.weight":           {"Điểm tối đa", "Maximum points"},
		"procedures.indices.rate":             {"Tỷ lệ", "Rate"},
		"procedures.indices.no_data":          {"Chưa có dữ liệu", "No data"},
		"procedures.indices.coverage":         {"Tính trên các nhóm có dữ liệu (%s/100 điểm).", "Scored over the groups with data (%s of 100 points)."},
		"procedures.indices.trend":            {"Diễn biến theo tháng", "Monthly trend"},
		"procedures.indices.scope.ministry":   {"Toàn Bộ", "Whole ministry"},
		"procedures.indices.online_provision": {"Cung cấp dịch vụ trực tuyến", "Online provision"},

		// The six groups, worded as Decision 766/QĐ-TTg words them.
		"procedures.indices.group.transparency":   {"Công khai, minh bạch", "Publicity and transparency"},
		"procedures.indices.group.progress":       {"Tiến độ giải quyết", "Processing progress"},
		"procedures.indices.group.online_service": {"Dịch vụ công trực tuyến", "Online public services"},
		"procedures.indices.group.online_payment": {"Thanh toán trực tuyến", "Online payment"},
		"procedures.indices.group.satisfaction":   {"Mức độ hài lòng", "Satisfaction"},
		"procedures.indices.group.digitisation":   {"Số hóa hồ sơ", "Digitisation of dossiers"},

		"procedures.indices.indicator.synced":             {"Tỷ lệ hồ sơ được đồng bộ trạng thái lên Cổng Dịch vụ công quốc gia", "Dossiers whose status is published on the National Public Service Portal"},
		"procedures.indices.indicator.on_time":            {"Tỷ lệ hồ sơ giải quyết đúng hạn", "Dossiers decided on time"},
		"procedures.indices.indicator.online":             {"Tỷ lệ hồ sơ nộp trực tuyến", "Dossiers submitted online"},
		"procedures.indices.indicator.paid_online":        {"Tỷ lệ hồ sơ thanh toán phí, lệ phí trực tuyến", "Fees paid online"},
		"procedures.indices.indicator.satisfied":          {"Tỷ lệ người dân đánh giá hài lòng (4–5 sao)", "Applicants satisfied (4 or 5 stars)"},
		"procedures.indices.indicator.electronic_results": {"Tỷ lệ hồ sơ được cấp kết quả điện tử", "Results issued electronically"},
		"procedures.indices.indicator.digitised":          {"Tỷ lệ hồ sơ được số hóa", "Dossiers digitised"},
		"procedures.indices.indicator.reused":             {"Tỷ lệ hồ sơ khai thác, sử dụng lại dữ liệu đã số hóa", "Dossiers reusing digitised data"},

		// Figures shown beside the indices, without points.
		"procedures.indices.avg_processing_days": {"Thời gian giải quyết trung bình (ngày theo lịch)", "Average processing time (calendar days)"},
		"procedures.indices.avg_rating":          {"Điểm đánh giá trung bình (1–5)", "Average rating (1–5)"},
		"procedures.indices.submitted":           {"Hồ sơ nộp trong kỳ", "Dossiers submitted in the period"},
	})
}
