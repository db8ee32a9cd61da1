package i18n

// Administrative procedures: why an attachment was refused. Each message
// names the file (the first argument) and is followed by
// procedures.upload.allowed.
func init() {
	add(map[string]Text{
		"procedures.upload.allowed":   {"Chỉ chấp nhận tệp PDF, JPEG hoặc PNG, dung lượng tối đa %d MiB.", "Only PDF, JPEG or PNG files up to %d MiB are accepted."},
		"procedures.upload.empty":     {"Tệp “%s” không có nội dung.", "The file “%s” is empty."},
		"procedures.upload.too_large": {"Tệp “%s” lớn hơn %d MiB.", "The file “%s” is larger than %d MiB."},
		"procedures.upload.type": {"Nội dung tệp “%s” không phải là PDF, JPEG hay PNG, dù tên tệp có thể nói khác.",
			"The content of the file “%s” is not a PDF, JPEG or PNG, whatever its name says."},
		"procedures.upload.truncated": {"Tệp “%s” có vẻ bị cắt cụt hoặc hỏng: không thấy phần kết thúc của một tệp %s. Hãy lưu hoặc quét lại tệp rồi tải lên.",
			"The file “%s” seems cut short or damaged: it does not end as a %s file does. Save or scan it again and upload it."},
		"procedures.upload.extension": {"Tệp “%s” là tệp %s nhưng tên tệp có phần mở rộng “%s”. Hãy đổi tên cho đúng rồi tải lên lại.",
			"The file “%s” is a %s file but its name ends in “%s”. Rename it correctly and upload it again."},
		"procedures.upload.declared_type": {"Tệp “%s” được gửi dưới dạng %s nhưng nội dung là %s.",
			"The file “%s” was sent as %s but its content is %s."},
	})
}
