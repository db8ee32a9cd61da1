# No two applications serve the same capability without a recorded reason
# (Decision 4818/QĐ-BNG: shared components, "avoiding duplication"). Two
# or more of the ministry's applications in use that realise one capability
# are each a finding unless the element records a "duplication-reason".
# Each finding's "message" is in English, its "message_vi" in Vietnamese.
package chancery.rules.duplication

realizers[cap] contains id if {
	some r in input.relationships
	r.type == "Realization"
	input.elements[r.target].type == "Capability"
	e := input.elements[r.source]
	e.type == "ApplicationComponent"
	e.origin == "model"
	e.phase != "retire"
	cap := r.target
	id := r.source
}

findings contains f if {
	some cap, ids in realizers
	count(ids) > 1
	some id in ids
	not input.elements[id].props["duplication-reason"]
	others_vi := [input.elements[o].name | some o in ids; o != id]
	others_en := [input.elements[o].name_en | some o in ids; o != id]
	f := {
		"element": id,
		"message": sprintf("%s realises %s, as %s also does, and records no duplication-reason", [input.elements[id].name_en, input.elements[cap].name_en, concat(", ", others_en)]),
		"message_vi": sprintf("%s hiện thực hóa năng lực %s, %s cũng vậy, mà không ghi lý do trùng lặp (duplication-reason)", [input.elements[id].name, input.elements[cap].name, concat(", ", others_vi)]),
	}
}
