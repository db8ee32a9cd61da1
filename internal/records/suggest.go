package records

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"chancery/internal/authz"
	"chancery/internal/errs"
	"chancery/internal/identity"
	"chancery/internal/store"
	"chancery/internal/web"
)

// The assistant (issue 18, item 6) suggests, for an incoming document's
// text, its type, urgency, subject line and the unit that usually handles
// such documents. The clerk sees each as a suggestion with its confidence
// and accepts or changes it: nothing here writes a document.
//
// Type, urgency and handling unit are learned by a multinomial naive
// Bayes classifier over the folded words (unigrams and bigrams) of the
// incoming documents of the caller's own unit that the caller may see,
// trained for each request: a document the caller is not cleared for, or
// has no need to know, never reaches the model, so its words cannot tilt
// a suggestion (TestSuggestionsNeverLearnFromHiddenDocuments). The
// subject line is not learned: it is read from the text (the "V/v ..."
// line of a công văn, the line under a type's heading, else the first
// sentence).

// Limits of the assistant.
const (
	// maxSuggestText bounds the text a suggestion is asked for.
	maxSuggestText = 1 << 20
	// maxHistory bounds the documents one request learns from: the
	// unit's newest.
	maxHistory = 20000
	// minHistory is the fewest labelled documents a field is suggested
	// from; with fewer, the field is left without a suggestion.
	minHistory = 5
	// maxAlternatives is how many values a field's suggestion lists.
	maxAlternatives = 3
)

// Suggestions are the assistant's suggestions for an incoming document.
// A field is nil when there is nothing to suggest (too little history, or
// no subject line in the text).
type Suggestions struct {
	Type    *Suggested `json:"type"`
	Urgency *Suggested `json:"urgency"`
	Subject *Suggested `json:"subject"`
	// Handler is the unit that usually leads the handling of such
	// documents; its Value is the unit's id.
	Handler *Suggested `json:"handler"`
	// Basis is how many of the unit's documents the suggestions were
	// learned from.
	Basis int `json:"basis"`
}

// Suggested is one field's suggestion: the value most likely, its
// confidence (0 to 1: the classifier's posterior probability, or for the
// subject line how sure the rule that found it is) and the runners-up.
type Suggested struct {
	Value        string        `json:"value"`
	Confidence   float64       `json:"confidence"`
	Alternatives []Alternative `json:"alternatives,omitempty"`
}

// Alternative is a value a field might also take.
type Alternative struct {
	Value      string  `json:"value"`
	Confidence float64 `json:"confidence"`
}

// example is one labelled document of the history.
type example struct {
	features []string
	typ      string
	urgency  string
	handler  string // "" when no lead unit was assigned
}

// Suggest returns suggestions for an incoming document whose text is
// text (the scan's OCR or the file's text, or what the clerk pastes), to
// a caller who may register incoming documents, learned from the
// incoming documents of the caller's unit that the caller may see. It
// returns an error wrapping errs.ErrInvalid for text that is empty, too
// long or holds control characters, and an *authz.Refusal for a caller
// who may not register documents.
func (s *Service) Suggest(ctx context.Context, sub authz.Subject, text string) (*Suggestions, error) {
	res := authz.Resource{Kind: authz.KindRegister, Unit: sub.Unit}
	if dec, why := authz.Decide(sub, authz.Create, res); dec != authz.Allowed {
		return nil, authz.Refuse(dec, why, authz.Create, res, "")
	}
	text = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(text)
	if err := checkText("text", text, maxSuggestText, true, true); err != nil {
		return nil, err
	}
	where, args := visibleClause(sub, s.now())
	history, err := loadHistory(ctx, s.db, where+` AND d.unit_id = ?`, append(args, sub.Unit))
	if err != nil {
		return nil, err
	}
	m := train(history)
	out := m.suggest(features(text))
	out.Subject = subjectLine(text)
	return out, nil
}

