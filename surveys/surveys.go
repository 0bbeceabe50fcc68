// Package surveys fields the surveys of research projects: it publishes
// questionnaires and schedules waves as events (domain/survey), issues
// one-time response links (auth.SurveyLinkStore keeps only their hashes),
// takes a respondent's answers through a link as events in the response's
// own stream, counts the responses for tracking, and reads the submitted
// responses back for the exports and the feedback reports.
//
// A response's stream id is derived from its link's token (ResponseID):
// samspill stores the token's SHA-256 only, so nothing it stores ties an
// answer to the link, nor to the address the link was mailed to.
package surveys

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
)

// Errors at the package boundary. Pages and the API tell them apart with
// errors.Is; the link errors are what a respondent sees (a link that does
// not exist and a malformed token are the same ErrLinkUnknown).
var (
	ErrQuestionnaireNotFound = errors.New("questionnaire not found")
	ErrWaveNotFound          = errors.New("survey wave not found")
	// ErrInvalidWave wraps a *WaveError naming every field.
	ErrInvalidWave = errors.New("invalid survey wave")
	ErrLinkUnknown = errors.New("unknown response link")
	ErrLinkUsed    = errors.New("response already submitted")
	ErrLinkExpired = errors.New("response link expired")
	ErrWaveNotOpen = errors.New("survey wave not open yet")
	ErrWaveClosed  = errors.New("survey wave closed")
	// ErrPartnershipNotAllowed means a chosen partnership is not one the
	// link's wave and municipality allow.
	ErrPartnershipNotAllowed = errors.New("partnership not in the survey")
)

// FieldProblem is one invalid field of a wave or link request.
type FieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// WaveError names every invalid field of a wave or a link request; it Is
// ErrInvalidWave.
type WaveError struct{ Problems []FieldProblem }

func (e *WaveError) Error() string {
	s := "invalid survey wave"
	for _, p := range e.Problems {
		s += "; " + p.Field + ": " + p.Message
	}
	return s
}

func (e *WaveError) Is(target error) bool { return target == ErrInvalidWave }

// ResponseID derives a response's id (the rest of its stream id) from its
// link's token: 32 hex digits, unrelated to the token's stored hash.
func ResponseID(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("samspill survey response v1"))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Choice is a partnership a respondent may say the answers concern.
type Choice struct {
	ID   string
	Name string
}

// Directory names the partnerships of a municipality (today's code) that
// are alive, for the respondent's choice; cmd answers it from the
// summaries read model.
type Directory interface {
	Partnerships(ctx context.Context, municipality string) ([]Choice, error)
}

// WaveInfo is a wave with what happened to it since it was scheduled.
type WaveInfo struct {
	survey.Wave
	// Closed is true once closed early (SurveyWaveClosed); ClosedOn its day.
	Closed   bool
	ClosedOn string
	// Position is the global position of the wave's last event.
	Position uint64
}

// LinkRequest asks for links of a wave: Count links, or one per address
// in Addresses (to be mailed), for a municipality of the wave and,
// optionally, one partnership (fixed in every link).
type LinkRequest struct {
	Municipality  string
	PartnershipID string
	Count         int
	Addresses     []string
	// Batch names the issue; made by the service when "".
	Batch string
}

// IssuedLink is a link as handed out once: its token is never stored.
type IssuedLink struct {
	Token string
	// Path is "/s/<token>"; callers prepend the site's public URL.
	Path          string
	Municipality  string
	PartnershipID string
	Address       string
	ExpiresAt     time.Time
}

// Session is what a link opens: the wave, its questionnaire, the response
// so far (zero Response when not started; its ID always set), the link
// (its Address cleared) and the partnerships the respondent may choose
// from (nil when the link or wave fixes them).
type Session struct {
	Wave          WaveInfo
	Questionnaire survey.Questionnaire
	Response      survey.Response
	Link          auth.SurveyLink
	Choices       []Choice
}

// Tracking counts a wave's responses.
type Tracking struct {
	Wave   WaveInfo
	Rows   []auth.LinkCount
	Totals auth.LinkCount
}

// Service runs the surveys. Safe for concurrent use.
type Service struct {
	store     eventstore.Store
	links     auth.SurveyLinkStore
	projects  auth.ProjectStore
	directory Directory
	publicURL string
	now       func() time.Time
	newID     func() string
	log       *slog.Logger

	// inviting makes Invite's look-up of the addresses a wave has and the
	// issue of links for the others one step in this process, so the same
	// addresses invited twice at once (a double click) get one link each.
	inviting sync.Mutex
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock (tests, demo data).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithIDs sets the maker of wave ids (tests, demo data).
func WithIDs(newID func() string) Option { return func(s *Service) { s.newID = newID } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithDirectory sets where respondents' partnership choices come from;
// without it a link that fixes no partnership offers none.
func WithDirectory(d Directory) Option { return func(s *Service) { s.directory = d } }

// WithPublicURL sets the site's public base URL ("https://samspill.example.no"),
// which the links handed out and mailed start with.
func WithPublicURL(base string) Option {
	return func(s *Service) { s.publicURL = strings.TrimRight(base, "/") }
}

// PublicURL returns the base URL set by WithPublicURL, "" if none (callers
// then use the request's own scheme and host).
func (s *Service) PublicURL() string { return s.publicURL }

// New returns a service over the event store, the link store and the
// research projects.
func New(store eventstore.Store, links auth.SurveyLinkStore, projects auth.ProjectStore, opts ...Option) *Service {
	s := &Service{store: store, links: links, projects: projects, now: time.Now,
		newID: func() string { return uuid.Must(uuid.NewV7()).String() }, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s
}
