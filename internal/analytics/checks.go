package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"chancery/internal/authz"
	"chancery/internal/store"
)

// builtin is a dataset Chancery holds, with the validity rules its
// MaxInvalidRate checks name: SQL conditions on its table's rows, written
// here and never taken from input.
type builtin struct {
	Dataset
	rules map[string]string
}

// builtins are the datasets Chancery holds, registered at every start.
var builtins = []builtin{
	{Dataset: Dataset{Code: "chancery.dossiers", NameVI: "Hồ sơ thủ tục hành chính", NameEN: "Administrative procedure dossiers",
		Description:  "Hồ sơ công dân nộp trực tuyến, tại bộ phận một cửa hoặc qua bưu chính, với trạng thái, thời hạn và kết quả. / Citizens' dossiers submitted online, at one-stop counters or by post, with their status, deadline and result.",
		PersonalData: true, SourceSystem: "Chancery — procedures", Refresh: RefreshContinuous,
		Users: "Đơn vị giải quyết thủ tục; lãnh đạo Bộ (số liệu tổng hợp) / Units handling the procedures; the ministry's leadership (aggregates)",
		table: "dossiers", timeColumn: "submitted_us",
		Checks: []Check{{Name: "rows", Kind: MinRows, Threshold: 1}, {Name: "applicant_name", Kind: MaxNullRate, Column: "applicant_name", Threshold: 0},
			{Name: "deadline", Kind: MaxInvalidRate, Column: "deadline_before_submission", Threshold: 0}, {Name: "freshness", Kind: MaxAgeHours, Threshold: 24 * 7}}},
		rules: map[string]string{"deadline_before_submission": "due_us > 0 AND due_us < submitted_us"}},
	{Dataset: Dataset{Code: "chancery.documents", NameVI: "Văn bản đến và đi", NameEN: "Incoming and outgoing documents",
		Description:  "Sổ văn bản đến, văn bản đi và dự thảo của các đơn vị; mỗi văn bản mang độ mật riêng. / The units' registers of incoming and outgoing documents and drafts; each document carries its own classification.",
		SourceSystem: "Chancery — records", Refresh: RefreshContinuous,
		Users: "Văn thư, lãnh đạo đơn vị, theo phạm vi cần biết / Registry clerks and unit heads, on a need-to-know basis",
		table: "record_documents", timeColumn: "created_us",
		Checks: []Check{{Name: "rows", Kind: MinRows, Threshold: 1}, {Name: "subject", Kind: MaxNullRate, Column: "subject", Threshold: 0},
			{Name: "direction", Kind: MaxInvalidRate, Column: "unknown_direction", Threshold: 0}, {Name: "freshness", Kind: MaxAgeHours, Threshold: 24 * 7}}},
		rules: map[string]string{"unknown_direction": "direction NOT IN ('incoming', 'outgoing')"}},
	{Dataset: Dataset{Code: "chancery.exchange_messages", NameVI: "Thông điệp trao đổi dữ liệu", NameEN: "Data exchange messages",
		Description:  "Nhật ký thông điệp gửi và nhận qua nền tảng trao đổi dữ liệu (không gồm nội dung đã xoá theo thời hạn lưu). / The log of messages sent and received through the data exchange (bodies erased after their retention).",
		SourceSystem: "Chancery — exchange", Refresh: RefreshContinuous,
		Users: "Quản trị hệ thống, kiểm toán viên / System administrators, auditors",
		table: "exchange_log", timeColumn: "logged_us",
		Checks: []Check{{Name: "state", Kind: MaxInvalidRate, Column: "unknown_state", Threshold: 0}, {Name: "service", Kind: MaxNullRate, Column: "service", Threshold: 0}}},
		rules: map[string]string{"unknown_state": "state NOT IN ('pending', 'sent', 'delivered', 'refused', 'answered', 'failed', 'dead')"}},
	{Dataset: Dataset{Code: "chancery.alerts", NameVI: "Cảnh báo an ninh", NameEN: "Security alerts",
		Description:  "Cảnh báo của hệ thống giám sát an ninh và việc xử lý chúng. / Security monitoring's alerts and their triage.",
		PersonalData: true, SourceSystem: "Chancery — sentinel", Refresh: RefreshContinuous,
		Users: "Cán bộ an ninh, kiểm toán viên / Security officers, auditors",
		table: "sentinel_alerts", timeColumn: "created_us",
		Checks: []Check{{Name: "rule", Kind: MaxNullRate, Column: "rule", Threshold: 0}, {Name: "status", Kind: MaxInvalidRate, Column: "unknown_status", Threshold: 0}}},
		rules: map[string]string{"unknown_status": "status NOT IN ('new', 'investigating', 'closed_true_positive', 'closed_false_positive')"}},
	{Dataset: Dataset{Code: "chancery.tasks", NameVI: "Nhiệm vụ chỉ đạo", NameEN: "Leadership tasks",
		Description:  "Nhiệm vụ lãnh đạo giao cho các đơn vị và cơ quan đại diện, với tiến độ và kết quả. / Tasks the leadership assigns to units and missions, with their progress and completion.",
		SourceSystem: "Chancery — insight", Refresh: RefreshContinuous,
		Users: "Lãnh đạo Bộ, lãnh đạo đơn vị / The ministry's and the units' leadership",
		table: "insight_tasks", timeColumn: "created_us",
		Checks: []Check{{Name: "title", Kind: MaxNullRate, Column: "title", Threshold: 0}, {Name: "done", Kind: MaxInvalidRate, Column: "done_without_date", Threshold: 0}}},
		rules: map[string]string{"done_without_date": "status = 'done' AND done_us = 0"}},
	{Dataset: Dataset{Code: "chancery.report_submissions", NameVI: "Báo cáo định kỳ", NameEN: "Periodic report submissions",
		Description:  "Báo cáo các đơn vị và cơ quan đại diện nộp theo chế độ báo cáo (Nghị định 09/2019/NĐ-CP). / Reports units and missions submit under the reporting regime (Decree 09/2019/ND-CP).",
		SourceSystem: "Chancery — insight", Refresh: RefreshContinuous,
		Users: "Đơn vị tổng hợp, lãnh đạo Bộ / The collecting units, the ministry's leadership",
		table: "insight_submissions", timeColumn: "submitted_us",
		Checks: []Check{{Name: "decision", Kind: MaxInvalidRate, Column: "decided_without_date", Threshold: 0}, {Name: "freshness", Kind: MaxAgeHours, Threshold: 24 * 93}}},
		rules: map[string]string{"decided_without_date": "status IN ('approved', 'returned') AND decided_us = 0"}},
	{Dataset: Dataset{Code: "chancery.units", NameVI: "Danh mục đơn vị", NameEN: "Directory of units",
		Description:  "Các đơn vị của Bộ và cơ quan đại diện ở nước ngoài, với mã định danh điện tử, quốc gia và múi giờ. / The ministry's units and missions abroad, with their electronic agency codes, countries and time zones.",
		SourceSystem: "Chancery — identity", Refresh: RefreshOnDemand, Users: "Mọi cán bộ / All staff", table: "units",
		Checks: []Check{{Name: "rows", Kind: MinRows, Threshold: 1}, {Name: "country", Kind: MaxInvalidRate, Column: "bad_country", Threshold: 0}}},
		rules: map[string]string{"bad_country": "LENGTH(country) <> 2"}},
	{Dataset: Dataset{Code: "chancery.analytics_facts", NameVI: "Kho số liệu phân tích", NameEN: "Analytics facts",
		Description:  "Số liệu theo ngày, đơn vị, thủ tục và quốc gia, đọc qua các khung nhìn bi_* (xem README). / Daily facts by unit, procedure and country, read through the bi_* views (see the README).",
		SourceSystem: "Chancery — analytics", Refresh: RefreshContinuous,
		Users:  "Lãnh đạo Bộ, công cụ BI (vai trò chancery_bi) / The ministry's leadership, BI tools (the chancery_bi role)",
		table:  "analytics_facts",
		Checks: []Check{{Name: "value", Kind: MaxInvalidRate, Column: "negative_value", Threshold: 0}}},
		rules: map[string]string{"negative_value": "value < 0"}},
}

