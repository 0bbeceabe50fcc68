package survey

import (
	"errors"
	"fmt"
	"strings"
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
		parts[i] = fmt.Sprintf("%s: %s", p.Path, p.Message)
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

// Parse reads a definition in JSON or YAML (YAML unless the first
// non-space byte is '{'), unknown fields refused, and validates it: a
// *ValidationError names every problem, syntax errors with their line.
func Parse(data []byte) (Questionnaire, error) {
	return Questionnaire{}, errors.New("survey.Parse: not implemented yet")
}

// Validate checks a definition and returns a *ValidationError naming every
// problem, or nil.
func (q Questionnaire) Validate() error {
	return errors.New("survey.Validate: not implemented yet")
}

// Shown returns the ids of the sections and items shown to a respondent
// who has given answers (skip conditions applied in order: an item hidden
// by its condition, or in a hidden section, counts as unanswered for the
// conditions after it).
func (q Questionnaire) Shown(answers Answers) map[string]bool {
	return nil
}

// Check checks answers against the questionnaire: every answer must name
// an item and have a valid value for its kind; when final, every required
// item that is shown must be answered. It returns a *ValidationError
// (Answers true) naming every problem by item id, or nil. Answers to
// hidden items are not errors (Clean drops them).
func (q Questionnaire) Check(answers Answers, final bool) error {
	return errors.New("survey.Check: not implemented yet")
}

// Clean returns the answers without those to items that are not shown,
// and with each value in its canonical form (numbers as Go formats them,
// a multiple item's codes in option order).
func (q Questionnaire) Clean(answers Answers) Answers {
	return answers.Clone()
}
