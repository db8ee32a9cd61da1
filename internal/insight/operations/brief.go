package operations

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"chancery/internal/authz"
	"chancery/internal/i18n"
	"chancery/internal/identity"
	"chancery/internal/printout"
	"chancery/internal/web"
)

// Translator writes a catalogue key in the reader's language.
type Translator interface {
	T(key string, args ...any) string
}

// Brief writes unit's weekly brief as an A4 PDF to w: the last complete
// week's figures beside the quarter's, the status and why, and each
// week's dossiers as a table and bars. It holds only what sub may see
// (the same figures as the unit's page), so printing it needs the
// Export grant on the unit's figures; another unit's answers as
// missing. The PDF is built whole before anything is written.
func (s *Service) Brief(ctx context.Context, sub authz.Subject, unit int64, p web.Page, w io.Writer) error {
	sm, err := s.unit(ctx, sub, authz.Export, unit)
	if err != nil {
		return err
	}
	return writeBrief(sm, p, p.Lang, s.opts.Now(), w)
}

func writeBrief(sm *Summary, t Translator, lang i18n.Lang, now time.Time, w io.Writer) error {
	name := unitName(lang, sm.Unit)
	if sm.Unit.Kind == identity.KindMinistry {
		name = t.T("operations.ministry")
	}
	title := t.T("operations.brief.title")
	n := len(sm.Weeks)
	// The last complete week is the one before the current one.
	last := n - 2
	pdf := printout.NewA4(title+" — "+name, now)
	pdf.SetMargins(18, 18, 18)
	pdf.SetAutoPageBreak(true, 18)
	pdf.AddPage()
	pdf.SetFont(printout.FontName, "", 16)
	pdf.MultiCell(0, 8, title, "", "L", false)
	pdf.SetFont(printout.FontName, "", 12)
	pdf.MultiCell(0, 6, name, "", "L", false)
	pdf.SetFont(printout.FontName, "", 10)
	pdf.MultiCell(0, 5, t.T("operations.brief.week", sm.Weeks[last].Format("02/01/2006"), sm.Weeks[last].AddDate(0, 0, 6).Format("02/01/2006")), "", "L", false)
	pdf.Ln(2)
	status := t.T("operations.status." + string(sm.Status))
	for _, r := range sm.Reasons {
		status += " — " + t.T(r.Key, r.N)
	}
	pdf.MultiCell(0, 5, t.T("operations.status")+": "+status, "", "L", false)
	pdf.Ln(3)

	num := func(v int64) string { return lang.FormatNumber(float64(v), 0) }
	wk := sm.Counts[last]
	index := t.T("operations.index_nodata")
	if !sm.Indices.NoData {
		index = lang.FormatNumber(sm.Indices.Total, 1)
	}
	rows := [][3]string{
		{t.T("operations.received"), num(wk.Received), num(sm.Received())},
		{t.T("operations.resolved"), num(wk.Finished), num(sm.Resolved())},
		{t.T("operations.late"), num(wk.Finished - wk.OnTime), num(sm.Late())},
		{t.T("operations.ontime"), percent(wk.OnTime, wk.Finished), percent(sm.Quarter.OnTime, sm.Quarter.Finished)},
		{t.T("operations.index"), "", index},
		{t.T("operations.documents"), num(sm.Documents[last]), num(sum(sm.Documents))},
		{t.T("operations.exchange"), num(sm.Exchange[last]), num(sum(sm.Exchange))},
		{t.T("operations.overdue"), "", num(sm.Overdue)},
		{t.T("operations.tasks"), "", num(sm.TasksOpen)},
		{t.T("operations.tasks_overdue"), "", num(sm.TasksOverdue)},
		{t.T("operations.reports"), "", num(sm.ReportsOutstanding)},
		{t.T("operations.reports_late"), "", num(sm.ReportsLate)},
		{t.T("operations.alerts"), "", num(sm.Alerts)},
	}
	if l := sm.Link; l != nil {
		rows = append(rows, [3]string{t.T("operations.link"), "", t.T("operations.link." + l.State)},
			[3]string{t.T("operations.backlog"), "", num(l.Backlog)})
	}
	widths := []float64{84, 44, 46}
	head := []string{t.T("operations.indicator"), t.T("operations.brief.week", sm.Weeks[last].Format("02/01"), sm.Weeks[last].AddDate(0, 0, 6).Format("02/01")),
		t.T("operations.brief.quarter", n)}
	pdf.SetFillColor(235, 235, 235)
	for i, h := range head {
		pdf.CellFormat(widths[i], 7, h, "1", 0, "L", true, 0, "")
	}
	pdf.Ln(-1)
	for _, r := range rows {
		for i, c := range r {
			align := "R"
			if i == 0 {
				align = "L"
			}
			pdf.CellFormat(widths[i], 6, c, "1", 0, align, false, 0, "")
		}
		pdf.Ln(-1)
	}
	pdf.Ln(5)

	// Each week's dossiers: a table, with a bar of the received ones.
	pdf.SetFont(printout.FontName, "", 11)
	pdf.MultiCell(0, 6, t.T("operations.trend"), "", "L", false)
	pdf.SetFont(printout.FontName, "", 9)
	cols := []float64{30, 30, 30, 30, 54}
	for i, h := range []string{t.T("operations.week"), t.T("operations.received"), t.T("operations.resolved"), t.T("operations.late"), ""} {
		pdf.CellFormat(cols[i], 6, h, "1", 0, "L", true, 0, "")
	}
	pdf.Ln(-1)
	var top int64 = 1
	for _, c := range sm.Counts {
		top = max(top, c.Received)
	}
	pdf.SetFillColor(120, 120, 120)
	for i, wkStart := range sm.Weeks {
		c := sm.Counts[i]
		for j, v := range []string{wkStart.Format("02/01/2006"), num(c.Received), num(c.Finished), num(c.Finished - c.OnTime)} {
			align := "R"
			if j == 0 {
				align = "L"
			}
			pdf.CellFormat(cols[j], 5, v, "1", 0, align, false, 0, "")
		}
		x, y := pdf.GetXY()
		pdf.CellFormat(cols[4], 5, "", "1", 0, "L", false, 0, "")
		if c.Received > 0 {
			pdf.Rect(x+1, y+1, (cols[4]-2)*float64(c.Received)/float64(top), 3, "F")
		}
		pdf.Ln(-1)
	}
	pdf.Ln(4)
	pdf.SetFont(printout.FontName, "", 8)
	pdf.MultiCell(0, 4, t.T("operations.thresholds"), "", "L", false)
	pdf.MultiCell(0, 4, t.T("operations.brief.footer", web.ShowTime(now)), "", "L", false)
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("operations: write the brief of unit %s: %w", strconv.FormatInt(sm.Unit.ID, 10), err)
	}
	return pdf.Output(w)
}

func sum(xs []int64) int64 {
	var n int64
	for _, x := range xs {
		n += x
	}
	return n
}
