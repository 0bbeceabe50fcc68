package survey

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrInvalidQuestionnaire is what every *ValidationError of a definition
// Is; ErrInvalidAnswers every *ValidationError of answers.
var (
	ErrInvalidQuestionnaire = errors.New("invalid questionnaire")
	ErrInvalidAnswers       = errors.New("invalid answers")
)

// Problem codes. Pages word them from their code (locale: survey.problem.<code>).
const (
	ProblemRequired    = "required"     // a required field or answer is missing
	ProblemInvalid     = "invalid"      // a value has the wrong form (a bad id, a bad kind, ...)
	ProblemDuplicate   = "duplicate"    // an id or code used twice
	ProblemUnknown     = "unknown"      // names an item, option or language that does not exist
	ProblemNotInList   = "not_in_list"  // an answer that is not one of the item's values
	ProblemNotANumber  = "not_a_number" // a number item's answer is not a number
	ProblemNotInteger  = "not_integer"  // a whole number was asked for
	ProblemTooSmall    = "too_small"    // below the item's Min
	ProblemTooLarge    = "too_large"    // above the item's Max
	ProblemTooLong     = "too_long"     // free text longer than MaxLength
	ProblemTooMany     = "too_many"     // more than one value where one is allowed
	ProblemForwardSkip = "forward_skip" // a condition names an item that is not before it
)

// Problem is one thing wrong with a definition or with answers.
type Problem struct {
	// Path names the place: in a definition "sections[1].items[0].scale.points"
	// (indexes from 0), in answers the item's id.
	Path    string `json:"path"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ValidationError names every problem found, in document order.
type ValidationError struct {
	// Answers is true for answers, false for a definition.
	Answers  bool
	Problems []Problem
}

func (e *ValidationError) Error() string {
	what := "questionnaire"
	if e.Answers {
		what = "answers"
	}
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		if p.Path == "" {
			parts[i] = p.Message // about the whole definition
		} else {
			parts[i] = fmt.Sprintf("%s: %s", p.Path, p.Message)
		}
	}
	return fmt.Sprintf("invalid %s: %s", what, strings.Join(parts, "; "))
}

// Is makes errors.Is(err, ErrInvalidQuestionnaire) (or ErrInvalidAnswers) hold.
func (e *ValidationError) Is(target error) bool {
	if e.Answers {
		return target == ErrInvalidAnswers
	}
	return target == ErrInvalidQuestionnaire
}

// Bounds of a definition's structure, so that a hostile definition cannot
// make the pages, the export or the validation itself do unbounded work.
const (
	MaxSections   = 40
	MaxItems      = 300 // across the whole questionnaire
	MaxOptions    = 50  // per item, and values per condition
	MaxTextLength = 2000
	// DefaultMaxLength is a text item's MaxLength when it sets none;
	// MaxMaxLength the largest it may set.
	DefaultMaxLength = 2000
	MaxMaxLength     = 4000
)

// ReservedItemIDs are the column names of the responses export's own
// columns, which an item id must not take: the response's columns, and
// every column of the spells table (research/spells_table.go), because the
// export sets the partnership's covariates beside the answers. The spells
// names are copied here, not imported, because the domain must not depend
// on the research package; keep this list in step with that file.
var ReservedItemIDs = []string{
	"response_key", "wave_id", "questionnaire_id", "questionnaire_version", "group",
	"municipality", "language", "answered_on", "partnership_key", "n_partnerships",
	// research/spells_table.go
	"service_area", "collaboration_model", "start_date", "tstart", "tstop", "ended",
	"end_reason", "n_partners", "n_goal_changes", "anchoring_level", "paused", "lead_kind",
	"n_municipal_unit", "n_voluntary_organisation", "n_social_entrepreneur",
	"n_private_business", "n_public_agency", "n_other_partner",
	"agreement_in_force", "agreement_kind", "funding_nok", "n_funding_sources", "funded",
	"entry_day", "first_recorded", "closed_by", "municipality_split", "split_codes",
}

var (
	questionnaireIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,39}$`)
	itemIDPattern          = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	optionCodePattern      = regexp.MustCompile(`^[a-z0-9][a-z0-9_]{0,31}$`)
)

// OptionColumn is the export's column of a multiple item's option: 1 when
// chosen, 0 when not.
func OptionColumn(itemID, code string) string { return itemID + "__" + code }

