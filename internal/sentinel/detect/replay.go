package detect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"chancery/internal/audit"
	"chancery/internal/errs"
)

// MaxExportLine bounds a line of a ledger export. An entry is an event
// (a few KiB at most, audit's limits) and its proof (a few dozen hashes):
// far less. A longer line is no export, and is refused before it is held
// in memory whole.
const MaxExportLine = 1 << 20

// ReplayStats is what a replay read.
type ReplayStats struct {
	Events int
	Alerts int
	// Complete says the export ended with its end line; an export without
	// one broke off and is incomplete.
	Complete bool
}

// exportLine is any line of an export after the header: an entry (event,
// leaf hash, proof), the end, or the failure that broke it off.
type exportLine struct {
	Event    *audit.Event `json:"event"`
	LeafHash []byte       `json:"leaf_hash"`
	End      bool         `json:"end"`
	Events   *uint64      `json:"events"`
	Error    *string      `json:"error"`
}

// Replay scores the ledger export r (the JSON Lines `GET
// /api/v1/audit/export` writes: a header, one entry per event, an end
// line) with s, in order, and gives each alert to emit. Each event must be
// valid (audit's rules), follow the one before it in sequence, and match
// its leaf hash when the entry carries one, so that an altered copy is
// refused rather than scored. It returns an error wrapping errs.ErrInvalid
// that names the line for anything that is not such an export (a line
// over MaxExportLine, a NUL, JSON that does not decode), and one for an
// export that broke off or has no end line; the alerts before it have
// been emitted.
func Replay(r io.Reader, s Scorer, emit func(Alert) error) (ReplayStats, error) {
	var st ReplayStats
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	line := 0
	next := func() ([]byte, error) {
		buf = buf[:0]
		for {
			chunk, err := br.ReadSlice('\n')
			if len(buf)+len(chunk) > MaxExportLine {
				return nil, bad(line+1, fmt.Sprintf("is longer than %d bytes", MaxExportLine))
			}
			buf = append(buf, chunk...)
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if err != nil && (!errors.Is(err, io.EOF) || len(buf) == 0) {
				return nil, err
			}
			line++
			buf = bytes.TrimRight(buf, "\r\n")
			if bytes.IndexByte(buf, 0) >= 0 {
				return nil, bad(line, "holds a NUL byte")
			}
			return buf, nil
		}
	}
	head, err := next()
	if errors.Is(err, io.EOF) {
		return st, fmt.Errorf("%w: the file is empty, not a ledger export", errs.ErrInvalid)
	}
	if err != nil {
		return st, readErr(err)
	}
	var h struct {
		Format string `json:"format"`
	}
	if json.Unmarshal(head, &h) != nil || h.Format != audit.ExportFormat {
		return st, bad(1, fmt.Sprintf("is not the header of a ledger export (format %q expected); export one with GET /api/v1/audit/export", audit.ExportFormat))
	}
	var last uint64
	for {
		b, err := next()
		if errors.Is(err, io.EOF) && st.Complete {
			return st, nil
		}
		if errors.Is(err, io.EOF) {
			return st, fmt.Errorf("%w: the export has no end line after %d events: it broke off and is incomplete; the alerts above are for what it holds", errs.ErrInvalid, st.Events)
		}
		if err != nil {
			return st, readErr(err)
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if st.Complete {
			return st, bad(line, "follows the export's end line")
		}
		var l exportLine
		if err := json.Unmarshal(b, &l); err != nil {
			return st, bad(line, fmt.Sprintf("does not decode (%v)", err))
		}
		switch {
		case l.Error != nil:
			return st, fmt.Errorf("%w: the export broke off at line %d: %q; export it again", errs.ErrInvalid, line, *l.Error)
		case l.End:
			if l.Events != nil && *l.Events != uint64(st.Events) {
				return st, bad(line, fmt.Sprintf("says the export holds %d events, but %d came", *l.Events, st.Events))
			}
			st.Complete = true
			continue
		case l.Event == nil:
			return st, bad(line, "is neither an event entry nor the end")
		}
		ev := *l.Event
		if err := ev.Validate(); err != nil {
			return st, bad(line, fmt.Sprintf("holds an invalid event: %v", err))
		}
		if st.Events > 0 && ev.Seq <= last {
			return st, bad(line, fmt.Sprintf("holds event %d after event %d: an export is in sequence order", ev.Seq, last))
		}
		if len(l.LeafHash) > 0 {
			want, err := ev.LeafHash()
			if err != nil || !bytes.Equal(want, l.LeafHash) {
				return st, bad(line, fmt.Sprintf("holds event %d, which does not match its leaf hash: the copy was altered", ev.Seq))
			}
		}
		last = ev.Seq
		st.Events++
		for _, a := range s.Observe(ev) {
			st.Alerts++
			if err := emit(a); err != nil {
				return st, err
			}
		}
	}
}

func bad(line int, what string) error {
	return fmt.Errorf("%w: line %d of the export %s", errs.ErrInvalid, line, what)
}

func readErr(err error) error {
	if errors.Is(err, errs.ErrInvalid) {
		return err
	}
	return fmt.Errorf("detect: read the export: %w", err)
}
