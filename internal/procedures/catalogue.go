// Package procedures is the Ministry's administrative procedure resolution
// system: the catalogue of procedures (as data, one embedded JSON file per
// procedure), the application forms (a JSON Schema subset, validated and
// rendered), the dossier lifecycle over the national status codes with its
// deadline clock, and dossier codes.
//
// This file and its peers are the pure domain: no storage, no HTTP.
package procedures

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"chancery/internal/errs"
	"chancery/internal/identity"
)

// Procedure is one administrative procedure of the catalogue, as the
// National Database on Administrative Procedures describes one. Values the
// regulations fix (code, time limit, fees, online level) carry a Basis
// saying where they come from or that they are assumptions.
type Procedure struct {
	// Code is the national procedure code, a digit, a dot and six digits,
	// e.g. 1.000487.
	Code      string `json:"code"`
	CodeBasis Basis  `json:"code_basis"`
	NameVI    string `json:"name_vi"`
	NameEN    string `json:"name_en"`
	// Field is the procedure's field (lĩnh vực).
	Field Field `json:"field"`
	// Basis states the procedure's legal basis (căn cứ pháp lý) in Source,
	// and marks a procedure whose place in the law in force is unconfirmed.
	Basis Basis `json:"basis"`
	// Units are the units in Viet Nam that implement the procedure; empty
	// when only missions do.
	Units []Unit `json:"units"`
	// AtMissions reports whether the missions abroad (embassies,
	// consulates general, permanent missions) implement the procedure.
	AtMissions bool      `json:"at_missions"`
	Online     Online    `json:"online"`
	Fees       []Fee     `json:"fees"`
	TimeLimit  TimeLimit `json:"time_limit"`
	// Documents are the papers a dossier holds besides the form.
	Documents []Document `json:"documents"`
	// Form is the application form.
	Form *Schema `json:"form"`
	// Applicant says where in the form the applicant's particulars are.
	Applicant Applicant `json:"applicant"`
	Result    Result    `json:"result"`
	// Steps are the internal processing steps, in order; their working
	// days add up to the time limit.
	Steps []Step `json:"steps"`
}

// Basis says where a value comes from. A value stated as fact names its
// Source; one that is not confirmed against the regulation in force is
// marked Assumption, with a Note saying what is assumed. Source names
// the regulation in English; SourceVI, which every Source needs, in
// Vietnamese, as citizens reading the Vietnamese pages cite it. The Note
// is for the catalogue's administrators, never shown to citizens.
type Basis struct {
	Source     string `json:"source,omitempty"`
	SourceVI   string `json:"source_vi,omitempty"`
	Assumption bool   `json:"assumption,omitempty"`
	Note       string `json:"note,omitempty"`
}

// Applicant locates the applicant's particulars in a procedure's form, by
// JSON pointers to string fields: what a dossier is filed under, where its
// notices go, and which fields the National Population Database may fill.
// Forms differ (the applicant, the passport holder, the requester of a
// birth registration), so each procedure says where its fields are.
type Applicant struct {
	// Name is the applicant's name: one field, or several joined by a
	// space (surname and given names). Required.
	Name []string `json:"name"`
	// Email is where notices go; empty when the form has no address.
	Email string `json:"email,omitempty"`
	// IDNumber is the 12-digit personal identification number, by which
	// the form is prefilled; empty when the form does not ask for it.
	IDNumber string `json:"id_number,omitempty"`
	// IDType is the choice of identity document, whose value IDCard the
	// prefill sets: the number it looks up is a citizen identity card's,
	// which the database confirms. Empty when the form does not ask.
	IDType string `json:"id_type,omitempty"`
	// DateOfBirth, Sex and PlaceOfBirth are filled from the population
	// database when present.
	DateOfBirth  string `json:"date_of_birth,omitempty"`
	Sex          string `json:"sex,omitempty"`
	PlaceOfBirth string `json:"place_of_birth,omitempty"`
}

// Field is a procedure's field (lĩnh vực), such as consular affairs.
type Field struct {
	Code   string `json:"code"` // lower-case ASCII and hyphens, e.g. "civil-status"
	NameVI string `json:"name_vi"`
	NameEN string `json:"name_en"`
}

// Unit is a unit in Viet Nam that implements a procedure.
type Unit struct {
	// AgencyCode is the unit's electronic agency code, e.g. 000.00.03.G12.
	AgencyCode string `json:"agency_code"`
	NameVI     string `json:"name_vi"`
	NameEN     string `json:"name_en"`
	// Basis marks a unit whose code is not confirmed; it may be empty.
	Basis Basis `json:"basis,omitzero"`
}