// Validate checks a definition and returns a *ValidationError naming every
// problem, or nil.
func (q Questionnaire) Validate() error {
	var ps problems
	switch {
	case q.ID == "":
		ps.add("id", ProblemRequired, "an id is required (lower-case letters, digits and '-', 2 to 40 characters)")
	case !questionnaireIDPattern.MatchString(q.ID):
		ps.add("id", ProblemInvalid, "%q is no id: lower-case letters, digits and '-', 2 to 40 characters, starting with a letter or digit", clip(q.ID))
	}
	if q.Version < 0 {
		ps.add("version", ProblemInvalid, "a version is 1 or more (or left out before publishing)")
	}
	ps.text("title", q.Title, true)
	ps.text("intro", q.Intro, false)

	if len(q.Sections) == 0 {
		ps.add("sections", ProblemRequired, "at least one section is required")
	}
	if len(q.Sections) > MaxSections {
		ps.add("sections", ProblemTooMany, "%d sections; at most %d are allowed", len(q.Sections), MaxSections)
		return &ValidationError{Problems: ps}
	}
	total := 0
	for _, s := range q.Sections {
		total += len(s.Items)
	}
	if total > MaxItems {
		ps.add("sections", ProblemTooMany, "%d items; at most %d are allowed in a questionnaire", total, MaxItems)
		return &ValidationError{Problems: ps}
	}

	// Where each item is (section index, position in document order) and
	// which ids are taken, for uniqueness and for conditions.
	type place struct {
		section, order int
		item           Item
	}
	items := map[string]place{}
	order := 0
	for si, s := range q.Sections {
		for _, it := range s.Items {
			if _, dup := items[it.ID]; !dup && it.ID != "" {
				items[it.ID] = place{section: si, order: order, item: it}
			}
			order++
		}
	}
	// A multiple item's option columns must not be another item's id.
	optionColumns := map[string]string{}
	for _, it := range q.Items() {
		if it.Kind == KindMultiple {
			for _, o := range it.Options {
				optionColumns[OptionColumn(it.ID, o.Code)] = it.ID
			}
		}
	}

	sectionIDs := map[string]bool{}
	itemIDs := map[string]bool{}
	order = 0
	for si, s := range q.Sections {
		sp := fmt.Sprintf("sections[%d]", si)
		switch {
		case s.ID == "":
			ps.add(sp+".id", ProblemRequired, "a section id is required")
		case !itemIDPattern.MatchString(s.ID):
			ps.add(sp+".id", ProblemInvalid, "%q is no section id: a lower-case letter, then lower-case letters, digits and '_', at most 32 characters", clip(s.ID))
		case sectionIDs[s.ID]:
			ps.add(sp+".id", ProblemDuplicate, "section id %q is used by an earlier section", s.ID)
		case items[s.ID].item.ID != "":
			// Shown answers with one set of ids for sections and items.
			ps.add(sp+".id", ProblemDuplicate, "section id %q is also an item's id", s.ID)
		}
		sectionIDs[s.ID] = true
		ps.text(sp+".title", s.Title, true)
		ps.text(sp+".intro", s.Intro, false)
		if s.ShowIf != nil {
			// A section's condition may name only an item of an earlier section.
			ps.condition(sp+".show_if", *s.ShowIf, func(id string) (Item, bool, bool) {
				p, ok := items[id]
				return p.item, ok, ok && p.section < si
			})
		}
		if len(s.Items) == 0 {
			ps.add(sp+".items", ProblemRequired, "a section needs at least one item")
		}
		for ii, it := range s.Items {
			ip := fmt.Sprintf("%s.items[%d]", sp, ii)
			here := order
			order++
			switch {
			case it.ID == "":
				ps.add(ip+".id", ProblemRequired, "an item id is required")
			case !itemIDPattern.MatchString(it.ID):
				ps.add(ip+".id", ProblemInvalid, "%q is no item id: a lower-case letter, then lower-case letters, digits and '_', at most 32 characters", clip(it.ID))
			case itemIDs[it.ID]:
				ps.add(ip+".id", ProblemDuplicate, "item id %q is used by an earlier item", it.ID)
			case slices.Contains(ReservedItemIDs, it.ID):
				ps.add(ip+".id", ProblemDuplicate, "item id %q is a column of the responses export; choose another", it.ID)
			case optionColumns[it.ID] != "":
				ps.add(ip+".id", ProblemDuplicate, "item id %q is the export column of an option of item %q; choose another", it.ID, optionColumns[it.ID])
			}
			itemIDs[it.ID] = true
			if it.ShowIf != nil {
				ps.condition(ip+".show_if", *it.ShowIf, func(id string) (Item, bool, bool) {
					p, ok := items[id]
					return p.item, ok, ok && p.order < here
				})
			}
			ps.item(ip, it)
		}
	}
	if len(ps) > 0 {
		return &ValidationError{Problems: ps}
	}
	return nil
}

