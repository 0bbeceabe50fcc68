package partnership

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors for states that refuse a command. Each is wrapped in a
// *RuleError that says why; test with errors.Is.
var (
	// ErrNotFound means the partnership does not exist (under the requested
	// view, for as-of and as-known-at reads).
	ErrNotFound = errors.New("partnership not found")
	// ErrEnded means the partnership has ended; only corrections remain.
	ErrEnded = errors.New("partnership has ended")
	// ErrAlreadyInitiated means the stream already holds an initiation.
	ErrAlreadyInitiated = errors.New("partnership already initiated")
	// ErrNotActive means the command needs an active partnership.
	ErrNotActive = errors.New("partnership is not active")
	// ErrNotPaused means resume was asked of a partnership that is not paused.
	ErrNotPaused = errors.New("partnership is not paused")
	// ErrPartnerAlreadyActive means the partner (same id or org number) is
	// already active in the partnership.
	ErrPartnerAlreadyActive = errors.New("partner already active")
	// ErrPartnerNotActive means the command names a partner that is not
	// active in the partnership.
	ErrPartnerNotActive = errors.New("partner not active")
	// ErrLastExternalPartner means the command would leave no partner outside
	// the municipality; the partnership must be ended instead.
	ErrLastExternalPartner = errors.New("last non-municipal partner cannot leave")
	// ErrGoalsUnchanged means a goal change repeats the current goals.
	ErrGoalsUnchanged = errors.New("goals unchanged")
	// ErrAnchoringUnchanged means an anchoring change repeats the current level.
	ErrAnchoringUnchanged = errors.New("anchoring level unchanged")
	// ErrCollaborationModelUnchanged means a change of collaboration model
	// repeats the model in force.
	ErrCollaborationModelUnchanged = errors.New("collaboration model unchanged")
	// ErrUnknownEntry means a correction points at no earlier event of the
	// partnership, or at a correction.
	ErrUnknownEntry = errors.New("no such entry to correct")
	// ErrInvalidHistory means the command would make the history invalid
	// when replayed in the order things occurred.
	ErrInvalidHistory = errors.New("history would become invalid")
)

// RuleError is a domain rule refusing a command. It wraps one of the
// sentinel errors above and adds the detail a user needs: in English
// (Detail, for the API) and as a Code with the values it names, so that a
// front door can say it in its reader's language.
type RuleError struct {
	Err    error
	Detail string
	// Code names the rule (one sentinel may stand for several).
	Code RuleCode
	// Date is the day the rule speaks of: when the partnership ended, the
	// day of the entry refused (ended, not_active, not_paused,
	// before_initiation, later_entry_breaks).
	Date time.Time
	// Name is a partner's name (partner_already_active,
	// last_external_partner), a status (not_active, not_paused), an
	// anchoring level (anchoring_unchanged), a collaboration model
	// (collaboration_model_unchanged) or a role (role_partner_not_active).
	Name string
	// Value is an id (an event's for unknown_entry and
	// correct_a_correction, a partner's for partner_not_active and
	// role_partner_not_active) or an event type (before_initiation,
	// later_entry_breaks).
	Value string
	// Cause is the rule a later entry would break (later_entry_breaks).
	Cause *RuleError
}

// RuleCode names a rule that refused a command. The codes are stable: the
// pages word each one.
type RuleCode string

// The rules, with the sentinel each wraps.
const (
	RuleAlreadyInitiated            RuleCode = "already_initiated"             // ErrAlreadyInitiated
	RuleEnded                       RuleCode = "ended"                         // ErrEnded; Date: the end
	RuleBeforeInitiation            RuleCode = "before_initiation"             // ErrInvalidHistory; Value: the type, Date: its day
	RuleLaterEntryBreaks            RuleCode = "later_entry_breaks"            // ErrInvalidHistory; Value, Date: the later entry, Cause
	RuleRetractInitiation           RuleCode = "retract_initiation"            // ErrInvalidHistory
	RuleUnknownEntry                RuleCode = "unknown_entry"                 // ErrUnknownEntry; Value: the id
	RuleCorrectACorrection          RuleCode = "correct_a_correction"          // ErrUnknownEntry; Value: the id
	RulePartnerAlreadyActive        RuleCode = "partner_already_active"        // ErrPartnerAlreadyActive; Name
	RulePartnerNotActive            RuleCode = "partner_not_active"            // ErrPartnerNotActive; Value: the partner id
	RuleRolePartnerNotActive        RuleCode = "role_partner_not_active"       // ErrPartnerNotActive; Name: the role, Value: the partner id
	RuleLastExternalPartner         RuleCode = "last_external_partner"         // ErrLastExternalPartner; Name
	RuleGoalsUnchanged              RuleCode = "goals_unchanged"               // ErrGoalsUnchanged
	RuleAnchoringUnchanged          RuleCode = "anchoring_unchanged"           // ErrAnchoringUnchanged; Name: the level
	RuleCollaborationModelUnchanged RuleCode = "collaboration_model_unchanged" // ErrCollaborationModelUnchanged; Name: the model
	RuleNotActive                   RuleCode = "not_active"                    // ErrNotActive; Name: the status, Date
	RuleNotPaused                   RuleCode = "not_paused"                    // ErrNotPaused; Name: the status, Date
)