// OnlineLevel is how far a procedure can be done online.
type OnlineLevel string

// The online levels of Decree 42/2022/NĐ-CP.
const (
	OnlineFull    OnlineLevel = "full"    // toàn trình: submission, payment and result online
	OnlinePartial OnlineLevel = "partial" // một phần: some step needs the applicant in person
)

// Key returns the i18n key of the level's name.
func (l OnlineLevel) Key() string { return "procedures.online." + string(l) }

// Online is a procedure's online level and its basis.
type Online struct {
	Level OnlineLevel `json:"level"`
	Basis
}

// Where is where a fee is charged.
type Where string

// The places a procedure is implemented.
const (
	AtHome    Where = "home"    // at units in Viet Nam, in VND
	AtMission Where = "mission" // at missions abroad, in USD
)

// Key returns the i18n key of the place's name.
func (w Where) Key() string { return "procedures.where." + string(w) }

// Fee is one fee or charge of a procedure. Amounts are whole units of the
// currency: VND has no minor unit, and the missions' schedules are in
// whole US dollars.
type Fee struct {
	Where         Where  `json:"where"`
	DescriptionVI string `json:"description_vi"` // what is charged, e.g. "mỗi giấy tờ"
	DescriptionEN string `json:"description_en"`
	Amount        int64  `json:"amount"` // 0: free
	// Currency is VND at home and USD at missions.
	Currency string `json:"currency"`
	// LocalCurrency reports whether a mission may collect the amount in
	// the host country's currency, at the rate it applies.
	LocalCurrency bool `json:"local_currency,omitempty"`
	Basis
}

// TimeLimit is the time a unit has to resolve a complete dossier.
type TimeLimit struct {
	WorkingDays int `json:"working_days"`
	Basis
}

// Document is a paper a dossier must or may hold.
type Document struct {
	// Key names the document for attachments: lower-case ASCII, digits and
	// underscores.
	Key    string `json:"key"`
	NameVI string `json:"name_vi"`
	NameEN string `json:"name_en"`
	// Originals and Copies are how many of each the dossier holds, as the
	// national database lists them ("bản chính", "bản sao").
	Originals int  `json:"originals"`
	Copies    int  `json:"copies"`
	Required  bool `json:"required"`
}

// ResultType is the kind of result a procedure gives.
type ResultType string

// The result types.
const (
	ResultLegalizationStamp  ResultType = "legalization_stamp"
	ResultCertificationStamp ResultType = "certification_stamp"
	ResultPassport           ResultType = "passport"
	ResultVisa               ResultType = "visa"
	ResultCertificate        ResultType = "certificate"
	ResultWrittenResponse    ResultType = "written_response"
)

// ResultTypes lists the result types.
var ResultTypes = []ResultType{ResultLegalizationStamp, ResultCertificationStamp, ResultPassport, ResultVisa, ResultCertificate, ResultWrittenResponse}

// Key returns the i18n key of the result type's name.
func (t ResultType) Key() string { return "procedures.result." + string(t) }

// Result is what a procedure gives the applicant.
type Result struct {
	Type   ResultType `json:"type"`
	NameVI string     `json:"name_vi"` // e.g. "Giấy khai sinh"
	NameEN string     `json:"name_en"`
}

// Step is one internal processing step.
type Step struct {
	Key    string `json:"key"`
	NameVI string `json:"name_vi"`
	NameEN string `json:"name_en"`
	// Role is who takes the step: clerk, officer or approver.
	Role Role `json:"role"`
	// WorkingDays is the step's share of the time limit, in quarters of a
	// working day (0.25, 0.5, …).
	WorkingDays float64 `json:"working_days"`
}

// Limits on the catalogue's values.
const (
	maxText         = 500 // characters in a name or description
	maxNote         = 2000
	maxTimeLimit    = 365 // working days
	stepGranularity = 4   // steps are counted in quarter days
)