// item checks an item's own fields: its kind and what the kind allows.
func (ps *problems) item(ip string, it Item) {
	ps.text(ip+".text", it.Text, true)
	ps.text(ip+".help", it.Help, false)
	if utf8.RuneCountInString(it.Theme) > 64 {
		ps.add(ip+".theme", ProblemTooLong, "a theme is at most 64 characters")
	}
	switch {
	case it.Kind == "":
		ps.add(ip+".kind", ProblemRequired, "a kind is required: one of %s", strings.Join(Kinds, ", "))
	case !slices.Contains(Kinds, it.Kind):
		ps.add(ip+".kind", ProblemInvalid, "%q is no kind: one of %s", clip(it.Kind), strings.Join(Kinds, ", "))
	}
	only := func(field, kinds string) {
		if !slices.Contains(Kinds, it.Kind) {
			return // a bad kind is reported once, not once per field
		}
		ps.add(ip+"."+field, ProblemInvalid, "%s is only for %s items, not %s", field, kinds, it.Kind)
	}

	// Scale: likert only, and required there.
	if it.Kind == KindLikert {
		if it.Scale == nil {
			ps.add(ip+".scale", ProblemRequired, "a likert item needs a scale (points and labels)")
		} else {
			sp := ip + ".scale"
			if it.Scale.Points != 5 && it.Scale.Points != 7 {
				ps.add(sp+".points", ProblemInvalid, "a scale has 5 or 7 points, not %d", it.Scale.Points)
			}
			n := len(it.Scale.Labels)
			switch {
			case n == 0:
				ps.add(sp+".labels", ProblemRequired, "a scale needs labels: one for every point, or two for its ends")
			case n != 2 && n != it.Scale.Points:
				ps.add(sp+".labels", ProblemInvalid, "%d labels; a scale of %d points has %d labels, or two for its ends", n, it.Scale.Points, it.Scale.Points)
			}
			if n <= 7 {
				for li, l := range it.Scale.Labels {
					ps.text(fmt.Sprintf("%s.labels[%d]", sp, li), l, true)
				}
			}
		}
	} else if it.Scale != nil {
		only("scale", "likert")
	}

	// Options: single and multiple only.
	if it.Kind == KindSingle || it.Kind == KindMultiple {
		op := ip + ".options"
		switch {
		case len(it.Options) < 2:
			ps.add(op, ProblemRequired, "a %s item needs at least two options", it.Kind)
		case len(it.Options) > MaxOptions:
			ps.add(op, ProblemTooMany, "%d options; at most %d are allowed", len(it.Options), MaxOptions)
		}
		if len(it.Options) <= MaxOptions {
			codes := map[string]bool{}
			for oi, o := range it.Options {
				cp := fmt.Sprintf("%s[%d]", op, oi)
				switch {
				case o.Code == "":
					ps.add(cp+".code", ProblemRequired, "an option needs a code")
				case !optionCodePattern.MatchString(o.Code):
					ps.add(cp+".code", ProblemInvalid, "%q is no option code: lower-case letters, digits and '_', at most 32 characters, starting with a letter or digit", clip(o.Code))
				case codes[o.Code]:
					ps.add(cp+".code", ProblemDuplicate, "option code %q is used by an earlier option", o.Code)
				}
				codes[o.Code] = true
				ps.text(cp+".label", o.Label, true)
			}
		}
	} else if len(it.Options) > 0 {
		only("options", "single and multiple")
	}

	// Number fields.
	if it.Kind == KindNumber {
		for _, b := range []struct {
			field string
			v     *float64
		}{{"min", it.Min}, {"max", it.Max}} {
			if b.v != nil && (math.IsNaN(*b.v) || math.IsInf(*b.v, 0)) {
				ps.add(ip+"."+b.field, ProblemNotANumber, "%s must be a finite number", b.field)
			}
		}
		if it.Min != nil && it.Max != nil && *it.Min > *it.Max {
			ps.add(ip+".max", ProblemTooSmall, "max (%s) is below min (%s)", formatNumber(*it.Max), formatNumber(*it.Min))
		}
		if it.Integer {
			for _, b := range []struct {
				field string
				v     *float64
			}{{"min", it.Min}, {"max", it.Max}} {
				if b.v != nil && *b.v != math.Trunc(*b.v) {
					ps.add(ip+"."+b.field, ProblemNotInteger, "an integer item's %s must be a whole number", b.field)
				}
			}
		}
		ps.text(ip+".unit", it.Unit, false)
	} else {
		if it.Min != nil {
			only("min", "number")
		}
		if it.Max != nil {
			only("max", "number")
		}
		if it.Integer {
			only("integer", "number")
		}
		if it.Unit != nil {
			only("unit", "number")
		}
	}

	if it.Kind == KindText {
		if it.MaxLength < 0 || it.MaxLength > MaxMaxLength {
			ps.add(ip+".max_length", ProblemInvalid, "max_length is 1 to %d characters (or left out for %d), not %d", MaxMaxLength, DefaultMaxLength, it.MaxLength)
		}
	} else if it.MaxLength != 0 {
		only("max_length", "text")
	}
}