// RegisterBuiltins registers (or updates) the datasets Chancery holds,
// keeping their checks' last results; checks no longer defined are
// removed. Call it at start.
func (c *Catalogue) RegisterBuiltins(ctx context.Context) error {
	now := c.clock()
	return c.db.InTx(ctx, func(tx *store.Tx) error {
		for i := range builtins {
			d := builtins[i].Dataset
			d.Builtin = true
			_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO analytics_datasets (code, name_vi, name_en, description, level,
				personal_data, source_system, refresh, users, builtin, source_table, time_column, created_us, updated_us)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)
				ON CONFLICT (code) DO UPDATE SET name_vi = excluded.name_vi, name_en = excluded.name_en, description = excluded.description,
				level = excluded.level, personal_data = excluded.personal_data, source_system = excluded.source_system,
				refresh = excluded.refresh, users = excluded.users, builtin = 1, source_table = excluded.source_table,
				time_column = excluded.time_column`),
				d.Code, d.NameVI, d.NameEN, d.Description, int(d.Level), b2i(d.PersonalData), d.SourceSystem, string(d.Refresh), d.Users,
				d.table, d.timeColumn, store.Micros(now), store.Micros(now))
			if err != nil {
				return fmt.Errorf("analytics: register dataset %s: %w", d.Code, err)
			}
			names := []any{d.Code}
			marks := ""
			for _, ch := range d.Checks {
				if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO analytics_checks (dataset_code, name, kind, column_name, threshold) VALUES (?, ?, ?, ?, ?)
					ON CONFLICT (dataset_code, name) DO UPDATE SET kind = excluded.kind, column_name = excluded.column_name, threshold = excluded.threshold`),
					d.Code, ch.Name, string(ch.Kind), ch.Column, ch.Threshold); err != nil {
					return fmt.Errorf("analytics: register check %s of %s: %w", ch.Name, d.Code, err)
				}
				names = append(names, ch.Name)
				marks += ", ?"
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM analytics_checks WHERE dataset_code = ? AND name NOT IN (''"+marks+")"), names...); err != nil {
				return fmt.Errorf("analytics: drop old checks of %s: %w", d.Code, err)
			}
		}
		return nil
	})
}

