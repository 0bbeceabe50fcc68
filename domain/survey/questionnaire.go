package survey

import "slices"

// Languages a questionnaire's texts are written in; bokmål is required on
// every text, nynorsk and English fall back to it when missing.
const (
	LangNB = "nb"
	LangNN = "nn"
	LangEN = "en"
)

// Languages lists the languages a text may have, in order of preference
// for fallbacks.
var Languages = []string{LangNB, LangNN, LangEN}

// Item kinds.
const (
	KindLikert   = "likert"   // a labelled scale of 1..Points (5 or 7)
	KindSingle   = "single"   // one of Options
	KindMultiple = "multiple" // any of Options
	KindNumber   = "number"   // a number within Min..Max
	KindText     = "text"     // free text, at most MaxLength characters
)

// Kinds lists the item kinds.
var Kinds = []string{KindLikert, KindSingle, KindMultiple, KindNumber, KindText}

// Target groups of a wave.
const (
	GroupMunicipalLeaders   = "municipal_leaders"
	GroupVolunteers         = "volunteers"
	GroupOrganisationLeader = "organisation_leaders"
)

// Groups lists the target groups.
var Groups = []string{GroupMunicipalLeaders, GroupVolunteers, GroupOrganisationLeader}

// Text is a text in several languages: "nb" (required), "nn", "en".
type Text map[string]string

// In returns the text in lang, or in bokmål when it has none.
func (t Text) In(lang string) string {
	if s := t[lang]; s != "" {
		return s
	}
	return t[LangNB]
}

// Questionnaire is one version of a questionnaire as researchers define it
// (docs/surveys.md, "Questionnaire format"). Once published a version is
// immutable: a change is a new version.
type Questionnaire struct {
	// ID is a slug: lower-case letters, digits and '-', 2 to 40
	// characters ("offri-leaders").
	ID string `json:"id"`
	// Version is set when the questionnaire is published (1, 2, ...);
	// 0 in a definition that has not been.
	Version int `json:"version,omitempty"`
	// Title and Intro are shown at the top of the answer page.
	Title Text `json:"title"`
	Intro Text `json:"intro,omitempty"`
	// Sections are shown in order, one page each on the answer page.
	Sections []Section `json:"sections"`
}

// Section is a titled group of items.
type Section struct {
	// ID is unique in the questionnaire: [a-z][a-z0-9_]{0,31}.
	ID    string `json:"id"`
	Title Text   `json:"title"`
	Intro Text   `json:"intro,omitempty"`
	// ShowIf skips the whole section unless the condition holds.
	ShowIf *Condition `json:"show_if,omitempty"`
	Items  []Item     `json:"items"`
}

// Item is one question. Its ID is the column name of its answers in the
// research export.
type Item struct {
	// ID is unique in the questionnaire (across sections):
	// [a-z][a-z0-9_]{0,31}, not one of the export's own column names.
	ID   string `json:"id"`
	Kind string `json:"kind"`
	Text Text   `json:"text"`
	Help Text   `json:"help,omitempty"`
	// Theme tags the item for reports and the codebook (free vocabulary,
	// e.g. "leadership", "culture", "roles", "goals", "anchoring",
	// "facilitation", "competition").
	Theme    string `json:"theme,omitempty"`
	Required bool   `json:"required,omitempty"`
	// ShowIf skips the item unless the condition holds.
	ShowIf *Condition `json:"show_if,omitempty"`

	// Scale: likert only.
	Scale *Scale `json:"scale,omitempty"`
	// Options: single and multiple only, at least two.
	Options []Option `json:"options,omitempty"`
	// Min, Max and Integer: number only (Min <= Max when both are set).
	Min     *float64 `json:"min,omitempty"`
	Max     *float64 `json:"max,omitempty"`
	Integer bool     `json:"integer,omitempty"`
	// Unit names a number's unit in words ("hours per month").
	Unit Text `json:"unit,omitempty"`
	// MaxLength: text only, 1..4000; 0 means 2000.
	MaxLength int `json:"max_length,omitempty"`
}

// Scale is a Likert scale of 1..Points.
type Scale struct {
	// Points is 5 or 7.
	Points int `json:"points"`
	// Labels label every point, 1 first: exactly Points labels, or only
	// the two ends (Labels[0] for 1, Labels[1] for Points).
	Labels []Text `json:"labels"`
}

// Option is one choice of a single or multiple item.
type Option struct {
	// Code is what the answer stores and the export writes:
	// [a-z0-9][a-z0-9_]{0,31}, unique in the item.
	Code  string `json:"code"`
	Label Text   `json:"label"`
}

// Condition is a simple skip condition: it holds when the answer to Item
// (an item earlier in the questionnaire) has one of the values In: a
// Likert point ("1".."7"), an option code, or, for a multiple item, any
// option code among those chosen. An unanswered or hidden item holds no
// value, so the condition does not hold.
type Condition struct {
	Item string   `json:"item"`
	In   []string `json:"in"`
}

// Answers are a response's answers by item id. Every answer is a list of
// strings: a Likert point as "1".."7", an option code (several for a
// multiple item, in the options' order), a number in Go's decimal form,
// or free text. An item with no answer is absent.
type Answers map[string][]string

// Clone returns a deep copy.
func (a Answers) Clone() Answers {
	out := make(Answers, len(a))
	for k, v := range a {
		out[k] = slices.Clone(v)
	}
	return out
}

// Items returns every item of every section, in order.
func (q Questionnaire) Items() []Item {
	var items []Item
	for _, s := range q.Sections {
		items = append(items, s.Items...)
	}
	return items
}

// Item returns the item with the id.
func (q Questionnaire) Item(id string) (Item, bool) {
	for _, s := range q.Sections {
		for _, it := range s.Items {
			if it.ID == id {
				return it, true
			}
		}
	}
	return Item{}, false
}
