# Every component maps to a category of one of the national framework's
# reference models (BRM, DRM, ARM, TRM, SRM; framework v4.0, Decision
# 292/QĐ-BKHCN), so that the ministry's architecture can be read against it.
# Each finding's "message" is in English, its "message_vi" in Vietnamese.
package chancery.rules.reference_category

kinds := {"ApplicationComponent", "ApplicationService", "DataObject", "Node", "SystemSoftware", "TechnologyService"}

findings contains f if {
	some id, e in input.elements
	e.origin == "model"
	e.type in kinds
	count(object.keys(e.framework)) == 0
	f := {
		"element": id,
		"message": sprintf("%s (%s) maps to no reference-model category", [e.name_en, e.type]),
		"message_vi": sprintf("%s (%s) chưa gắn với danh mục nào của các mô hình tham chiếu", [e.name, e.type]),
	}
}
