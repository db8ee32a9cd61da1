package insight

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"

	"chancery/internal/authz"
	"chancery/internal/i18n"
)

// exportTable is a round's aggregation as rows: a header, each report
// counted (unit, status, then each indicator), and the sums, averages,
// minima and maxima per numeric indicator.
func (s *Service) exportTable(ctx context.Context, sub authz.Subject, id int64, lang string) ([][]string, Aggregation, error) {
	a, err := s.Aggregate(ctx, sub, id)
	if err != nil {
		return nil, a, err
	}
	head := []string{"unit_code", "unit", "status"}
	if lang == "vi" {
		head = []string{"ma_don_vi", "don_vi", "trang_thai"}
	}
	for _, in := range a.Round.Template.Indicators {
		label := in.Name(i18n.Lang(lang))
		if in.Unit != "" {
			label += " (" + in.Unit + ")"
		}
		head = append(head, label)
	}
	rows := [][]string{head}
	for _, sm := range a.Reports {
		u, err := s.opts.Directory.Unit(ctx, sm.Unit)
		if err != nil {
			return nil, a, err
		}
		name := u.NameVI
		if lang == "en" {
			name = u.NameEN
		}
		row := []string{u.Code, name, string(sm.Status)}
		for _, in := range a.Round.Template.Indicators {
			row = append(row, sm.Values[in.Code])
		}
		rows = append(rows, row)
	}
	for _, agg := range []struct {
		name string
		of   func(Stat) float64
	}{{"sum", func(s Stat) float64 { return s.Sum }}, {"avg", func(s Stat) float64 { return s.Avg }},
		{"min", func(s Stat) float64 { return s.Min }}, {"max", func(s Stat) float64 { return s.Max }}} {
		row := []string{"", agg.name, ""}
		i := 0
		for _, in := range a.Round.Template.Indicators {
			if !in.Numeric() {
				row = append(row, "")
				continue
			}
			row = append(row, strconv.FormatFloat(agg.of(a.Stats[i]), 'f', -1, 64))
			i++
		}
		rows = append(rows, row)
	}
	return rows, a, nil
}

// csvSafe escapes a cell a spreadsheet would take for a formula (one
// that starts with = + - @, a tab or a carriage return) by a leading
// apostrophe, as OWASP's CSV injection advice says; numbers written by
// Validate (-3, -0.5) stay numbers.
func csvSafe(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if _, err := strconv.ParseFloat(v, 64); err == nil && v[0] == '-' {
			return v
		}
		return "'" + v
	}
	return v
}

// ExportCSV writes round id's aggregation as CSV, every cell safe from
// formula injection.
func (s *Service) ExportCSV(ctx context.Context, sub authz.Subject, id int64, lang string, w io.Writer) error {
	rows, _, err := s.exportTable(ctx, sub, id, lang)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	for _, row := range rows {
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ExportXLSX writes round id's aggregation as an Excel workbook: numbers
// as numbers, text as text (a cell is never a formula).
func (s *Service) ExportXLSX(ctx context.Context, sub authz.Subject, id int64, lang string, w io.Writer) error {
	rows, a, err := s.exportTable(ctx, sub, id, lang)
	if err != nil {
		return err
	}
	f := excelize.NewFile()
	defer f.Close()
	sheet := a.Round.Label
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	for r, row := range rows {
		cells := make([]any, len(row))
		for c, v := range row {
			cells[c] = v
			if r > 0 && c >= 3 {
				if n, err := strconv.ParseFloat(v, 64); err == nil {
					cells[c] = n
				}
			}
		}
		cell, err := excelize.CoordinatesToCellName(1, r+1)
		if err != nil {
			return err
		}
		if err := f.SetSheetRow(sheet, cell, &cells); err != nil {
			return fmt.Errorf("insight: write row %d: %w", r+1, err)
		}
	}
	_, err = f.WriteTo(w)
	return err
}
