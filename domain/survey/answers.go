package survey

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Shown returns the ids of the sections and items shown to a respondent
// who has given answers (skip conditions applied in order: an item hidden
// by its condition, or in a hidden section, counts as unanswered for the
// conditions after it).
func (q Questionnaire) Shown(answers Answers) map[string]bool {
	shown := map[string]bool{}
	for _, s := range q.Sections {
		if s.ShowIf != nil && !q.holds(*s.ShowIf, answers, shown) {
			continue
		}
		shown[s.ID] = true
		for _, it := range s.Items {
			if it.ShowIf == nil || q.holds(*it.ShowIf, answers, shown) {
				shown[it.ID] = true
			}
		}
	}
	return shown
}

// holds says whether a condition holds: the item it names is shown and
// its answer, in canonical form, has one of the condition's values.
func (q Questionnaire) holds(c Condition, answers Answers, shown map[string]bool) bool {
	if !shown[c.Item] {
		return false
	}
	it, ok := q.Item(c.Item)
	if !ok {
		return false
	}
	for _, v := range answers[c.Item] {
		if slices.Contains(c.In, it.canonical(v)) {
			return true
		}
	}
	return false
}

// Check checks answers against the questionnaire: every answer must name
// an item and have a valid value for its kind; when final, every required
// item that is shown must be answered. It returns a *ValidationError
// (Answers true) naming every problem by item id, or nil. Answers to
// hidden items are not errors (Clean drops them).
func (q Questionnaire) Check(answers Answers, final bool) error {
	var ps problems
	shown := q.Shown(answers)
	for _, it := range q.Items() {
		if !shown[it.ID] {
			continue
		}
		values, answered := answers[it.ID]
		if answered {
			it.check(&ps, values)
		}
		if final && it.Required && !hasAnswer(it, values) {
			ps.add(it.ID, ProblemRequired, "the item is required")
		}
	}
	var unknown []string
	for id := range answers {
		if _, ok := q.Item(id); !ok {
			unknown = append(unknown, id)
		}
	}
	slices.Sort(unknown)
	for _, id := range unknown {
		ps.add(clip(id), ProblemUnknown, "no item has the id %q", clip(id))
	}
	if len(ps) > 0 {
		return &ValidationError{Answers: true, Problems: ps}
	}
	return nil
}

// hasAnswer says whether values answer the item: at least one value that
// is not blank.
func hasAnswer(it Item, values []string) bool {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}

// check adds the problems of one item's values.
func (it Item) check(ps *problems, values []string) {
	if len(values) > 1 && it.Kind != KindMultiple {
		ps.add(it.ID, ProblemTooMany, "one value is allowed, not %d", len(values))
		return
	}
	if len(values) > MaxOptions {
		ps.add(it.ID, ProblemTooMany, "%d values; the item has at most %d options", len(values), MaxOptions)
		return
	}
	for _, raw := range values {
		v := strings.TrimSpace(raw)
		if v == "" {
			continue // blank is no answer
		}
		switch it.Kind {
		case KindLikert, KindSingle, KindMultiple:
			if !slices.Contains(it.values(), v) {
				ps.add(it.ID, ProblemNotInList, "%q is not one of the item's values", clip(v))
			}
		case KindNumber:
			f, ok := ParseNumber(v)
			switch {
			case !ok:
				ps.add(it.ID, ProblemNotANumber, "%q is not a number", clip(v))
			case it.Integer && f != math.Trunc(f):
				ps.add(it.ID, ProblemNotInteger, "%s is not a whole number", formatNumber(f))
			case it.Min != nil && f < *it.Min:
				ps.add(it.ID, ProblemTooSmall, "%s is below the smallest allowed, %s", formatNumber(f), formatNumber(*it.Min))
			case it.Max != nil && f > *it.Max:
				ps.add(it.ID, ProblemTooLarge, "%s is above the largest allowed, %s", formatNumber(f), formatNumber(*it.Max))
			}
		case KindText:
			if n := utf8.RuneCountInString(v); n > it.TextLimit() {
				ps.add(it.ID, ProblemTooLong, "%d characters; at most %d are allowed", n, it.TextLimit())
			}
		}
	}
}

// TextLimit is a text item's limit in characters: MaxLength, or
// DefaultMaxLength when it sets none.
func (it Item) TextLimit() int {
	if it.MaxLength > 0 {
		return it.MaxLength
	}
	return DefaultMaxLength
}

// Clean returns the answers without those to items that are not shown,
// and with each value in its canonical form (numbers as Go formats them,
// a multiple item's codes in option order).
//
// Clean also drops blank values (no answer), an answer left with none,
// and a multiple item's codes that are not its options; run Check first
// to refuse bad values rather than lose them.
func (q Questionnaire) Clean(answers Answers) Answers {
	shown := q.Shown(answers)
	out := Answers{}
	for _, it := range q.Items() {
		values, ok := answers[it.ID]
		if !ok || !shown[it.ID] {
			continue
		}
		var clean []string
		if it.Kind == KindMultiple {
			chosen := map[string]bool{}
			for _, v := range values {
				chosen[strings.TrimSpace(v)] = true
			}
			for _, o := range it.Options {
				if chosen[o.Code] {
					clean = append(clean, o.Code)
				}
			}
		} else {
			for _, v := range values {
				if c := it.canonical(v); c != "" {
					clean = append(clean, c)
				}
			}
		}
		if len(clean) > 0 {
			out[it.ID] = clean
		}
	}
	return out
}

// canonical is a value's canonical form for the item's kind: trimmed, and
// a number as strconv.FormatFloat(f, 'f', -1, 64) writes it.
func (it Item) canonical(v string) string {
	v = strings.TrimSpace(v)
	if it.Kind == KindNumber {
		if f, ok := ParseNumber(v); ok {
			return formatNumber(f)
		}
	}
	return v
}

var (
	plainNumber   = regexp.MustCompile(`^[+-]?[0-9]+([.,][0-9]+)?$`)
	groupedNumber = regexp.MustCompile(`^[+-]?[0-9]{1,3}( [0-9]{3})+([.,][0-9]+)?$`)
)

// ParseNumber reads a number as respondents write it: a decimal comma or
// point ("2,5", "2.5"), spaces (also no-break spaces) as thousands
// separators ("1 200"), a leading sign (also the minus sign U+2212). No
// exponents, no thousands points: "1.200" is one point two.
func ParseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	s = strings.NewReplacer("\u00a0", " ", "\u202f", " ", "\u2212", "-").Replace(s)
	if len(s) > 64 || (!plainNumber.MatchString(s) && !groupedNumber.MatchString(s)) {
		return 0, false
	}
	s = strings.ReplaceAll(strings.ReplaceAll(s, " ", ""), ",", ".")
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	if f == 0 {
		f = 0 // no "-0"
	}
	return f, true
}

// Equal reports whether two definitions are the same but for their
// Version: the same JSON, so publishing the same definition again can
// publish nothing. A nil and an empty text, list or option set that JSON
// leaves out alike are equal.
func (q Questionnaire) Equal(o Questionnaire) bool {
	q.Version, o.Version = 0, 0
	a, errA := json.Marshal(q)
	b, errB := json.Marshal(o)
	// Only a NaN or infinite min or max fails to encode, and Validate
	// refuses those: such a definition equals nothing.
	return errA == nil && errB == nil && bytes.Equal(a, b)
}
