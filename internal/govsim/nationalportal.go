package govsim

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"chancery/internal/errs"
	"chancery/internal/web"
)

// Channel is how a dossier was submitted, in the portal's numbering.
type Channel int

// The channels.
const (
	InPerson Channel = 1 // trực tiếp, at the agency's counter
	Online   Channel = 2 // trực tuyến
	Postal   Channel = 3 // bưu chính công ích, the public postal service
)

// StatusUpdate is a dossier status update as the portal simulator
// received it.
type StatusUpdate struct {
	// DossierCode is {agency code}-{yymmdd}-{sequence}, e.g.
	// 000.00.03.G12-250301-0007.
	DossierCode string `json:"dossier_code"`
	// ProcedureCode is the procedure's code in the national database of
	// administrative procedures, e.g. 1.000487.
	ProcedureCode string `json:"procedure_code"`
	// Status is the portal's status code, 1 to 10.
	Status int `json:"status"`
	// StatusName is the sender's name of the status.
	StatusName string  `json:"status_name"`
	Channel    Channel `json:"channel"`
	Paid       bool    `json:"paid"`
	// PaidOnline reports whether the fee was paid through the portal's
	// online payment; never true when Paid is false.
	PaidOnline bool      `json:"paid_online"`
	UpdatedAt  time.Time `json:"updated_at"`
	// AgencyCode is the electronic agency code of the agency handling the
	// dossier.
	AgencyCode string `json:"agency_code"`
	// ReceivedAt is when the simulator first received the update.
	ReceivedAt time.Time `json:"received_at"`
}

// NationalPortalCapacity is how many status updates the portal simulator keeps;
// past it, the oldest received is evicted first.
const NationalPortalCapacity = 10_000

// NationalPortal is the National Public Service Portal simulator's receiving end
// of dossier status updates. It keeps the last NationalPortalCapacity updates it
// received, in memory, each once: the exchange delivers at least once, so
// an update with the same dossier code, status and time as one it holds is
// a redelivery and is not stored again. (One already evicted would be.) It
// is safe for concurrent use.
type NationalPortal struct {
	now      func() time.Time
	capacity int

	mu sync.Mutex
	// buf holds the updates in the order received, oldest at buf[oldest]
	// once it is full (and at buf[0] until then); guarded by mu.
	buf    []StatusUpdate
	oldest int                    // guarded by mu
	seen   map[updateKey]struct{} // the keys of buf; guarded by mu
}

// updateKey identifies a status update for deduplication. The time is
// compared as an instant, whatever offset it was written with.
type updateKey struct {
	dossier string
	status  int
	at      string // UpdatedAt in UTC, RFC 3339 with nanoseconds
}

func keyOf(u StatusUpdate) updateKey {
	return updateKey{dossier: u.DossierCode, status: u.Status, at: u.UpdatedAt.UTC().Format(time.RFC3339Nano)}
}

// newNationalPortal returns an empty simulator keeping at most capacity updates,
// with now as its clock.
func newNationalPortal(capacity int, now func() time.Time) *NationalPortal {
	return &NationalPortal{now: now, capacity: capacity, seen: map[updateKey]struct{}{}}
}

// receive stores u, stamped with the time received, and reports whether
// it was new; a redelivery of an update the simulator holds changes
// nothing.
func (p *NationalPortal) receive(u StatusUpdate) bool {
	k := keyOf(u)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, dup := p.seen[k]; dup {
		return false
	}
	u.ReceivedAt = p.now().UTC()
	p.seen[k] = struct{}{}
	if len(p.buf) < p.capacity {
		p.buf = append(p.buf, u)
		return true
	}
	delete(p.seen, keyOf(p.buf[p.oldest]))
	p.buf[p.oldest] = u
	p.oldest = (p.oldest + 1) % len(p.buf)
	return true
}

// Updates returns the status updates the simulator holds, newest received
// first: all of them when dossierCode is empty, else those of that
// dossier.
func (p *NationalPortal) Updates(dossierCode string) []StatusUpdate {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := []StatusUpdate{}
	for i := len(p.buf) - 1; i >= 0; i-- {
		u := p.buf[(p.oldest+i)%len(p.buf)]
		if dossierCode == "" || u.DossierCode == dossierCode {
			out = append(out, u)
		}
	}
	return out
}

// Len returns how many status updates the simulator holds.
func (p *NationalPortal) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.buf)
}

// Capacity returns how many status updates the simulator keeps at most.
func (p *NationalPortal) Capacity() int { return p.capacity }

