package forecast

import "chancery/internal/i18n"

// Texts returns the forecast page's user-facing strings.
func Texts() i18n.Texts { return texts }

var texts = i18n.Texts{
	"forecast.nav":             {"Dự báo", "Forecast"},
	"forecast.title":           {"Dự báo nhu cầu và khối lượng công việc", "Demand and workload forecast"},
	"forecast.lead":            {"Số hồ sơ mỗi tuần theo đơn vị và thủ tục, dự báo %d tuần tới với khoảng dự báo, sai số kiểm định lại và giờ làm việc của cán bộ.", "Dossiers a week per unit and procedure, forecast for the next %d weeks with prediction intervals, the backtest error and the staff hours it means."},
	"forecast.units":           {"Đơn vị", "Units"},
	"forecast.none":            {"Chưa có đơn vị nào của anh/chị có dữ liệu để dự báo.", "None of the units you may see has data to forecast from."},
	"forecast.nodata":          {"Đơn vị này chưa có hồ sơ để dự báo.", "This unit has no dossiers to forecast from."},
	"forecast.method":          {"Mô hình: san bằng mũ với xu hướng tắt dần, mùa vụ theo năm, các tuần trước và sau Tết (theo âm lịch) và ngày nghỉ của đơn vị; khoảng dự báo từ sai số một bước trong mẫu. Chuẩn so sánh: lặp lại tuần cùng kỳ năm trước.", "Model: exponential smoothing with a damped trend, an annual season, the weeks before and after Tết (by the lunar calendar) and the unit's closed days; intervals from the in-sample one-step errors. Baseline: the same week a year before."},
	"forecast.short":           {"Lịch sử mới có %d tuần; cần ít nhất %d tuần (hai năm) để dự báo có mùa vụ.", "Only %d weeks of history; a seasonal forecast needs at least %d (two years)."},
	"forecast.chart.title":     {"Nhu cầu hằng tuần: %s", "Weekly demand: %s"},
	"forecast.chart.desc":      {"%d tuần lịch sử từ %s và dự báo %d tuần tới.", "%d weeks of history from %s and a forecast of the next %d weeks."},
	"forecast.chart.next":      {"Tuần %s: dự báo %s hồ sơ (80 %%: %s–%s).", "Week of %s: %s dossiers forecast (80 %%: %s–%s)."},
	"forecast.chart.tet":       {"Tuần Tết Nguyên Đán (%s)", "Tết week (%s)"},
	"forecast.legend.history":  {"Lịch sử", "History"},
	"forecast.legend.forecast": {"Dự báo", "Forecast"},
	"forecast.legend.80":       {"Khoảng 80 %", "Interval, 80 %"},
	"forecast.legend.95":       {"Khoảng 95 %", "Interval, 95 %"},
	"forecast.legend.tet":      {"Tuần Tết", "Tết week"},
	"forecast.legend.holiday":  {"Tuần có ngày nghỉ", "Week with closed days"},
	"forecast.backtest":        {"Kiểm định lại trên %d tuần gần nhất", "Backtest on the last %d weeks"},
	"forecast.nobacktest":      {"Chưa đủ lịch sử để giữ lại %d tuần kiểm định.", "Not enough history to hold out %d weeks."},
	"forecast.mase":            {"MASE của mô hình", "Model's MASE"},
	"forecast.baseline":        {"MASE của chuẩn (cùng kỳ năm trước)", "Baseline's MASE (same week last year)"},
	"forecast.cov80":           {"Tuần nằm trong khoảng 80 %", "Weeks inside the interval of 80 %"},
	"forecast.cov95":           {"Tuần nằm trong khoảng 95 %", "Weeks inside the interval of 95 %"},
	"forecast.better":          {"Mô hình sai ít hơn chuẩn so sánh.", "The model errs less than the baseline."},
	"forecast.worse":           {"Mô hình không tốt hơn chuẩn so sánh trên chuỗi này.", "The model does no better than the baseline on this series."},
	"forecast.workload":        {"Khối lượng công việc dự kiến", "Expected workload"},
	"forecast.minutes":         {"Giả định: mỗi hồ sơ cần %s phút làm việc của cán bộ (15 phút mỗi bước tiếp nhận/trả kết quả, 45 phút mỗi bước thẩm định, 10 phút mỗi bước phê duyệt theo quy trình của thủ tục).", "Assumed: each dossier takes %s minutes of staff time (15 minutes per intake or hand-over step, 45 per appraisal step, 10 per decision step of the procedure's steps)."},
	"forecast.week":            {"Tuần bắt đầu", "Week of"},
	"forecast.dossiers":        {"Hồ sơ (dự báo)", "Dossiers (forecast)"},
	"forecast.range80":         {"Khoảng 80 %", "Interval, 80 %"},
	"forecast.hours":           {"Giờ làm việc", "Staff hours"},
	"forecast.hours80":         {"Giờ (khoảng 80 %)", "Hours (interval of 80 %)"},
	"forecast.holidayweek":     {"nghỉ lễ", "holiday"},
}
