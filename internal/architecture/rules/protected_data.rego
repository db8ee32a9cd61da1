# Every component holding classified or personal data has encryption at
# rest, multi-factor sign-in and an audit trail (Law on Protection of State
# Secrets; Decree 13/2023/NĐ-CP on personal data; the SRM of the national
# framework). The element's property "data" says what it holds
# ("classified" or "personal"); "encryption-at-rest", "mfa" and "audit"
# say "true" when it has them.
# Each finding's "message" is in English, its "message_vi" in Vietnamese.
package chancery.rules.protected_data

components := {"ApplicationComponent", "Node", "SystemSoftware", "Device"}

controls := ["encryption-at-rest", "mfa", "audit"]

# The Vietnamese words of the messages.
data_vi := {"classified": "mật", "personal": "cá nhân"}

controls_vi := {"encryption-at-rest": "mã hóa khi lưu trữ", "mfa": "xác thực đa yếu tố", "audit": "nhật ký kiểm toán"}

findings contains f if {
	some id, e in input.elements
	e.origin == "model"
	e.type in components
	e.props.data in {"classified", "personal"}
	missing := [c | some c in controls; object.get(e.props, c, "") != "true"]
	count(missing) > 0
	f := {
		"element": id,
		"message": sprintf("%s holds %s data but lacks %s", [e.name_en, e.props.data, concat(", ", missing)]),
		"message_vi": sprintf("%s lưu dữ liệu %s nhưng thiếu %s", [e.name, data_vi[e.props.data], concat(", ", [controls_vi[c] | some c in missing])]),
	}
}
