package records

import (
	"maps"

	"chancery/internal/i18n"
)

// Texts returns this package's user-facing strings, for the catalogue
// built at wiring (i18n.New). Each part of the records keeps its own table
// beside its pages (the list below); a key two parts define is refused at
// wiring, like one two capabilities define.
func Texts() i18n.Texts {
	all := i18n.Texts{}
	for _, part := range []i18n.Texts{
		texts,
		archiveTexts,
		edxmlTexts,
		pagesTexts,
		extractTexts,
		suggestTexts,
		draftingTexts,
		caseFileTexts,
		classificationTexts,
	} {
		maps.Copy(all, part)
	}
	return all
}

// texts holds the strings every part of the records shows: the names of
// directions, urgencies and classification levels.
var texts = i18n.Texts{
	"records.nav": {"Văn bản", "Documents"},

	"records.direction.incoming": {"Văn bản đến", "Incoming"},
	"records.direction.outgoing": {"Văn bản đi", "Outgoing"},

	"records.urgency.normal":      {"Thường", "Normal"},
	"records.urgency.urgent":      {"Khẩn", "Urgent"},
	"records.urgency.very_urgent": {"Thượng khẩn", "Very urgent"},
	"records.urgency.flash":       {"Hỏa tốc", "Flash"},

	"records.level.none":         {"Không mật", "Unclassified"},
	"records.level.confidential": {"Mật", "Confidential"},
	"records.level.secret":       {"Tối mật", "Secret"},
	"records.level.top_secret":   {"Tuyệt mật", "Top secret"},
}
