# Every inter-agency data flow passes through an exchange platform
# (Decree 47/2020/NĐ-CP: agencies share data through the national data
# exchange platform or a ministry's integration platform, LGSP).
# A flow, access or trigger between the ministry's own element and another
# agency's (reference content) must have an exchange platform at one end:
# an element whose property "exchange" is "true".
# Each finding's "message" is in English, its "message_vi" in Vietnamese.
package chancery.rules.exchange_flows

exchange(id) if input.elements[id].props.exchange == "true"

findings contains f if {
	some r in input.relationships
	r.type in {"Flow", "Access", "Triggering"}
	s := input.elements[r.source]
	t := input.elements[r.target]
	{s.origin, t.origin} == {"model", "reference"}
	not exchange(r.source)
	not exchange(r.target)
	own := [x | some x in [r.source, r.target]; input.elements[x].origin == "model"][0]
	f := {
		"element": own,
		"message": sprintf("%s %s → %s crosses to another agency without an exchange platform (NDXP or the ministry's LGSP)", [r.type, s.name_en, t.name_en]),
		"message_vi": sprintf("Quan hệ %s %s → %s sang cơ quan khác mà không qua nền tảng tích hợp, chia sẻ dữ liệu (NDXP hoặc LGSP của Bộ)", [r.type, s.name, t.name]),
	}
}