// rulesOf returns the validity rules of builtin dataset code.
func rulesOf(code string) map[string]string {
	for _, b := range builtins {
		if b.Code == code {
			return b.rules
		}
	}
	return nil
}

// RunChecks runs the quality checks of dataset code as sub asks (Update
// on the dataset) and returns it with the results, which are recorded.
func (c *Catalogue) RunChecks(ctx context.Context, sub authz.Subject, code string) (Dataset, error) {
	d, err := c.Get(ctx, sub, code)
	if err != nil {
		return Dataset{}, err
	}
	if err := decide(sub, authz.Update, d.resource(authz.Update), code); err != nil {
		return Dataset{}, err
	}
	o, err := c.rec.Origin(ctx)
	if err != nil {
		return Dataset{}, err
	}
	results, err := c.measure(ctx, d)
	if err != nil {
		return Dataset{}, err
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := saveResults(ctx, tx, code, results); err != nil {
			return err
		}
		e := o.Event("analytics.run_checks")
		e.ResourceType, e.ResourceID, e.Level, e.UnitID = "dataset", code, d.Level, d.OwnerUnit
		failed := 0
		for _, r := range results {
			if !r.LastOK {
				failed++
			}
		}
		e.Attrs = map[string]string{"checks": fmt.Sprint(len(results)), "failed": fmt.Sprint(failed)}
		return c.rec.Record(ctx, tx, e)
	})
	if err != nil {
		return Dataset{}, err
	}
	return c.Get(ctx, sub, code)
}