var (
	procedureCode = regexp.MustCompile(`^[0-9]\.[0-9]{6}$`)
	slug          = regexp.MustCompile(`^[a-z][a-z0-9-]{0,63}$`)
	key           = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

// checker collects every broken field, so an administrator fixes a file in
// one pass.
type checker struct{ errs []error }

func (c *checker) fail(field, format string, args ...any) {
	c.errs = append(c.errs, errs.Invalid(field, fmt.Sprintf(format, args...)))
}

// text checks a required human-readable text: present, valid UTF-8 in NFC
// (precomposed letters, as people type them and search indexes expect),
// free of control characters, at most limit characters.
// keyRule is what a document's or a step's key must be.
const keyRule = "must be lower-case ASCII letters, digits and underscores"

// once checks a value that identifies one item of a list: well formed
// (valid, else rule is the complaint) and not used by an item before it,
// which seen holds.
func (c *checker) once(field, v string, valid bool, rule string, seen map[string]bool) {
	switch {
	case !valid:
		c.fail(field, "%s", rule)
	case seen[v]:
		c.fail(field, "%q is used twice", v)
	}
	seen[v] = true
}

// names checks an item's Vietnamese and English names.
func (c *checker) names(prefix, vi, en string) {
	c.text(prefix+".name_vi", vi, maxText)
	c.text(prefix+".name_en", en, maxText)
}

func (c *checker) text(field, s string, limit int) {
	switch {
	case strings.TrimSpace(s) == "":
		c.fail(field, "is required")
	case !utf8.ValidString(s):
		c.fail(field, "is not valid UTF-8 text")
	case !norm.NFC.IsNormalString(s):
		c.fail(field, "holds decomposed letters (a letter followed by combining marks); write it with precomposed (NFC) letters")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		c.fail(field, "must not contain control characters such as tabs or line breaks")
	case utf8.RuneCountInString(s) > limit:
		c.fail(field, "is longer than %d characters", limit)
	}
}

// basis checks a Basis; required ones must name a source or be marked as
// an assumption, and every assumption must say what it assumes.
func (c *checker) basis(field string, b Basis, required bool) {
	if required && strings.TrimSpace(b.Source) == "" && !b.Assumption {
		c.fail(field, "must name its source, or be marked \"assumption\": true with a note; a value is never presented as fact without one")
	}
	if b.Assumption && strings.TrimSpace(b.Note) == "" {
		c.fail(field+".note", "must say what is assumed and what to check")
	}
	if b.Source != "" {
		c.text(field+".source", b.Source, maxNote)
	}
	if (b.Source == "") != (b.SourceVI == "") {
		c.fail(field+".source_vi", "must name the same source in Vietnamese as \"source\" does in English (both or neither)")
	} else if b.SourceVI != "" {
		c.text(field+".source_vi", b.SourceVI, maxNote)
	}
	if b.Note != "" {
		c.text(field+".note", b.Note, maxNote)
	}
}

// Validate checks the procedure. It returns nil, or an error wrapping
// errs.ErrInvalid that joins one *errs.FieldError per broken field, named
// by its path in the JSON file (e.g. "fees[1].currency").
func (p *Procedure) Validate() error {
	c := &checker{}
	if !procedureCode.MatchString(p.Code) {
		c.fail("code", "must be a national procedure code: a digit, a dot and six digits, e.g. 1.000487")
	}
	c.basis("code_basis", p.CodeBasis, true)
	c.text("name_vi", p.NameVI, maxText)
	c.text("name_en", p.NameEN, maxText)
	if !slug.MatchString(p.Field.Code) {
		c.fail("field.code", "must be lower-case ASCII letters, digits and hyphens, e.g. civil-status")
	}
	c.names("field", p.Field.NameVI, p.Field.NameEN)
	c.basis("basis", p.Basis, true)
	p.validateUnits(c)
	if p.Online.Level != OnlineFull && p.Online.Level != OnlinePartial {
		c.fail("online.level", "must be %q or %q", OnlineFull, OnlinePartial)
	}
	c.basis("online", p.Online.Basis, true)
	p.validateFees(c)
	if d := p.TimeLimit.WorkingDays; d < 1 || d > maxTimeLimit {
		c.fail("time_limit.working_days", "must be a whole number of working days from 1 to %d", maxTimeLimit)
	}
	c.basis("time_limit", p.TimeLimit.Basis, true)
	p.validateDocuments(c)
	if !p.Form.compiled() {
		c.fail("form", "is required: the application form's JSON Schema")
	} else {
		p.validateApplicant(c)
	}
	if !slices.Contains(ResultTypes, p.Result.Type) {
		c.fail("result.type", "must be one of %s", joinNames(ResultTypes))
	}
	c.names("result", p.Result.NameVI, p.Result.NameEN)
	p.validateSteps(c)
	return errors.Join(c.errs...)
}

func (p *Procedure) validateApplicant(c *checker) {
	a := p.Applicant
	if len(a.Name) == 0 {
		c.fail("applicant.name", "is required: the pointers of the form fields that hold the applicant's name")
	}
	check := func(field, ptr string) {
		if ptr != "" && !p.Form.isText(ptr) {
			c.fail(field, "%q is not a text field of the form; write a JSON pointer such as /applicant/full_name", ptr)
		}
	}
	for i, ptr := range a.Name {
		if ptr == "" {
			c.fail(fmt.Sprintf("applicant.name[%d]", i), "is empty")
		}
		check(fmt.Sprintf("applicant.name[%d]", i), ptr)
	}
	check("applicant.email", a.Email)
	check("applicant.id_number", a.IDNumber)
	if a.IDType != "" && !p.Form.hasChoice(a.IDType, IDCard) {
		c.fail("applicant.id_type", "%q is not a choice of the form offering %q (the citizen identity card)", a.IDType, IDCard)
	}
	check("applicant.date_of_birth", a.DateOfBirth)
	check("applicant.sex", a.Sex)
	check("applicant.place_of_birth", a.PlaceOfBirth)
}

func (p *Procedure) validateUnits(c *checker) {
	if len(p.Units) == 0 && !p.AtMissions {
		c.fail("units", "name at least one implementing unit, or set at_missions")
	}
	seen := map[string]bool{}
	for i, u := range p.Units {
		f := fmt.Sprintf("units[%d]", i)
		c.once(f+".agency_code", u.AgencyCode, identity.IsAgencyCode(u.AgencyCode),
			"must be an electronic agency code of the form NNN.NN.NN.XNN, e.g. 000.00.03.G12", seen)
		c.names(f, u.NameVI, u.NameEN)
		c.basis(f+".basis", u.Basis, false)
	}
}

// validateFees checks that each place the procedure is done at states its
// fees, in that place's currency; a free procedure states a fee of 0, so
// that "free" is a decision on record, not an omission.
func (p *Procedure) validateFees(c *checker) {
	stated := map[Where]bool{}
	for i, f := range p.Fees {
		field := fmt.Sprintf("fees[%d]", i)
		switch f.Where {
		case AtHome:
			if len(p.Units) == 0 {
				c.fail(field+".where", "is home, but no unit in Viet Nam implements the procedure")
			}
			if f.Currency != "VND" {
				c.fail(field+".currency", "must be VND at home")
			}
			if f.LocalCurrency {
				c.fail(field+".local_currency", "applies only at missions")
			}
		case AtMission:
			if !p.AtMissions {
				c.fail(field+".where", "is mission, but at_missions is false")
			}
			if f.Currency != "USD" {
				c.fail(field+".currency", "must be USD at missions (the schedule's currency; set local_currency when a mission may collect the equivalent)")
			}
		default:
			c.fail(field+".where", "must be %q or %q", AtHome, AtMission)
		}
		stated[f.Where] = true
		c.text(field+".description_vi", f.DescriptionVI, maxText)
		c.text(field+".description_en", f.DescriptionEN, maxText)
		if f.Amount < 0 {
			c.fail(field+".amount", "must not be negative; state 0 for a free procedure")
		}
		c.basis(field, f.Basis, true)
	}
	if len(p.Units) > 0 && !stated[AtHome] {
		c.fail("fees", "state the fee at home (where: home, in VND; amount 0 if free)")
	}
	if p.AtMissions && !stated[AtMission] {
		c.fail("fees", "state the fee at missions (where: mission, in USD; amount 0 if free)")
	}
}

func (p *Procedure) validateDocuments(c *checker) {
	seen := map[string]bool{}
	for i, d := range p.Documents {
		f := fmt.Sprintf("documents[%d]", i)
		c.once(f+".key", d.Key, key.MatchString(d.Key), keyRule, seen)
		c.names(f, d.NameVI, d.NameEN)
		if d.Originals < 0 || d.Copies < 0 || d.Originals+d.Copies == 0 {
			c.fail(f, "must hold at least one original or copy, and no negative count")
		}
	}
}

// validateSteps checks the processing steps: one-stop-shop intake means a
// clerk takes the first, a decision needs an approver, and the steps'
// shares add up to exactly the time limit, so the internal procedure
// promises what the published one does.
func (p *Procedure) validateSteps(c *checker) {
	if len(p.Steps) == 0 {
		c.fail("steps", "list the processing steps, a clerk's intake first")
		return
	}
	seen := map[string]bool{}
	var total float64
	approver := false
	for i, s := range p.Steps {
		f := fmt.Sprintf("steps[%d]", i)
		c.once(f+".key", s.Key, key.MatchString(s.Key), keyRule, seen)
		c.names(f, s.NameVI, s.NameEN)
		if !slices.Contains(StaffRoles, s.Role) {
			c.fail(f+".role", "must be one of %s", joinNames(StaffRoles))
		}
		approver = approver || s.Role == RoleApprover
		if q := s.WorkingDays * stepGranularity; s.WorkingDays <= 0 || q != math.Trunc(q) || s.WorkingDays > maxTimeLimit {
			c.fail(f+".working_days", "must be a positive number of quarter working days (0.25, 0.5, 1, …)")
		}
		total += s.WorkingDays
	}
	if p.Steps[0].Role != RoleClerk {
		c.fail("steps[0].role", "must be clerk: a dossier is received at the one-stop shop")
	}
	if !approver {
		c.fail("steps", "need an approver's step: someone decides")
	}
	if total != float64(p.TimeLimit.WorkingDays) {
		c.fail("steps", "add up to %g working days, but the time limit is %d", total, p.TimeLimit.WorkingDays)
	}
}

// ImplementedBy reports whether the unit with agencyCode implements the
// procedure; mission says whether that unit is a mission abroad.
func (p *Procedure) ImplementedBy(agencyCode string, mission bool) bool {
	if mission {
		return p.AtMissions
	}
	return slices.ContainsFunc(p.Units, func(u Unit) bool { return u.AgencyCode == agencyCode })
}

// FeesAt returns the fees charged at home or at missions.
func (p *Procedure) FeesAt(w Where) []Fee {
	var out []Fee
	for _, f := range p.Fees {
		if f.Where == w {
			out = append(out, f)
		}
	}
	return out
}

// ParseProcedure decodes and validates one procedure file. Unknown fields
// are refused, so a misspelt field is reported rather than silently lost.
// Errors wrap errs.ErrInvalid and name the broken field.
func ParseProcedure(data []byte) (*Procedure, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Procedure
	if err := dec.Decode(&p); err != nil {
		return nil, decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: unexpected data after the procedure object", errs.ErrInvalid)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// decodeError names the field a decoding error is about where it can.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.Is(err, errs.ErrInvalid):
		// Only the form's schema fails this way while decoding; its
		// fields are JSON pointers within "form".
		return underField("form", err)
	case errors.As(err, &te):
		return errs.Invalid(te.Field, fmt.Sprintf("must be a JSON %s, not %s", jsonKind(te.Type.Kind().String()), te.Value))
	case errors.As(err, &se):
		return fmt.Errorf("%w: not valid JSON at byte %d: %v", errs.ErrInvalid, se.Offset, se)
	}
	// encoding/json reports an unknown field only in its message.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return errs.Invalid(strings.Trim(name, `"`), "is not a field of a procedure; check its spelling and place")
	}
	return fmt.Errorf("%w: not a procedure object: %v", errs.ErrInvalid, err)
}

