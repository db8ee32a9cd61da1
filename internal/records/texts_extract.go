package records

import "chancery/internal/i18n"

// extractTexts are the words of a document's text extraction, as the
// records office reads them on the document (View.Extraction): its state
// and, for a failure, its reason (ExtractError's codes).
var extractTexts = i18n.Texts{
	"records.extract.title":               {"Đọc nội dung tệp để tìm kiếm", "Reading the file's text for search"},
	"records.extract.state.pending":       {"Đang chờ đọc nội dung; văn bản vẫn tìm được theo thông tin mô tả", "Waiting to be read; the document is found by its metadata meanwhile"},
	"records.extract.state.running":       {"Đang đọc nội dung", "Being read"},
	"records.extract.state.done":          {"Đã đọc nội dung, tìm được theo nội dung tệp", "Read: the file's words are searchable"},
	"records.extract.state.failed":        {"Không đọc được nội dung tệp; văn bản chỉ tìm được theo thông tin mô tả", "The file's text could not be read; the document is found by its metadata only"},
	"records.extract.source.pdftotext":    {"Lớp chữ của tệp PDF", "The PDF's text layer"},
	"records.extract.source.ocr":          {"Nhận dạng ký tự (OCR) bản quét", "Optical character recognition (OCR) of the scan"},
	"records.extract.source.office":       {"Tệp văn phòng (DOCX, ODT)", "Office file (DOCX, ODT)"},
	"records.extract.source.plain":        {"Tệp văn bản thuần", "Plain-text file"},
	"records.extract.reason.unsupported":  {"Loại tệp này không đọc được nội dung; hãy đính kèm bản PDF, bản quét hoặc nhập nội dung", "Text cannot be read from this kind of file; attach a PDF or a scan, or enter the text"},
	"records.extract.reason.corrupt":      {"Tệp bị hỏng, được mã hóa hoặc không đúng định dạng", "The file is damaged, encrypted or not what its type says"},
	"records.extract.reason.too_large":    {"Tệp vượt giới hạn đọc (số trang, kích thước ảnh hoặc dung lượng giải nén)", "The file is beyond the limits of reading (pages, image size or unpacked size)"},
	"records.extract.reason.tool_missing": {"Máy chủ thiếu công cụ đọc (poppler-utils, tesseract-ocr, tesseract-ocr-vie); báo quản trị hệ thống", "The server lacks a reading tool (poppler-utils, tesseract-ocr, tesseract-ocr-vie); tell the administrator"},
	"records.extract.reason.timeout":      {"Đọc tệp quá thời gian cho phép; sẽ thử lại", "Reading the file took too long; it will be tried again"},
	"records.extract.reason.tool_failed":  {"Công cụ đọc gặp lỗi; sẽ thử lại", "The reading tool failed; it will be tried again"},
}