// maxStatusBody bounds a status update's body; a real one is a few hundred
// bytes.
const maxStatusBody = 16 << 10

// maxStatusName bounds status_name, in characters.
const maxStatusName = 200

// clockSkew is how far in the future an update's time may be, for a
// sender whose clock runs ahead of the simulator's.
const clockSkew = 5 * time.Minute

var (
	agencyCodePattern    = regexp.MustCompile(`^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$`)
	dossierCodePattern   = regexp.MustCompile(`^(\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2})-(\d{6})-(\d{1,8})$`)
	procedureCodePattern = regexp.MustCompile(`^\d\.\d{6}$`)
)

// statusUpdateBody is the body of POST /v1/dossier-statuses. Every field
// is a pointer so that a missing one is told from a zero one: the portal
// requires them all.
type statusUpdateBody struct {
	DossierCode   *string `json:"dossier_code"`
	ProcedureCode *string `json:"procedure_code"`
	Status        *int    `json:"status"`
	StatusName    *string `json:"status_name"`
	Channel       *int    `json:"channel"`
	Paid          *bool   `json:"paid"`
	PaidOnline    *bool   `json:"paid_online"`
	UpdatedAt     *string `json:"updated_at"`
	AgencyCode    *string `json:"agency_code"`
}

// decodeStatusUpdate decodes and checks the body of a status update. It
// refuses, with an errs.ErrInvalid or errs.ErrTooLarge error, a body that
// is not one JSON object of the known fields within maxStatusBody bytes;
// and with an *errs.FieldError naming the field, a missing field or one
// that breaks the portal's rules. now is the simulator's clock, which
// bounds the dates.
func decodeStatusUpdate(body []byte, now time.Time) (StatusUpdate, error) {
	var b statusUpdateBody
	if err := web.DecodeJSONBytes(body, &b, maxStatusBody); err != nil {
		return StatusUpdate{}, err
	}
	for _, f := range []struct {
		name    string
		missing bool
	}{
		{"dossier_code", b.DossierCode == nil}, {"procedure_code", b.ProcedureCode == nil}, {"status", b.Status == nil},
		{"status_name", b.StatusName == nil}, {"channel", b.Channel == nil}, {"paid", b.Paid == nil},
		{"paid_online", b.PaidOnline == nil}, {"updated_at", b.UpdatedAt == nil}, {"agency_code", b.AgencyCode == nil},
	} {
		if f.missing {
			return StatusUpdate{}, errs.Invalid(f.name, "is required")
		}
	}
	u := StatusUpdate{DossierCode: *b.DossierCode, ProcedureCode: *b.ProcedureCode, Status: *b.Status,
		StatusName: strings.TrimSpace(*b.StatusName), Channel: Channel(*b.Channel), Paid: *b.Paid, PaidOnline: *b.PaidOnline,
		AgencyCode: *b.AgencyCode}
	opened, err := checkDossierCode(u.DossierCode, now)
	if err != nil {
		return StatusUpdate{}, err
	}
	switch {
	case !procedureCodePattern.MatchString(u.ProcedureCode):
		return StatusUpdate{}, errs.Invalid("procedure_code", "must be a code of the national database of administrative procedures: a digit, a dot and six digits, e.g. 1.000487")
	case u.Status < 1 || u.Status > 10:
		return StatusUpdate{}, errs.Invalid("status", fmt.Sprintf("must be a status code from 1 to 10, not %d", u.Status))
	case u.StatusName == "":
		return StatusUpdate{}, errs.Invalid("status_name", "must not be blank")
	case utf8.RuneCountInString(u.StatusName) > maxStatusName:
		return StatusUpdate{}, errs.Invalid("status_name", fmt.Sprintf("is longer than %d characters", maxStatusName))
	case strings.IndexFunc(u.StatusName, unicode.IsControl) >= 0:
		return StatusUpdate{}, errs.Invalid("status_name", "must not contain control characters such as tabs or line breaks")
	case u.Channel < InPerson || u.Channel > Postal:
		return StatusUpdate{}, errs.Invalid("channel", fmt.Sprintf("must be 1 (in person), 2 (online) or 3 (postal), not %d", u.Channel))
	case u.PaidOnline && !u.Paid:
		return StatusUpdate{}, errs.Invalid("paid_online", "cannot be true while paid is false: a fee paid online is paid")
	}
	if u.UpdatedAt, err = time.Parse(time.RFC3339, *b.UpdatedAt); err != nil {
		return StatusUpdate{}, errs.Invalid("updated_at", "must be an RFC 3339 time with its offset, e.g. 2025-03-01T08:30:00+07:00")
	}
	switch {
	case u.UpdatedAt.Before(opened):
		return StatusUpdate{}, errs.Invalid("updated_at", "is before the day the dossier code gives as its date of receipt")
	case u.UpdatedAt.After(now.Add(clockSkew)):
		return StatusUpdate{}, errs.Invalid("updated_at", fmt.Sprintf("is in the future; a sender's clock may run at most %s ahead", clockSkew))
	case !agencyCodePattern.MatchString(u.AgencyCode):
		return StatusUpdate{}, errs.Invalid("agency_code", "must be an electronic agency code of the form NNN.NN.NN.XNN (digits, a capital letter), e.g. 000.00.00.G12")
	}
	return u, nil
}