// underField places each of err's errors (one, or those errors.Join
// joined) under the field prefix.
func underField(prefix string, err error) error {
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	out := make([]error, len(list))
	for i, e := range list {
		var fe *errs.FieldError
		if errors.As(e, &fe) {
			out[i] = errs.Invalid(prefix+fe.Field, fe.Message)
		} else {
			out[i] = fmt.Errorf("%s: %w", prefix, e)
		}
	}
	return errors.Join(out...)
}

// jsonKind names a Go kind the way a JSON author thinks of it.
func jsonKind(k string) string {
	switch k {
	case "int", "int64", "float64":
		return "number"
	case "slice":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	case "bool":
		return "boolean"
	}
	return k
}

func joinNames[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// Catalogue is the set of procedures. It is immutable and safe for
// concurrent use; an edited catalogue is a new one from LoadCatalogue.
type Catalogue struct {
	list   []*Procedure // by code
	byCode map[string]*Procedure
	folded map[string]string // code → folded search text
}

//go:embed catalogue/*.json
var builtin embed.FS

// BuiltinCatalogue loads the catalogue shipped with Chancery: the
// Ministry's procedures, one file per procedure under catalogue/.
func BuiltinCatalogue() (*Catalogue, error) {
	sub, err := fs.Sub(builtin, "catalogue")
	if err != nil {
		return nil, fmt.Errorf("procedures: built-in catalogue: %w", err)
	}
	return LoadCatalogue(sub)
}

// LoadCatalogue loads every procedure file at the root of fsys: one file
// per procedure, named by its code ("1.000487.json"). It refuses the whole
// catalogue when any file is bad, naming each bad file and field, and
// when two files give one field (lĩnh vực) different names. The error
// wraps errs.ErrInvalid.
func LoadCatalogue(fsys fs.FS) (*Catalogue, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("procedures: read catalogue: %w", err)
	}
	c := &Catalogue{byCode: map[string]*Procedure{}, folded: map[string]string{}}
	fields := map[string]Field{}
	var bad []error
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || path.Ext(name) != ".json" {
			bad = append(bad, fmt.Errorf("procedures: catalogue file %s: %w: the catalogue holds only procedure files named CODE.json", name, errs.ErrInvalid))
			continue
		}
		p, err := loadFile(fsys, name)
		if err != nil {
			bad = append(bad, inFile(name, err)...)
			continue
		}
		if f, ok := fields[p.Field.Code]; ok && f != p.Field {
			bad = append(bad, fmt.Errorf("procedures: catalogue file %s: %w", name,
				errs.Invalid("field", fmt.Sprintf("field %s is named %q / %q elsewhere; use the same names", f.Code, f.NameVI, f.NameEN))))
			continue
		}
		fields[p.Field.Code] = p.Field
		c.list = append(c.list, p)
		c.byCode[p.Code] = p
		c.folded[p.Code] = identity.Fold(strings.Join([]string{p.Code, p.NameVI, p.NameEN, p.Field.NameVI, p.Field.NameEN}, "\x1f"))
	}
	if len(bad) > 0 {
		return nil, errors.Join(bad...)
	}
	if len(c.list) == 0 {
		return nil, fmt.Errorf("procedures: %w: the catalogue has no procedure files", errs.ErrInvalid)
	}
	slices.SortFunc(c.list, func(a, b *Procedure) int { return strings.Compare(a.Code, b.Code) })
	return c, nil
}

