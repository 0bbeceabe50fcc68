package surveys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/locale"
	"github.com/samspill/samspill/surveys/mail"
)

// ErrMailNotConfigured means no SMTP server is configured: links can only
// be downloaded for the municipality's own mailing.
var ErrMailNotConfigured = errors.New("e-mail is not configured")

// ErrNoPublicURL means the site's public URL (WithPublicURL) is unknown,
// so a mailed link could not be opened.
var ErrNoPublicURL = errors.New("the site's public URL is not configured")

// RoundInterval is how often Run starts a sending round on its own.
const RoundInterval = time.Minute

// claimTimeout is how long a link claimed for a message stays its round's:
// far longer than one message takes (the SMTP client's timeouts), so only
// the claims of a round that stopped midway are taken over.
const claimTimeout = 10 * time.Minute

// Mailer sends the queued invitations and reminders of every open wave in
// rounds, at most the sender's rate per minute. Safe for concurrent use;
// one round runs at a time in a process, and with several instances each
// message is claimed first (auth.SurveyLinkStore.ClaimMail, which one
// round wins), so no link is mailed twice.
//
// A link nobody opened is mailed by re-keying it in its claim: the mail
// carries a fresh token that is never stored. A process that dies between
// claim and outcome leaves a link whose token nobody has, in mail state
// sending; the rounds take it over once the claim is claimTimeout old,
// and mail it again.
type Mailer struct {
	svc    *Service
	sender *mail.Sender
	rate   int
	now    func() time.Time
	log    *slog.Logger
	kick   chan struct{}

	mu sync.Mutex // one round at a time; guards sentAt
	// sentAt are the times of the messages handed to the server in the
	// last minute: the rate's window.
	sentAt []time.Time
}

// MailerOption configures a Mailer.
type MailerOption func(*Mailer)

// WithMailerClock sets the Mailer's clock (tests: the rate's window and
// the reminders' gap follow it).
func WithMailerClock(now func() time.Time) MailerOption { return func(m *Mailer) { m.now = now } }