// checkDossierCode checks the shape {agency code}-{yymmdd}-{sequence} of
// a dossier code and returns the start of its date of receipt, in Viet
// Nam's time; the date must be a real day of 2000–2099 that has come.
func checkDossierCode(code string, now time.Time) (time.Time, error) {
	m := dossierCodePattern.FindStringSubmatch(code)
	if m == nil {
		return time.Time{}, errs.Invalid("dossier_code", "must be {agency code}-{yymmdd}-{sequence}, e.g. 000.00.03.G12-250301-0007")
	}
	yy, _ := strconv.Atoi(m[2][:2])
	mm, _ := strconv.Atoi(m[2][2:4])
	dd, _ := strconv.Atoi(m[2][4:])
	day := time.Date(2000+yy, time.Month(mm), dd, 0, 0, 0, 0, web.MinistryZone())
	if day.Year() != 2000+yy || day.Month() != time.Month(mm) || day.Day() != dd {
		return time.Time{}, errs.Invalid("dossier_code", fmt.Sprintf("the date part %s is not a day of the calendar (yymmdd)", m[2]))
	}
	if day.After(now) {
		return time.Time{}, errs.Invalid("dossier_code", fmt.Sprintf("the date part %s is a day that has not come yet", m[2]))
	}
	return day, nil
}

//go:embed nationalportal.openapi.json
var nationalPortalOpenAPI []byte

// NationalPortalOpenAPI returns the OpenAPI 3.0 description of the National
// Public Service Portal simulator's API, as it serves it at
// {NationalPortalURL}/v1/openapi.json. The caller may keep and change the slice.
func NationalPortalOpenAPI() []byte { return slices.Clone(nationalPortalOpenAPI) }

// statusList is the answer of GET /v1/dossier-statuses.
type statusList struct {
	Updates []StatusUpdate `json:"updates"`
}

// handler serves the simulator's API, relative to its base URL.
func (p *NationalPortal) handler(log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/dossier-statuses", func(w http.ResponseWriter, r *http.Request) {
		u, err := p.readStatusUpdate(w, r)
		if err != nil {
			problem(w, r, log, err)
			return
		}
		stored := p.receive(u)
		log.Info("portal simulator: dossier status update", "dossier", u.DossierCode, "status", u.Status, "redelivery", !stored)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /v1/dossier-statuses", func(w http.ResponseWriter, r *http.Request) {
		code := r.URL.Query().Get("dossier_code")
		if code != "" && !dossierCodePattern.MatchString(code) {
			problem(w, r, log, errs.Invalid("dossier_code", "must be {agency code}-{yymmdd}-{sequence}, e.g. 000.00.03.G12-250301-0007"))
			return
		}
		web.JSON(w, r, http.StatusOK, statusList{Updates: p.Updates(code)})
	})
	mux.Handle("/v1/dossier-statuses", methodNotAllowed("GET, HEAD, POST"))
	serveOpenAPI(mux, nationalPortalOpenAPI)
	mux.Handle("/", noRoute("POST /v1/dossier-statuses, GET /v1/dossier-statuses, GET /v1/openapi.json"))
	return simulatorHeader("portal", mux)
}

// readStatusUpdate reads and checks the body of a POST.
func (p *NationalPortal) readStatusUpdate(w http.ResponseWriter, r *http.Request) (StatusUpdate, error) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return StatusUpdate{}, fmt.Errorf("%w: the body must be application/json, not %q", errs.ErrInvalid, ct)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxStatusBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return StatusUpdate{}, fmt.Errorf("%w: the body is over the limit of %d bytes", errs.ErrTooLarge, maxStatusBody)
		}
		return StatusUpdate{}, fmt.Errorf("%w: read body: %v", errs.ErrInvalid, err)
	}
	return decodeStatusUpdate(body, p.now())
}