// loadHistory returns the incoming documents matching where (on
// record_documents d), newest maxHistory of them, oldest first, labelled
// with their type, urgency and first lead unit.
func loadHistory(ctx context.Context, q store.Queryer, where string, args []any) ([]example, error) {
	rows, err := q.QueryContext(ctx, q.Rebind(`SELECT d.doc_type, d.urgency, d.subject, d.sender, d.number_symbol,
		COALESCE((SELECT a.unit_id FROM record_assignments a WHERE a.document_id = d.id AND a.role = 'lead' ORDER BY a.id LIMIT 1), 0)
		FROM record_documents d WHERE d.direction = 'incoming' AND `+where+` ORDER BY d.created_us DESC, d.id DESC LIMIT `+strconv.Itoa(maxHistory)), args...)
	if err != nil {
		return nil, fmt.Errorf("records: load the history of suggestions: %w", err)
	}
	defer rows.Close()
	var out []example
	for rows.Next() {
		var e example
		var urgency int
		var subject, sender, number string
		var handler int64
		if err := rows.Scan(&e.typ, &urgency, &subject, &sender, &number, &handler); err != nil {
			return nil, fmt.Errorf("records: load the history of suggestions: %w", err)
		}
		e.urgency = Urgency(urgency).String()
		if handler != 0 {
			e.handler = strconv.FormatInt(handler, 10)
		}
		e.features = features(number + "\n" + sender + "\n" + subject)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("records: load the history of suggestions: %w", err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// features returns the words of text, folded as the search folds them
// (no diacritics, lower case), without numbers alone (a document's
// number says nothing of its kind), and each pair of neighbouring words.
func features(text string) []string {
	var ws []string
	for _, w := range words(text) {
		if strings.TrimFunc(w, unicode.IsDigit) != "" && utf8.RuneCountInString(w) <= 64 {
			ws = append(ws, w)
		}
	}
	out := make([]string, 0, 2*len(ws))
	out = append(out, ws...)
	for i := 1; i < len(ws); i++ {
		out = append(out, ws[i-1]+" "+ws[i])
	}
	return out
}

// model is the three classifiers of a request.
type model struct {
	typ, urgency, handler bayes
	basis                 int
}

// train learns the classifiers from history.
func train(history []example) *model {
	m := &model{basis: len(history)}
	for _, e := range history {
		m.typ.add(e.typ, e.features)
		m.urgency.add(e.urgency, e.features)
		if e.handler != "" {
			m.handler.add(e.handler, e.features)
		}
	}
	return m
}

// suggest returns the classifiers' suggestions for the features f.
func (m *model) suggest(f []string) *Suggestions {
	return &Suggestions{Type: m.typ.suggest(f), Urgency: m.urgency.suggest(f), Handler: m.handler.suggest(f), Basis: m.basis}
}

// bayes is a multinomial naive Bayes classifier with add-one (Laplace)
// smoothing. Its zero value is empty and ready.
type bayes struct {
	docs    int
	classes map[string]*bayesClass
	vocab   map[string]struct{}
}

type bayesClass struct {
	docs, tokens int
	counts       map[string]int
}

func (b *bayes) add(label string, f []string) {
	if b.classes == nil {
		b.classes, b.vocab = map[string]*bayesClass{}, map[string]struct{}{}
	}
	c := b.classes[label]
	if c == nil {
		c = &bayesClass{counts: map[string]int{}}
		b.classes[label] = c
	}
	b.docs++
	c.docs++
	c.tokens += len(f)
	for _, w := range f {
		c.counts[w]++
		b.vocab[w] = struct{}{}
	}
}

// predict returns every class with its posterior probability, most
// likely first (ties by label, so that the answer is deterministic).
func (b *bayes) predict(f []string) []Alternative {
	v := float64(len(b.vocab) + 1)
	out := make([]Alternative, 0, len(b.classes))
	logs := make([]float64, 0, len(b.classes))
	for label, c := range b.classes {
		lp := math.Log(float64(c.docs) / float64(b.docs))
		for _, w := range f {
			if _, known := b.vocab[w]; !known {
				continue // a word never seen tells no class from another
			}
			lp += math.Log((float64(c.counts[w]) + 1) / (float64(c.tokens) + v))
		}
		out = append(out, Alternative{Value: label})
		logs = append(logs, lp)
	}
	// The posterior, by the log-sum-exp of the joint probabilities.
	top := math.Inf(-1)
	for _, l := range logs {
		top = max(top, l)
	}
	sum := 0.0
	for _, l := range logs {
		sum += math.Exp(l - top)
	}
	for i := range out {
		out[i].Confidence = math.Exp(logs[i]-top) / sum
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Confidence != out[j].Confidence {
			return out[i].Confidence > out[j].Confidence
		}
		return out[i].Value < out[j].Value
	})
	return out
}

// suggest returns the field's suggestion, or nil with too little history.
func (b *bayes) suggest(f []string) *Suggested {
	if b.docs < minHistory {
		return nil
	}
	ranked := b.predict(f)
	s := &Suggested{Value: ranked[0].Value, Confidence: round3(ranked[0].Confidence)}
	for _, a := range ranked[1:min(len(ranked), maxAlternatives)] {
		s.Alternatives = append(s.Alternatives, Alternative{Value: a.Value, Confidence: round3(a.Confidence)})
	}
	return s
}

// majority returns the most frequent class (the baseline a classifier
// must beat), ties by label.
func (b *bayes) majority() string {
	best, n := "", -1
	for label, c := range b.classes {
		if c.docs > n || c.docs == n && label < best {
			best, n = label, c.docs
		}
	}
	return best
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// Confidence of the subject line by the rule that found it.
const (
	subjectFromRegarding = 0.9 // a "V/v ..." or "Về việc ..." line
	subjectFromHeading   = 0.7 // the line under a type's heading
	subjectFromSentence  = 0.3 // the first sentence of some length
)

// subjectLine reads a subject line from text: the "V/v ..." (về việc)
// line of a công văn with the lines that continue it; else the line
// under a heading naming a document type ("QUYẾT ĐỊNH" / "Về việc ..."),
// prefixed with the type's name; else the first sentence of at least
// four words. It returns nil when the text has none.
func subjectLine(text string) *Suggested {
	lines := strings.Split(text, "\n")
	for i := range lines {
		lines[i] = strings.Join(strings.Fields(lines[i]), " ")
	}
	// paragraph returns line i with the non-empty lines after it, up to
	// a blank line or the salutation.
	paragraph := func(i int) string {
		parts := []string{lines[i]}
		for _, l := range lines[i+1:] {
			if l == "" || strings.HasPrefix(identity.Fold(l), "kinh gui") || len(parts) == 4 {
				break
			}
			parts = append(parts, l)
		}
		return strings.Join(parts, " ")
	}
	for i, l := range lines {
		f := identity.Fold(l)
		if strings.HasPrefix(f, "v/v ") || strings.HasPrefix(f, "ve viec ") {
			return subjectSuggestion(paragraph(i), subjectFromRegarding)
		}
	}
	for i, l := range lines {
		if name, ok := headingType(l); ok {
			for j := i + 1; j < len(lines); j++ {
				if lines[j] != "" {
					next := []rune(paragraph(j))
					return subjectSuggestion(name+" "+string(unicode.ToLower(next[0]))+string(next[1:]), subjectFromHeading)
				}
			}
		}
	}
	flat := strings.Join(strings.Fields(text), " ")
	for s := range strings.SplitSeq(flat, ". ") {
		if len(words(s)) >= 4 {
			return subjectSuggestion(s, subjectFromSentence)
		}
	}
	return nil
}

// headingType reports whether line is a heading naming a document type
// (as "QUYẾT ĐỊNH" is printed above a decision's subject) and returns the
// type's name as a subject begins it ("Quyết định").
func headingType(line string) (string, bool) {
	if line == "" || strings.ToUpper(line) != line {
		return "", false
	}
	f := identity.Fold(line)
	for _, t := range docTypes {
		name, _, _ := strings.Cut(t.NameVI, " (")
		if identity.Fold(name) == f {
			return name, true
		}
	}
	return "", false
}

// subjectSuggestion cleans a subject line read from text: characters a
// subject may not hold dropped, clipped to the subject's limit.
func subjectSuggestion(s string, confidence float64) *Suggested {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimRight(strings.TrimSpace(s), ".;:,")
	for len(s) > maxSubject {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	if s == "" {
		return nil
	}
	return &Suggested{Value: s, Confidence: confidence}
}

// registerSuggest adds the assistant's route: for whoever may register
// incoming documents (the service asks authz again, for the unit).
func (h *Handler) registerSuggest(rt *web.Router) {
	rt.HandleFunc("POST /api/v1/documents/suggestions", web.Staff(authz.KindRegister, authz.Create), h.apiSuggest)
}

func (h *Handler) apiSuggest(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Text string `json:"text"`
	}
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	out, err := h.svc.Suggest(r.Context(), web.SubjectFrom(r.Context()), req.Text)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, r, http.StatusOK, out)
}

// Evaluation is the assistant's accuracy on a unit's held-out history.
type Evaluation struct {
	UnitID int64
	// Train and Test count the older documents learned from and the
	// newer ones held out.
	Train, Test int
	Fields      []FieldScore
}

// FieldScore is one field's accuracy on the held-out documents, beside
// the majority-class baseline (always suggesting the most frequent value
// of the training part).
type FieldScore struct {
	Field              string
	Tested             int
	Accuracy, Baseline float64
}

// EvaluateSuggestions measures the assistant on the incoming documents of
// unit (every unit that has some, when unit is 0): for each unit, it
// learns from the older 80 % in order of registration and tests on the
// newer 20 %, as the assistant would have been used. It reads every
// document of the unit, whatever its level: it is the operator's tool
// and prints only counts and ratios. A unit without incoming documents
// answers errs.ErrNotFound.
func EvaluateSuggestions(ctx context.Context, db *store.DB, unit int64) ([]Evaluation, error) {
	units := []int64{unit}
	if unit == 0 {
		var err error
		if units, err = int64s(ctx, db, `SELECT DISTINCT unit_id FROM record_documents WHERE direction = 'incoming' ORDER BY unit_id`); err != nil {
			return nil, err
		}
	}
	var out []Evaluation
	for _, u := range units {
		history, err := loadHistory(ctx, db, `d.unit_id = ?`, []any{u})
		if err != nil {
			return nil, err
		}
		if len(history) == 0 {
			continue
		}
		out = append(out, evaluate(u, history))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no incoming documents to learn from (unit %d)", errs.ErrNotFound, unit)
	}
	return out, nil
}

// evaluate splits history (oldest first) 80/20 and scores each field.
func evaluate(unit int64, history []example) Evaluation {
	cut := len(history) * 8 / 10
	m := train(history[:cut])
	ev := Evaluation{UnitID: unit, Train: cut, Test: len(history) - cut}
	for _, f := range []struct {
		name  string
		b     *bayes
		label func(example) string
	}{
		{"type", &m.typ, func(e example) string { return e.typ }},
		{"urgency", &m.urgency, func(e example) string { return e.urgency }},
		{"handler", &m.handler, func(e example) string { return e.handler }},
	} {
		score := FieldScore{Field: f.name}
		base := f.b.majority()
		var right, baseRight int
		for _, e := range history[cut:] {
			want := f.label(e)
			if want == "" {
				continue // not handled yet: nothing to compare
			}
			score.Tested++
			if s := f.b.suggest(e.features); s != nil && s.Value == want {
				right++
			}
			if base == want {
				baseRight++
			}
		}
		if score.Tested > 0 {
			score.Accuracy, score.Baseline = float64(right)/float64(score.Tested), float64(baseRight)/float64(score.Tested)
		}
		ev.Fields = append(ev.Fields, score)
	}
	return ev
}