func (e *RuleError) Error() string {
	if e.Detail == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.Detail
}

// Unwrap returns the sentinel.
func (e *RuleError) Unwrap() error { return e.Err }

// refuse returns the rule's error: r with its sentinel and its English
// detail.
func refuse(err error, r RuleError, format string, args ...any) error {
	r.Err, r.Detail = err, fmt.Sprintf(format, args...)
	return &r
}

// FieldError is one invalid input field. Field is a JSON path such as
// "partners[1].org_no"; Message says what is wrong in English (the API's
// words), and Code says it in a stable code, with the values a message
// needs in the fields after it, so that a front door can say it in its
// reader's language.
type FieldError struct {
	Field   string    `json:"field"`
	Code    FieldCode `json:"code,omitempty"`
	Message string    `json:"message"`
	// Min and Max are the bounds of a length, a count, an amount or (for
	// dates) a year.
	Min int64 `json:"-"`
	Max int64 `json:"-"`
	// Allowed lists the values of a vocabulary (not_in_list).
	Allowed []string `json:"-"`
	// Date is the day an error names (before_start, kommune_not_valid_on).
	Date time.Time `json:"-"`
	// Value is the input or a value it names: the code of a municipality,
	// an event type (replacement_type), the character that is not allowed
	// (orgnr_character).
	Value string `json:"-"`
	// Other is a second value: the code that succeeds a municipality
	// today (kommune_not_valid_on), the expected check digit
	// (orgnr_check_digit).
	Other string `json:"-"`
}

// FieldCode says what is wrong with a field. The codes are stable: the
// API's answers carry them, and the pages word each one.
type FieldCode string

// The codes of field errors and the values each fills.
const (
	FieldRequired         FieldCode = "required"             // a value is needed
	FieldNotText          FieldCode = "not_text"             // not valid UTF-8
	FieldTooShort         FieldCode = "too_short"            // Min characters
	FieldTooLong          FieldCode = "too_long"             // Max characters
	FieldNotInList        FieldCode = "not_in_list"          // Allowed
	FieldNotADate         FieldCode = "not_a_date"           // not YYYY-MM-DD
	FieldDateOutOfRange   FieldCode = "date_out_of_range"    // years Min to Max
	FieldEndsBeforeStart  FieldCode = "ends_before_start"    // an end date before its start date
	FieldFuture           FieldCode = "future"               // more than 24 hours ahead
	FieldBeforeStart      FieldCode = "before_start"         // before the partnership began (Date)
	FieldCount            FieldCode = "count"                // a list of Min to Max items
	FieldTooMany          FieldCode = "too_many"             // at most Max items
	FieldDuplicate        FieldCode = "duplicate"            // the same value twice
	FieldNoExternal       FieldCode = "no_external"          // no partner outside the municipality
	FieldPartnerID        FieldCode = "partner_id"           // not a usable partner id (Max characters)
	FieldAmountNotPos     FieldCode = "amount_not_positive"  // zero or negative kroner
	FieldAmountTooLarge   FieldCode = "amount_too_large"     // above Max kroner
	FieldEmail            FieldCode = "email"                // not a plain e-mail address
	FieldPhone            FieldCode = "phone"                // not a phone number (Max characters)
	FieldContactNeeded    FieldCode = "contact_needed"       // neither e-mail nor phone
	FieldSameRoleTwice    FieldCode = "same_role_twice"      // a partner given the same role twice
	FieldReplacementType  FieldCode = "replacement_type"     // not a payload of the entry's type (Value)
	FieldKommuneMalformed FieldCode = "kommune_malformed"    // not four digits (Value)
	FieldKommuneUnknown   FieldCode = "kommune_unknown"      // no such municipality (Value)
	FieldKommuneNotValid  FieldCode = "kommune_not_valid_on" // Value not valid on Date; Other today
	// An organisation number refused by orgnr.Parse: "orgnr_" and the
	// orgnr.Reason (orgnr_check_digit, orgnr_digit_count with Min the
	// digits given, orgnr_character with Value the character, ...).
	FieldOrgNrPrefix FieldCode = "orgnr_"
)

// ValidationError lists every invalid field of a command. It is returned
// before any rule is checked.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// fieldErrors collects field errors under a path prefix.
type fieldErrors struct {
	prefix string
	list   *[]FieldError
}

func newFieldErrors() fieldErrors { return fieldErrors{list: new([]FieldError)} }

// at returns a collector for a nested object or array element.
func (f fieldErrors) at(name string) fieldErrors {
	return fieldErrors{prefix: f.path(name), list: f.list}
}

func (f fieldErrors) path(name string) string {
	switch {
	case f.prefix == "":
		return name
	case strings.HasPrefix(name, "["):
		return f.prefix + name
	default:
		return f.prefix + "." + name
	}
}

// add records that the field name is invalid: e with its Field and
// English Message set.
func (f fieldErrors) add(name string, e FieldError, format string, args ...any) {
	e.Field, e.Message = f.path(name), fmt.Sprintf(format, args...)
	*f.list = append(*f.list, e)
}

func (f fieldErrors) err() error {
	if len(*f.list) == 0 {
		return nil
	}
	return &ValidationError{Fields: *f.list}
}