// inFile names the file on each of err's errors, so every line of a
// joined report says where to look.
func inFile(name string, err error) []error {
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	out := make([]error, len(list))
	for i, e := range list {
		out[i] = fmt.Errorf("procedures: catalogue file %s: %w", name, e)
	}
	return out
}

func loadFile(fsys fs.FS, name string) (*Procedure, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	p, err := ParseProcedure(data)
	if err != nil {
		return nil, err
	}
	if want := p.Code + ".json"; name != want {
		// Naming files by code makes two files with one code impossible.
		return nil, errs.Invalid("code", fmt.Sprintf("is %s, so the file must be named %s", p.Code, want))
	}
	return p, nil
}

// Procedures returns every procedure, by code. The procedures are shared:
// callers must not modify them.
func (c *Catalogue) Procedures() []*Procedure { return slices.Clone(c.list) }

// Procedure returns the procedure with the national code, or an error
// wrapping errs.ErrNotFound.
func (c *Catalogue) Procedure(code string) (*Procedure, error) {
	p, ok := c.byCode[code]
	if !ok {
		return nil, fmt.Errorf("%w: no procedure has code %q; list the catalogue for the codes", errs.ErrNotFound, code)
	}
	return p, nil
}

// Fields returns the catalogue's fields (lĩnh vực), by code.
func (c *Catalogue) Fields() []Field {
	var out []Field
	for _, p := range c.list {
		if !slices.Contains(out, p.Field) {
			out = append(out, p.Field)
		}
	}
	slices.SortFunc(out, func(a, b Field) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// ForUnit returns the procedures the unit with agencyCode implements, by
// code; mission says whether the unit is a mission abroad.
func (c *Catalogue) ForUnit(agencyCode string, mission bool) []*Procedure {
	var out []*Procedure
	for _, p := range c.list {
		if p.ImplementedBy(agencyCode, mission) {
			out = append(out, p)
		}
	}
	return out
}

// Search returns the procedures whose code, names or field match every
// word of query, by code. Matching ignores case and Vietnamese
// diacritics, so "ho chieu" finds "Hộ chiếu". An empty query matches all.
func (c *Catalogue) Search(query string) []*Procedure {
	words := strings.Fields(identity.Fold(query))
	var out []*Procedure
	for _, p := range c.list {
		text := c.folded[p.Code]
		if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(text, w) }) {
			out = append(out, p)
		}
	}
	return out
}
