package dlp

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
)

// benchText is 4 MiB of Vietnamese prose with a few personal numbers,
// e-mail addresses and a marking, as a report going out would hold.
func benchText() []byte {
	var b strings.Builder
	for i := 0; b.Len() < 4<<20; i++ {
		fmt.Fprintf(&b, "Đoàn công tác số %d của Cục Lãnh sự làm việc với Đại sứ quán về bảo hộ công dân; liên hệ 0912 345 %03d, lanh.su%d@mofa.gov.vn, "+
			"CCCD 0011950%05d. Ngày 15/03/2026, kinh phí 12.500.000 đồng.\n", i, i%1000, i, i%100000)
		if i%1000 == 0 {
			b.WriteString("MẬT\n")
		}
	}
	return []byte(b.String())
}

// BenchmarkScan reports the scanner's throughput in MB/s on plain text,
// with a copy of the same bytes as the baseline (what merely touching
// them costs).
func BenchmarkScan(b *testing.B) {
	data := benchText()
	s := testScanner()
	s.Limit = int64(len(data))
	b.Run("copy", func(b *testing.B) {
		dst := make([]byte, len(data))
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			copy(dst, data)
		}
		b.ReportMetric(float64(len(data))*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
	})
	for _, c := range []struct {
		name, mediaType string
		data            []byte
	}{
		{"text", "text/plain", data},
		{"json", "application/json", jsonOf(data)},
	} {
		b.Run(c.name, func(b *testing.B) {
			s.Limit = int64(len(c.data)) * 2
			b.SetBytes(int64(len(c.data)))
			var r Result
			for b.Loop() {
				r = s.Scan(context.Background(), c.data, c.mediaType)
			}
			if r.Counts[IdentityNumber] == 0 || r.Counts[MarkingConfidential] == 0 {
				b.Fatalf("the scan found %v", r.Counts)
			}
			b.ReportMetric(float64(len(c.data))*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
		})
	}
}

// jsonOf returns text's lines as a JSON array of strings.
func jsonOf(text []byte) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, line := range bytes.Split(text, []byte("\n")) {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q", line)
	}
	b.WriteByte(']')
	return b.Bytes()
}
