package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Errors of the survey link store.
var (
	// ErrLinkNotFound means no link has the token's hash.
	ErrLinkNotFound = errors.New("survey link not found")
	// ErrLinkCompleted means the link's response was submitted already.
	ErrLinkCompleted = errors.New("survey link already used")
)

// Survey link states: a link is invited when made, started once its
// respondent saved anything, completed once the response was submitted.
const (
	LinkInvited   = "invited"
	LinkStarted   = "started"
	LinkCompleted = "completed"
)

// Mailing states of a link sent by e-mail.
const (
	MailNone    = ""        // not sent by samspill (downloaded for the municipality's own mailing)
	MailQueued  = "queued"  // to be sent
	MailSending = "sending" // claimed by a mailing round (ClaimMail), its message on the way
	MailSent    = "sent"    // accepted by the SMTP server
	MailFailed  = "failed"  // a temporary failure (connection, 4xx): sent again by the next round
	MailBounced = "bounced" // a permanent failure (5xx, or reported as bounced): never sent again
)

// SurveyLink is one response link as stored: never its token, only the
// token's SHA-256 (HashToken). Nothing stored ties a link to
// its response: the response's id is derived from the token
// (survey.ResponseID), which only the respondent holds.
type SurveyLink struct {
	Hash      Hash
	WaveID    string
	ProjectID string
	// Municipality is today's code; PartnershipID is "" when the
	// respondent chooses the partnerships.
	Municipality  string
	Group         string
	PartnershipID string
	// Batch names the issue that made the link (one download or one
	// mailing), for the researchers' lists.
	Batch     string
	ExpiresAt time.Time
	State     string
	CreatedAt time.Time
	// Address is the e-mail address samspill sends the link and its
	// reminders to; "" for links downloaded for the municipality's own
	// mailing. Addresses are erased (EraseAddresses) when the wave
	// closes.
	Address    string
	Mail       string
	MailError  string
	Reminders  int
	LastMailAt time.Time
}

// LinkCount is one cell of a wave's response tracking.
type LinkCount struct {
	Municipality  string
	Group         string
	PartnershipID string
	Invited       int // every link made (invited, started and completed)
	Started       int // started or completed
	Completed     int
	Bounced       int
}

// LinkFilter selects a wave's links for mailing.
type LinkFilter struct {
	WaveID string
	// States and Mail, when set, keep only links in one of them.
	States []string
	Mail   []string
	// SendingBefore, when set, also keeps the links whose mail has been
	// MailSending since before it: claims of a round that stopped midway.
	SendingBefore time.Time
	// WithAddress keeps only links with an address.
	WithAddress bool
	Limit       int
}

// MailClaim is what a mailing round asks of ClaimMail for one link.
type MailClaim struct {
	Hash Hash
	// State is the link's state the round decided its message by
	// (LinkInvited: a message with a new link; LinkStarted: a reminder
	// without one).
	State string
	// NewHash, when set, re-keys the link (only an invited one): the
	// message carries the new token, which samspill does not store, and
	// the old one stops working.
	NewHash Hash
	// At is the claim's time (LastMailAt until the outcome is recorded);
	// StaleBefore takes over a claim made before it.
	At, StaleBefore time.Time
}

