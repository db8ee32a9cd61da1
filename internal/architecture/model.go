// Package architecture is the ministry's digital architecture repository:
// its ArchiMate model (elements, relationships, views, organisations),
// classified by the national framework's layers and reference models,
// linked to the framework's shared platforms (read-only reference content),
// versioned so that it can be read as it stood on any date, and exchanged
// with modelling tools in the Open Exchange Format (package archimate).
//
// The national framework is the Vietnam Digital Government Architecture
// Framework, version 4.0, issued by Decision 292/QĐ-BKHCN of 25 March 2025
// (replacing version 3.0, Decision 2568/QĐ-BTTTT of 29 December 2023, and
// its amendment, Decision 1729/QĐ-BTTTT of 9 October 2024: the decision's
// text, vbpl.ts24.com.vn); the ministry's own framework is Decision
// 4818/QĐ-BNG, "ensuring alignment with the Vietnam Digital Government
// Architecture Framework" and "a specific adaptation of the National
// Digital Architecture Framework" (the seeds). The latter, applied to the
// Party's, the National Assembly's and the courts' agencies as the seeds
// say, is the National Digital Architecture Framework ("Khung kiến trúc
// tổng thể quốc gia số") of Decision 3090/QĐ-BKHCN of 8 October 2025
// (replacing version 1.0, letter 1736/BKHCN-CĐSQG of 21 May 2025;
// thanhuyhue.vn, hethongphapluat.com): a second, overarching framework
// whose components the repository does not model yet.
package architecture

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"chancery/internal/architecture/archimate"
	"chancery/internal/errs"
)

// Origin says where an element or relationship comes from.
type Origin string

// The origins. Only the model's own concepts are edited; reference content
// ships with Chancery, discovered components are registered by the
// running node itself.
const (
	OriginModel      Origin = "model"
	OriginReference  Origin = "reference"
	OriginDiscovered Origin = "discovered"
)

// ReferenceModel is one of the national framework's five reference models,
// the categories every element can carry. What was verified, and where:
//   - Version 4.0 "updates the reference models: the business reference
//     model (BRM), the data reference model (DRM), the application
//     reference model (ARM) …" (skhcn.laocai.gov.vn's report of Decision
//     292/QĐ-BKHCN; the stored copy is cut after ARM).
//   - Version 3.0's five are BRM, DRM, ARM, the technology reference model
//     (TRM) and the network information security and cybersecurity
//     reference model (SRM, "Mô hình tham chiếu an toàn thông tin mạng, an
//     ninh mạng", renamed from 2.0's information security model to follow
//     those two laws) (vietnamnet.vn, vietbao.vn, January 2024).
//   - Version 2.0 had six: PRM (performance), BRM, ARM, DRM, IRM (technical
//     infrastructure) and SRM (its table of contents, 123doc.top); 3.0
//     dropped PRM and made IRM the TRM.
//
// So the five below are 3.0's, of which 4.0's first three are confirmed
// and none is reported dropped. The layers of 4.0's overview diagram
// ("sơ đồ khái quát": in 2.0 users, channels, the connection diagram,
// technical infrastructure, information security, direction and policy)
// were not found for 4.0 in what could be searched: the repository
// classifies by reference model and by ArchiMate layer, not by diagram
// layer.
type ReferenceModel string

// The reference models.
const (
	BRM ReferenceModel = "BRM"
	DRM ReferenceModel = "DRM"
	ARM ReferenceModel = "ARM"
	TRM ReferenceModel = "TRM"
	SRM ReferenceModel = "SRM"
)

// ReferenceModels lists the five in the framework's order.
func ReferenceModels() []ReferenceModel { return []ReferenceModel{BRM, DRM, ARM, TRM, SRM} }

// Phase is a stage of a component's lifecycle.
type Phase string

// The phases, in order.
const (
	PhasePlan   Phase = "plan"
	PhaseBuild  Phase = "build"
	PhaseRun    Phase = "run"
	PhaseRetire Phase = "retire"
)

// Lifecycle holds the dates (YYYY-MM-DD) a component entered each phase;
// empty means not (yet) in it.
type Lifecycle struct {
	Plan   string `json:"plan,omitempty"`
	Build  string `json:"build,omitempty"`
	Run    string `json:"run,omitempty"`
	Retire string `json:"retire,omitempty"`
}

// PhaseOn returns the phase the component is in on day (YYYY-MM-DD): the
// latest phase whose date is on or before it; "" before any.
func (l Lifecycle) PhaseOn(day string) Phase {
	var p Phase
	for _, s := range []struct {
		date  string
		phase Phase
	}{{l.Plan, PhasePlan}, {l.Build, PhaseBuild}, {l.Run, PhaseRun}, {l.Retire, PhaseRetire}} {
		if s.date != "" && s.date <= day {
			p = s.phase
		}
	}
	return p
}

// Classification places an element in the national framework: the
// reference-model categories it maps to (a code or name per model, such as
// ARM "Ứng dụng dùng chung").
type Classification map[ReferenceModel]string

// Property is a named value (the exchange format's properties by name).
type Property struct {
	Name  string         `json:"name"`
	Value archimate.Text `json:"value"`
}