// condition checks a skip condition; find looks an item up and says
// whether it exists and whether it comes early enough.
func (ps *problems) condition(cp string, c Condition, find func(string) (item Item, exists, before bool)) {
	if c.Item == "" {
		ps.add(cp+".item", ProblemRequired, "a condition names the item it depends on")
		return
	}
	target, exists, before := find(c.Item)
	switch {
	case !exists:
		ps.add(cp+".item", ProblemUnknown, "no item has the id %q", clip(c.Item))
		return
	case !before:
		ps.add(cp+".item", ProblemForwardSkip, "item %q does not come before this condition (a section's condition may name only an item of an earlier section)", c.Item)
		return
	}
	if target.Kind != KindLikert && target.Kind != KindSingle && target.Kind != KindMultiple {
		ps.add(cp+".item", ProblemInvalid, "a condition can depend only on a likert, single or multiple item; %q is %s", c.Item, target.Kind)
		return
	}
	switch {
	case len(c.In) == 0:
		ps.add(cp+".in", ProblemRequired, "a condition needs at least one value in in")
	case len(c.In) > MaxOptions:
		ps.add(cp+".in", ProblemTooMany, "%d values; at most %d are allowed", len(c.In), MaxOptions)
		return
	}
	valid := target.values()
	if len(valid) == 0 {
		return // the item's own scale or options are reported where they are
	}
	for vi, v := range c.In {
		if !slices.Contains(valid, v) {
			ps.add(fmt.Sprintf("%s.in[%d]", cp, vi), ProblemNotInList, "%q is not a value of item %q (%s)", clip(v), c.Item, strings.Join(valid, ", "))
		}
	}
}

// values are a likert, single or multiple item's possible values; nil for
// other kinds.
func (it Item) values() []string {
	switch it.Kind {
	case KindLikert:
		if it.Scale == nil {
			return nil
		}
		out := make([]string, 0, it.Scale.Points)
		for p := 1; p <= it.Scale.Points && p <= 7; p++ {
			out = append(out, strconv.Itoa(p))
		}
		return out
	case KindSingle, KindMultiple:
		out := make([]string, len(it.Options))
		for i, o := range it.Options {
			out[i] = o.Code
		}
		return out
	}
	return nil
}

// text checks a Text: only nb/nn/en, each at most MaxTextLength
// characters, and (when required) a bokmål text that is not blank.
func (ps *problems) text(path string, t Text, required bool) {
	if required && strings.TrimSpace(t[LangNB]) == "" {
		if t == nil {
			ps.add(path, ProblemRequired, "a text is required, at least in bokmål (nb)")
		} else {
			ps.add(path+"."+LangNB, ProblemRequired, "the bokmål (nb) text is required")
		}
	}
	langs := make([]string, 0, len(t))
	for l := range t {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	for _, l := range langs {
		if !slices.Contains(Languages, l) {
			ps.add(path+"."+clip(l), ProblemUnknown, "%q is no language of samspill: nb, nn or en", clip(l))
			continue
		}
		if n := utf8.RuneCountInString(t[l]); n > MaxTextLength {
			ps.add(path+"."+l, ProblemTooLong, "%d characters; a text has at most %d", n, MaxTextLength)
		}
	}
}

// clip shortens a hostile value before it is quoted in a message.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:40]) + "…"
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