// SurveyLinkStore keeps survey response links. Implemented next to the
// tokens (auth/sqlite, auth/postgres): links are credentials.
type SurveyLinkStore interface {
	// CreateLinks stores links (their Hash set by the caller).
	CreateLinks(ctx context.Context, links []SurveyLink) error
	// Link returns the link of a token's hash, or ErrLinkNotFound.
	Link(ctx context.Context, hash Hash) (SurveyLink, error)
	// MarkLink moves a link to started or completed (never back); a
	// completed link refuses every mark with ErrLinkCompleted. It stores
	// no time: when a link completed is not recorded anywhere.
	MarkLink(ctx context.Context, hash Hash, state string) error
	// Links lists a wave's links that match, oldest first.
	Links(ctx context.Context, f LinkFilter) ([]SurveyLink, error)
	// SetMail records a mailing's outcome for a link (reminders are
	// counted where they are queued, QueueReminder).
	SetMail(ctx context.Context, hash Hash, mail, mailErr string, at time.Time) error
	// QueueReminder queues a reminder to a link, in one conditional
	// update, so that reminders asked for twice at once (two instances, a
	// double click) queue one: the link's mail becomes queued, its
	// Reminders one more and its LastMailAt at, if its mail is sent, it
	// has had fewer than max reminders and its last mail was no later
	// than lastBefore. ErrLinkNotFound when no such link has hash.
	QueueReminder(ctx context.Context, hash Hash, max int, lastBefore, at time.Time) error
	// CountLinks counts a wave's links by municipality, group and
	// partnership.
	CountLinks(ctx context.Context, waveID string) ([]LinkCount, error)
	// ClaimMail takes a link for one message, in one conditional update,
	// so that of several instances' rounds only one mails it: the link's
	// mail becomes MailSending and its LastMailAt c.At, if it is still in
	// c.State with its mail queued or failed (or sending since before
	// c.StaleBefore), and it is re-keyed when c.NewHash is set.
	// ErrLinkNotFound when no such link has c.Hash (another round took it
	// first, or its respondent started or finished meanwhile).
	ClaimMail(ctx context.Context, c MailClaim) error
	// EraseAddresses removes every address of a wave's links.
	EraseAddresses(ctx context.Context, waveID string) (int, error)
}

// NewLinkToken returns a fresh response link token (256 random bits,
// URL-safe, no prefix: it is the last segment of /s/<token>) and its hash.
func NewLinkToken() (token string, hash Hash) {
	token = newSecret()
	return token, HashToken(token)
}

// ErrInvalidLink means a link or a mark a store was asked to write is not
// well formed (a caller's bug, not a respondent's input).
var ErrInvalidLink = errors.New("invalid survey link")

// CheckLink checks a link before a store creates it: a hash, a wave, a
// project, a municipality, a group, an expiry, and a known state and
// mailing state.
func CheckLink(l SurveyLink) error {
	switch {
	case l.Hash == Hash{}:
		return fmt.Errorf("%w: no hash", ErrInvalidLink)
	case l.WaveID == "" || l.ProjectID == "" || l.Municipality == "" || l.Group == "":
		return fmt.Errorf("%w: wave, project, municipality and group are required", ErrInvalidLink)
	case l.ExpiresAt.IsZero():
		return fmt.Errorf("%w: no expiry", ErrInvalidLink)
	case !slices.Contains([]string{LinkInvited, LinkStarted, LinkCompleted}, l.State):
		return fmt.Errorf("%w: state %q", ErrInvalidLink, l.State)
	case !ValidMail(l.Mail):
		return fmt.Errorf("%w: mail state %q", ErrInvalidLink, l.Mail)
	}
	return nil
}

// Target is the hash the link has after the claim: NewHash when set.
func (c MailClaim) Target() Hash {
	if c.NewHash != (Hash{}) {
		return c.NewHash
	}
	return c.Hash
}

// CheckClaim checks a claim before a store runs it: a hash, a time, and a
// state a message can be sent in (a new link only for an invited link).
func CheckClaim(c MailClaim) error {
	switch {
	case c.Hash == Hash{} || c.At.IsZero():
		return fmt.Errorf("%w: a claim needs a hash and a time", ErrInvalidLink)
	case c.State != LinkInvited && c.State != LinkStarted:
		return fmt.Errorf("%w: no message is sent to a link in state %q", ErrInvalidLink, c.State)
	case c.NewHash != Hash{} && c.State != LinkInvited:
		return fmt.Errorf("%w: only an invited link is re-keyed", ErrInvalidLink)
	}
	return nil
}

// ValidMail reports whether s is a mailing state.
func ValidMail(s string) bool {
	return slices.Contains([]string{MailNone, MailQueued, MailSending, MailSent, MailFailed, MailBounced}, s)
}

// CheckMark checks the state MarkLink is asked to move a link to.
func CheckMark(state string) error {
	if state != LinkStarted && state != LinkCompleted {
		return fmt.Errorf("%w: a link is marked started or completed, not %q", ErrInvalidLink, state)
	}
	return nil
}