// Element is an element of the repository.
type Element struct {
	ID            string         `json:"id"`
	Type          string         `json:"type"`
	Name          archimate.Text `json:"name"`
	Documentation archimate.Text `json:"documentation,omitempty"`
	Properties    []Property     `json:"properties,omitempty"`
	Origin        Origin         `json:"origin"`
	Lifecycle     Lifecycle      `json:"lifecycle"`
	// OwnerUnit is the identity unit responsible for the component; 0 for none.
	OwnerUnit int64 `json:"owner_unit,omitempty"`
	// AnnualCost is the yearly cost in đồng; 0 for unknown.
	AnnualCost int64          `json:"annual_cost,omitempty"`
	Framework  Classification `json:"framework,omitempty"`
	Version    int64          `json:"version"`
	UpdatedAt  time.Time      `json:"updated_at"`
}

// Layer returns the element's ArchiMate layer.
func (e *Element) Layer() archimate.Layer { l, _ := archimate.LayerOf(e.Type); return l }

// Prop returns the value of the named property in lang, or "".
func (e *Element) Prop(name, lang string) string {
	for _, p := range e.Properties {
		if p.Name == name {
			return p.Value.In(lang)
		}
	}
	return ""
}

// Relationship is a relationship of the repository.
type Relationship struct {
	ID            string         `json:"id"`
	Type          string         `json:"type"`
	Source        string         `json:"source"`
	Target        string         `json:"target"`
	Name          archimate.Text `json:"name,omitempty"`
	Documentation archimate.Text `json:"documentation,omitempty"`
	Properties    []Property     `json:"properties,omitempty"`
	AccessType    string         `json:"access_type,omitempty"`
	IsDirected    string         `json:"is_directed,omitempty"`
	Modifier      string         `json:"modifier,omitempty"`
	Origin        Origin         `json:"origin"`
	Version       int64          `json:"version"`
	UpdatedAt     time.Time      `json:"updated_at"`
}

// Change is one entry of the repository's history.
type Change struct {
	Seq    int64     `json:"seq"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Kind   string    `json:"kind"` // element | relationship | view | model
	ItemID string    `json:"item_id"`
	Op     string    `json:"op"` // create | update | delete
}

// Limits on what an edit may hold.
const (
	maxName  = 256
	maxDoc   = 8 << 10
	maxProps = 64
)

// checkText refuses a text value with invalid UTF-8, NUL, other control
// characters than tab and newlines, or bidi overrides, and past max bytes.
func checkText(field, s string, max int) error {
	if len(s) > max {
		return errs.Invalid(field, fmt.Sprintf("is %d bytes; at most %d", len(s), max))
	}
	if !utf8.ValidString(s) {
		return errs.Invalid(field, "is not valid UTF-8")
	}
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return errs.Invalid(field, fmt.Sprintf("holds the control character U+%04X", r))
		}
	}
	return nil
}

func checkLangText(field string, t archimate.Text, max int) error {
	for _, s := range t {
		if err := checkText(field, s.Text, max); err != nil {
			return err
		}
		if err := checkText(field+".lang", s.Lang, 35); err != nil {
			return err
		}
	}
	return nil
}

// isDay reports whether s is a date YYYY-MM-DD.
func isDay(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// validate checks an element as an edit or an import gives it.
func (e *Element) validate() error {
	if err := checkID(e.ID); err != nil {
		return err
	}
	if _, ok := archimate.LayerOf(e.Type); !ok {
		return errs.Invalid("type", fmt.Sprintf("%q is not an ArchiMate 3.2 element type", clip(e.Type)))
	}
	junction := e.Type == "AndJunction" || e.Type == "OrJunction"
	if !junction && (len(e.Name) == 0 || strings.TrimSpace(e.Name[0].Text) == "") {
		return errs.Invalid("name", "is required")
	}
	if err := checkLangText("name", e.Name, maxName); err != nil {
		return err
	}
	if err := checkLangText("documentation", e.Documentation, maxDoc); err != nil {
		return err
	}
	if err := checkProps(e.Properties); err != nil {
		return err
	}
	l := e.Lifecycle
	dates := []string{l.Plan, l.Build, l.Run, l.Retire}
	last := ""
	for i, d := range dates {
		if d == "" {
			continue
		}
		if !isDay(d) {
			return errs.Invalid("lifecycle", fmt.Sprintf("%q is not a date (YYYY-MM-DD)", clip(d)))
		}
		if d < last {
			return errs.Invalid("lifecycle", fmt.Sprintf("the %s date %s is before an earlier phase's", []Phase{PhasePlan, PhaseBuild, PhaseRun, PhaseRetire}[i], d))
		}
		last = d
	}
	if e.AnnualCost < 0 {
		return errs.Invalid("annual_cost", "is negative")
	}
	for m, v := range e.Framework {
		if !slices.Contains(ReferenceModels(), m) {
			return errs.Invalid("framework", fmt.Sprintf("%q is not a reference model (BRM, DRM, ARM, TRM, SRM)", clip(string(m))))
		}
		if err := checkText("framework", v, maxName); err != nil {
			return err
		}
	}
	return nil
}

func checkProps(ps []Property) error {
	if len(ps) > maxProps {
		return errs.Invalid("properties", fmt.Sprintf("%d properties; at most %d", len(ps), maxProps))
	}
	for _, p := range ps {
		if err := checkText("properties", p.Name, maxName); err != nil {
			return err
		}
		if p.Name == "" {
			return errs.Invalid("properties", "a property has no name")
		}
		if err := checkLangText("properties", p.Value, maxDoc); err != nil {
			return err
		}
	}
	return nil
}

func checkID(id string) error {
	if !archimate.IsIdentifier(id) {
		return errs.Invalid("id", fmt.Sprintf("%q is not an identifier (a letter or _, then letters, digits, _ . -, at most 128)", clip(id)))
	}
	return nil
}

func clip(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "…"
	}
	return s
}
