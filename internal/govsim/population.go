package govsim

import (
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"chancery/internal/errs"
	"chancery/internal/web"
)

// Sex is a citizen's sex as the population database records it.
type Sex string

// The sexes the identity number encodes.
const (
	Male   Sex = "male"
	Female Sex = "female"
)

// Citizen is a citizen as the population database answers a lookup.
// Dates are ISO 8601 calendar dates (YYYY-MM-DD).
type Citizen struct {
	IDNumber         string `json:"id_number"`
	FullName         string `json:"full_name"`
	DateOfBirth      string `json:"date_of_birth"`
	Sex              Sex    `json:"sex"`
	Nationality      string `json:"nationality"` // ISO 3166-1 alpha-2: "VN"
	PlaceOfOrigin    string `json:"place_of_origin"`
	PermanentAddress string `json:"permanent_address"`
	IssuedOn         string `json:"issued_on"` // when the identity card was issued
}

// population is the National Population Database simulator: a fixed,
// fictional dataset of citizens looked up by identity number. It is safe
// for concurrent use; nothing changes it after it is built.
type population struct {
	byID map[string]Citizen
	now  func() time.Time

	mu      sync.Mutex
	lookups []Lookup // the last LookupCapacity, oldest first; guarded by mu
}

// The header fields in which a caller states who asked and why, as an
// X-Road provider reads them (Chancery's exchange passes them on), and
// the one in which the exchange names the calling system.
const (
	HeaderUserID = "X-Road-UserId"
	HeaderIssue  = "X-Road-Issue"
	headerClient = "X-Chancery-Client"
)

// LookupCapacity is how many lookups the simulator's log keeps.
const LookupCapacity = 1000

// Lookup is one lookup in the population database's access log: which
// system asked, for which end user and why, and about whom. A provider
// of personal data keeps such a log so that a citizen can learn who read
// their record (Decree 13/2023/NĐ-CP).
type Lookup struct {
	At       time.Time `json:"at"`
	Client   string    `json:"client"`   // the calling subsystem, as the exchange names it
	EndUser  string    `json:"end_user"` // X-Road-UserId
	Purpose  string    `json:"purpose"`  // X-Road-Issue
	IDNumber string    `json:"id_number"`
	Found    bool      `json:"found"`
}

// record adds l to the log, forgetting the oldest past LookupCapacity.
func (p *population) record(l Lookup) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lookups) == LookupCapacity {
		p.lookups = slices.Delete(p.lookups, 0, 1)
	}
	p.lookups = append(p.lookups, l)
}

// Lookups returns the lookups in the log, newest first.
func (p *population) Lookups() []Lookup {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := slices.Clone(p.lookups)
	slices.Reverse(out)
	return out
}

// errNoEndUser refuses a lookup that does not say who asked and why.
var errNoEndUser = fmt.Errorf("%w: say who the lookup is for and why, in the %s and %s header fields; the database answers no anonymous lookups",
	errs.ErrInvalid, HeaderUserID, HeaderIssue)

// newPopulation returns the simulator with the demo dataset; now bounds
// the years of birth an identity number may give.
func newPopulation(now func() time.Time) *population {
	p := &population{byID: make(map[string]Citizen, len(demoCitizens)), now: now}
	for _, r := range demoCitizens {
		p.byID[r.id] = Citizen{IDNumber: r.id, FullName: r.name, DateOfBirth: r.born, Sex: r.sex, Nationality: "VN",
			PlaceOfOrigin: r.origin, PermanentAddress: r.addr, IssuedOn: r.issued}
	}
	return p
}

// errNoCitizen does not echo the number looked up: identity numbers are
// personal data, and error messages end up in logs.
var errNoCitizen = fmt.Errorf("%w: no citizen is recorded under this identity number", errs.ErrNotFound)

// citizen returns the citizen whose identity number is id. It returns an
// *errs.FieldError (kind errs.ErrInvalid) naming the fault for a number
// that is not well formed, and an errs.ErrNotFound error for a
// well-formed number that nobody holds.
func (p *population) citizen(id string) (Citizen, error) {
	if _, err := parseIDNumber(id, p.now()); err != nil {
		return Citizen{}, err
	}
	c, ok := p.byID[id]
	if !ok {
		return Citizen{}, errNoCitizen
	}
	return c, nil
}

//go:embed population.openapi.json
var populationOpenAPI []byte

// PopulationOpenAPI returns the OpenAPI 3.0 description of the National
// Population Database simulator's API, as it serves it at
// {PopulationURL}/v1/openapi.json. The caller may keep and change the
// slice.
func PopulationOpenAPI() []byte { return slices.Clone(populationOpenAPI) }

// handler serves the simulator's API, relative to its base URL.
func (p *population) handler(log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/citizens/{id}", func(w http.ResponseWriter, r *http.Request) {
		user, purpose := cleanField(r.Header.Get(HeaderUserID)), cleanField(r.Header.Get(HeaderIssue))
		if user == "" || purpose == "" {
			problem(w, r, log, errNoEndUser)
			return
		}
		c, err := p.citizen(r.PathValue("id"))
		// The number itself stays out of the process log (personal data);
		// the access log keeps it, as the database's own record of who
		// read whose data.
		log.Debug("population simulator: citizen lookup", "found", err == nil, "end_user", user, "purpose", purpose)
		if !errors.Is(err, errs.ErrInvalid) {
			p.record(Lookup{At: p.now().UTC(), Client: cleanField(r.Header.Get(headerClient)), EndUser: user, Purpose: purpose,
				IDNumber: r.PathValue("id"), Found: err == nil})
		}
		if err != nil {
			problem(w, r, log, err)
			return
		}
		web.JSON(w, r, http.StatusOK, c)
	})
	mux.Handle("/v1/citizens/{id}", methodNotAllowed("GET, HEAD"))
	serveOpenAPI(mux, populationOpenAPI)
	mux.Handle("/", noRoute("GET /v1/citizens/{id}, GET /v1/openapi.json"))
	return simulatorHeader("population", mux)
}

// cleanField returns a header field's value with control and bidi
// characters dropped and cut to 200 bytes, as the access log keeps it.
func cleanField(v string) string {
	v = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, strings.TrimSpace(v))
	if len(v) > 200 {
		v = strings.ToValidUTF8(v[:200], "")
	}
	return v
}
