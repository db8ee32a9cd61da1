package govsim

import (
	_ "embed"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

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
}

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
		c, err := p.citizen(r.PathValue("id"))
		// The number itself stays out of the log (personal data).
		log.Debug("population simulator: citizen lookup", "found", err == nil)
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