// NewMailer returns a Mailer of the service's waves; sender nil means
// e-mail is not configured (Enabled is false, Round refuses).
func NewMailer(svc *Service, sender *mail.Sender, opts ...MailerOption) *Mailer {
	m := &Mailer{svc: svc, sender: sender, rate: mail.DefaultRate, now: svc.now, log: svc.log.With("component", "survey-mail"),
		kick: make(chan struct{}, 1)}
	if sender != nil {
		m.rate = sender.Config().RatePerMinute()
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Enabled reports whether an SMTP server is configured.
func (m *Mailer) Enabled() bool { return m != nil && m.sender != nil }

// Rate returns the most messages sent in any minute.
func (m *Mailer) Rate() int { return m.rate }

// Kick asks Run for a round soon (after Invite or Remind); it never
// blocks.
func (m *Mailer) Kick() {
	if !m.Enabled() {
		return
	}
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// Run sends rounds every RoundInterval and after each Kick until ctx
// ends. A failed round is logged and tried again at the next.
func (m *Mailer) Run(ctx context.Context) {
	if !m.Enabled() {
		return
	}
	tick := time.NewTicker(RoundInterval)
	defer tick.Stop()
	for {
		res, err := m.Round(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			m.log.ErrorContext(ctx, "survey mailing round failed", "err", err)
		case res != RoundResult{}:
			m.log.InfoContext(ctx, "survey mailing round", "sent", res.Sent, "failed", res.Failed, "bounced", res.Bounced, "skipped", res.Skipped, "waiting", res.Waiting)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-m.kick:
		}
	}
}

// RoundResult counts what a round did.
type RoundResult struct {
	Sent, Failed, Bounced int
	// Skipped links were taken by another instance, or started, between
	// listing and re-keying.
	Skipped int
	// Waiting is true when the rate left queued mail for a later round.
	Waiting bool
}

// Round sends the queued and failed mail of every open wave (a wave that
// has not opened yet keeps its mail queued), as much as the rate allows
// now, and records each outcome: sent; failed (the server could not be
// reached, or answered 4xx: tried again next round); bounced (the server
// refused the recipient with 5xx: never again).
func (m *Mailer) Round(ctx context.Context) (RoundResult, error) {
	var res RoundResult
	if !m.Enabled() {
		return res, ErrMailNotConfigured
	}
	if m.svc.publicURL == "" {
		return res, ErrNoPublicURL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	waves, err := m.svc.Waves(ctx, "")
	if err != nil {
		return res, fmt.Errorf("mailing round: %w", err)
	}
	r := round{m: m, res: &res}
	defer r.close()
	today := calendar.Day(m.now())
	for _, w := range waves {
		if w.Closed || today < w.Opens || today > w.Closes {
			continue
		}
		budget := m.budget()
		if budget == 0 {
			res.Waiting = true
			break
		}
		links, err := m.svc.links.Links(ctx, auth.LinkFilter{WaveID: w.ID, WithAddress: true,
			States: []string{auth.LinkInvited, auth.LinkStarted}, Mail: []string{auth.MailQueued, auth.MailFailed},
			SendingBefore: m.now().Add(-claimTimeout), Limit: budget + 1})
		if err != nil {
			return res, fmt.Errorf("mailing round, wave %s: %w", w.ID, err)
		}
		if len(links) > budget {
			links, res.Waiting = links[:budget], true
		}
		if len(links) == 0 {
			continue
		}
		texts, err := m.waveTexts(ctx, w)
		if err != nil {
			return res, err
		}
		if err := r.send(ctx, texts, links); err != nil {
			return res, err
		}
	}
	return res, nil
}

// budget returns how many messages the rate allows now, forgetting the
// sends that left the window.
func (m *Mailer) budget() int {
	cutoff := m.now().Add(-time.Minute)
	i := 0
	for i < len(m.sentAt) && !m.sentAt[i].After(cutoff) {
		i++
	}
	m.sentAt = m.sentAt[i:]
	return max(0, m.rate-len(m.sentAt))
}

// round is one round's connection and counts.
type round struct {
	m    *Mailer
	sess *mail.Session
	res  *RoundResult
}

func (r *round) close() {
	if r.sess != nil {
		_ = r.sess.Close()
		r.sess = nil
	}
}

// send mails a wave's links in order; it returns only the errors of the
// link store (the SMTP outcomes are recorded per link).
func (r *round) send(ctx context.Context, texts waveTexts, links []auth.SurveyLink) error {
	m := r.m
	for i, l := range links {
		now := m.now()
		if l.State == auth.LinkStarted && l.Reminders == 0 {
			// Its invitation went out, but the process stopped before
			// recording it: the respondent has the link.
			if err := m.svc.links.SetMail(ctx, l.Hash, auth.MailSent, "", now); err != nil {
				return fmt.Errorf("record mail of a started link: %w", err)
			}
			continue
		}
		if r.sess == nil {
			sess, err := m.sender.Dial(ctx)
			if err != nil {
				// The server cannot be reached: the links wait for the
				// next round, recorded as failed.
				m.log.WarnContext(ctx, "smtp server unreachable", "err", err)
				for _, rest := range links[i:] {
					// Only a link this round holds is marked: another
					// instance may be mailing it.
					switch claimErr := m.svc.links.ClaimMail(ctx, r.claim(rest, auth.Hash{}, now)); {
					case errors.Is(claimErr, auth.ErrLinkNotFound):
						continue
					case claimErr != nil:
						return fmt.Errorf("claim a link to record its failed mail: %w", claimErr)
					}
					if err := m.svc.links.SetMail(ctx, rest.Hash, auth.MailFailed, scrub(err, rest.Address), now); err != nil {
						return fmt.Errorf("record failed mail: %w", err)
					}
					r.res.Failed++
				}
				return nil
			}
			r.sess = sess
		}
		msg, hash, ok, err := r.prepare(ctx, texts, l, now)
		if err != nil {
			return err
		}
		if !ok {
			r.res.Skipped++
			continue
		}
		m.sentAt = append(m.sentAt, now)
		sendErr := r.sess.Send(ctx, msg)
		state := auth.MailSent
		switch {
		case sendErr == nil:
			r.res.Sent++
		case errors.Is(sendErr, mail.ErrPermanent):
			state = auth.MailBounced
			r.res.Bounced++
		default:
			state = auth.MailFailed
			r.res.Failed++
			// The connection may be gone: the next link dials again.
			r.close()
		}
		if err := m.svc.links.SetMail(ctx, hash, state, scrub(sendErr, l.Address), now); err != nil {
			return fmt.Errorf("record mail outcome %s: %w", state, err)
		}
	}
	return nil
}

// prepare claims a link and makes its message: a link nobody opened is
// re-keyed in its claim and gets the new link, a started one a reminder
// without a link, under its own hash. ok is false when the link was not
// there to claim (another instance claimed it first, or its respondent
// started or finished meanwhile).
func (r *round) prepare(ctx context.Context, texts waveTexts, l auth.SurveyLink, now time.Time) (mail.Message, auth.Hash, bool, error) {
	lang := batchLanguage(l.Batch)
	var token string
	hash := l.Hash
	if l.State == auth.LinkInvited {
		token, hash = auth.NewLinkToken()
	}
	claim := r.claim(l, hash, now)
	if err := r.m.svc.links.ClaimMail(ctx, claim); err != nil {
		if errors.Is(err, auth.ErrLinkNotFound) {
			return mail.Message{}, auth.Hash{}, false, nil
		}
		return mail.Message{}, auth.Hash{}, false, fmt.Errorf("claim a link to mail it: %w", err)
	}
	if l.State == auth.LinkStarted {
		return texts.message(lang, mailStartedReminder, l.Address, ""), hash, true, nil
	}
	kind := mailInvitation
	if l.Reminders > 0 {
		kind = mailReminder
	}
	return texts.message(lang, kind, l.Address, r.m.svc.publicURL+"/s/"+token), hash, true, nil
}

// claim is this round's claim of l at now, re-keying it to newHash unless
// that is zero or l's own hash.
func (r *round) claim(l auth.SurveyLink, newHash auth.Hash, now time.Time) auth.MailClaim {
	c := auth.MailClaim{Hash: l.Hash, State: l.State, At: now, StaleBefore: now.Add(-claimTimeout)}
	if newHash != (auth.Hash{}) && newHash != l.Hash {
		c.NewHash = newHash
	}
	return c
}

// scrub makes a send error fit to store: without the recipient's address
// (servers quote it in their replies), on one line, bounded.
func scrub(err error, address string) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if address != "" {
		s = replaceFold(s, address, "<recipient>")
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

func replaceFold(s, old, new string) string {
	lower, lowerOld := strings.ToLower(s), strings.ToLower(old)
	var b strings.Builder
	for {
		i := strings.Index(lower, lowerOld)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(new)
		s, lower = s[i+len(old):], lower[i+len(old):]
	}
}

// Kinds of mail.
type mailKind int

const (
	mailInvitation      mailKind = iota
	mailReminder                 // a reminder with a new link
	mailStartedReminder          // a reminder without a link, to a started response
)

// waveTexts is what a wave's mails say about it.
type waveTexts struct {
	title         string
	project       string
	institution   string
	questionnaire survey.Questionnaire
	closes        time.Time
}

func (m *Mailer) waveTexts(ctx context.Context, w WaveInfo) (waveTexts, error) {
	p, err := m.svc.projects.Project(ctx, w.ProjectID)
	if err != nil {
		return waveTexts{}, fmt.Errorf("mailing round, project of wave %s: %w", w.ID, err)
	}
	q, err := m.svc.Questionnaire(ctx, w.QuestionnaireID, w.QuestionnaireVersion)
	if err != nil {
		return waveTexts{}, fmt.Errorf("mailing round, questionnaire of wave %s: %w", w.ID, err)
	}
	closes, err := time.ParseInLocation(time.DateOnly, w.Closes, calendar.Oslo)
	if err != nil {
		return waveTexts{}, fmt.Errorf("mailing round, wave %s closes %q: %w", w.ID, w.Closes, err)
	}
	return waveTexts{title: w.Title, project: p.Name, institution: p.Institution, questionnaire: q, closes: closes}, nil
}

// message writes one mail in the language: plain text only (no tracking
// pixel, nothing fetched when it is read).
func (t waveTexts) message(lang string, kind mailKind, to, link string) mail.Message {
	lz := locale.For(locale.Lang(lang))
	title := t.title
	if title == "" {
		title = t.questionnaire.Title.In(lang)
	}
	var b strings.Builder
	para := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			b.WriteString(s)
			b.WriteString("\n\n")
		}
	}
	subject := lz.T("surveymail.mail.subject_invitation", "Title", title)
	if kind != mailInvitation {
		subject = lz.T("surveymail.mail.subject_reminder", "Title", title)
	}
	para(lz.T("surveymail.mail.greeting"))
	para(lz.T("surveymail.mail.invitation", "Project", t.project, "Institution", t.institution, "Title", title))
	switch kind {
	case mailReminder:
		para(lz.T("surveymail.mail.reminder_new_link"))
	case mailStartedReminder:
		para(lz.T("surveymail.mail.reminder_started"))
	}
	about := t.questionnaire.Title.In(lang)
	if intro := t.questionnaire.Intro.In(lang); intro != "" {
		about += "\n" + intro
	}
	para(lz.T("surveymail.mail.about") + "\n" + about)
	if link != "" {
		para(lz.T("surveymail.mail.link") + "\n" + link)
	}
	para(lz.T("surveymail.mail.closes", "Closes", lz.Date(t.closes)))
	para(lz.T("surveymail.mail.voluntary"))
	para(lz.T("surveymail.mail.contact", "Institution", t.institution, "Project", t.project))
	b.WriteString(lz.T("surveymail.mail.footer"))
	b.WriteString("\n")
	return mail.Message{To: to, Subject: subject, Text: b.String()}
}