// RunAllChecks runs every dataset's checks and records their results:
// the periodic run. It returns the first failure to measure, after
// trying them all.
func (c *Catalogue) RunAllChecks(ctx context.Context) error {
	all, err := c.load(ctx, c.db, "")
	if err != nil {
		return err
	}
	var first error
	for _, d := range all {
		results, err := c.measure(ctx, d)
		if err == nil {
			err = c.db.InTx(ctx, func(tx *store.Tx) error { return saveResults(ctx, tx, d.Code, results) })
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

func saveResults(ctx context.Context, tx *store.Tx, code string, results []Check) error {
	for _, r := range results {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE analytics_checks SET last_run_us = ?, last_ok = ?, last_value = ?, last_detail = ?
			WHERE dataset_code = ? AND name = ?`), store.Micros(r.LastRun), b2i(r.LastOK), r.LastValue, r.LastDetail, code, r.Name); err != nil {
			return fmt.Errorf("analytics: save check %s of %s: %w", r.Name, code, err)
		}
	}
	return nil
}

// measure runs d's checks and returns them with their results.
func (c *Catalogue) measure(ctx context.Context, d Dataset) ([]Check, error) {
	now := c.clock()
	rules := rulesOf(d.Code)
	out := make([]Check, 0, len(d.Checks))
	for _, ch := range d.Checks {
		ch.LastRun = now
		var err error
		switch {
		case ch.Kind == MaxAgeHours && !d.Builtin:
			ch.LastValue, ch.LastOK, ch.LastDetail = age(now, d.RefreshedAt, ch.Threshold)
		case !d.Builtin || d.table == "":
			ch.LastOK, ch.LastDetail = false, "this check needs a table Chancery holds"
		case ch.Kind == MinRows:
			var n int64
			err = c.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+d.table).Scan(&n)
			ch.LastValue, ch.LastOK = float64(n), float64(n) >= ch.Threshold
			ch.LastDetail = fmt.Sprintf("%d rows; at least %g wanted", n, ch.Threshold)
		case ch.Kind == MaxNullRate:
			ch.LastValue, ch.LastDetail, err = c.rate(ctx, d.table, "("+ch.Column+" IS NULL OR "+ch.Column+" = '')", "empty "+ch.Column)
			ch.LastOK = ch.LastValue <= ch.Threshold
		case ch.Kind == MaxInvalidRate:
			rule, ok := rules[ch.Column]
			if !ok {
				ch.LastDetail = "unknown validity rule " + ch.Column
				break
			}
			ch.LastValue, ch.LastDetail, err = c.rate(ctx, d.table, "("+rule+")", ch.Column)
			ch.LastOK = ch.LastValue <= ch.Threshold
		case ch.Kind == MaxAgeHours && d.timeColumn != "":
			var newest sql.NullInt64
			err = c.db.QueryRowContext(ctx, "SELECT MAX("+d.timeColumn+") FROM "+d.table).Scan(&newest)
			var at time.Time
			if newest.Valid {
				at = fromMicros(newest.Int64)
			}
			ch.LastValue, ch.LastOK, ch.LastDetail = age(now, at, ch.Threshold)
		default:
			ch.LastDetail = "unknown check kind " + string(ch.Kind)
		}
		if err != nil {
			return nil, fmt.Errorf("analytics: run check %s of %s: %w", ch.Name, d.Code, err)
		}
		out = append(out, ch)
	}
	return out, nil
}

// rate returns the fraction of table's rows matching cond (0 for no rows).
func (c *Catalogue) rate(ctx context.Context, table, cond, what string) (float64, string, error) {
	var n, bad int64
	err := c.db.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN "+cond+" THEN 1 ELSE 0 END), 0) FROM "+table).Scan(&n, &bad)
	if err != nil || n == 0 {
		return 0, fmt.Sprintf("%d rows", n), err
	}
	return float64(bad) / float64(n), fmt.Sprintf("%d of %d rows: %s", bad, n, what), nil
}

// age measures a freshness check: hours since at.
func age(now, at time.Time, limit float64) (float64, bool, string) {
	if at.IsZero() {
		return 0, false, "never refreshed"
	}
	h := math.Round(now.Sub(at).Hours()*10) / 10
	return h, h <= limit, fmt.Sprintf("newest %s, %g hours ago; at most %g wanted", at.Format(time.RFC3339), h, limit)
}
