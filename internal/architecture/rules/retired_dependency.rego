# Nothing in production depends on a retired component: an element in its
# run phase must not be served by, nor take data from, one in its retire
# phase.
# Each finding's "message" is in English, its "message_vi" in Vietnamese.
package chancery.rules.retired_dependency

findings contains f if {
	some r in input.relationships
	r.type in {"Serving", "Flow"}
	input.elements[r.source].phase == "retire"
	input.elements[r.target].phase == "run"
	f := {
		"element": r.target,
		"message": sprintf("%s runs on %s, which was retired", [input.elements[r.target].name_en, input.elements[r.source].name_en]),
		"message_vi": sprintf("%s đang vận hành dựa vào %s, thành phần đã ngừng sử dụng", [input.elements[r.target].name, input.elements[r.source].name]),
	}
}
