// Package mail sends samspill's e-mail (survey invitations and reminders)
// to an SMTP server, with github.com/wneessen/go-mail doing the protocol:
// STARTTLS or implicit TLS, authentication, MIME and UTF-8 headers.
//
// It only sends and classifies the outcome: a message the server accepted
// (nil), a temporary failure worth trying again (ErrTemporary: the server
// could not be reached, refused the sender or the session, or answered
// 4xx), or a permanent refusal of the recipient (ErrPermanent: 5xx to RCPT
// TO or DATA), which must never be tried again. What is sent when, how
// fast, and what is recorded is the caller's (surveys.Mailer).
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLS modes of the connection to the SMTP server.
const (
	// TLSStartTLS connects in plain text and requires STARTTLS before
	// anything is sent (port 587).
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (port 465).
	TLSImplicit = "tls"
	// TLSNone sends in plain text; allowed only to a server on the
	// loopback interface (a local relay or a test server).
	TLSNone = "none"
)

// DefaultRate is the default of Config.Rate, messages per minute.
const DefaultRate = 60

// Errors a send wraps, so callers tell a retry from a bounce with errors.Is.
var (
	ErrTemporary = errors.New("temporary mail failure")
	ErrPermanent = errors.New("recipient refused permanently")
	// ErrInvalidConfig wraps every problem Validate finds.
	ErrInvalidConfig = errors.New("invalid mail configuration")
)

// Config is how to reach the SMTP server. The zero Config (no Addr) means
// e-mail is not configured.
type Config struct {
	// Addr is host:port of the SMTP server.
	Addr string
	// From is the sender's address, optionally with a name
	// ("Samspill <samspill@kommune.no>").
	From string
	// User and Password authenticate (the best mechanism the server
	// offers); no User: no authentication.
	User     string
	Password string
	// TLS is TLSStartTLS (the default when ""), TLSImplicit or TLSNone.
	TLS string
	// Rate is the most messages sent in any minute; 0 means DefaultRate.
	Rate int
	// Timeout bounds the connection and each command; 0 means 30 s.
	Timeout time.Duration
	// TLSConfig overrides the TLS settings (tests with their own
	// certificate authority); nil: the system's roots and the server's
	// host name.
	TLSConfig *tls.Config
}

// Enabled reports whether a server is configured.
func (c Config) Enabled() bool { return c.Addr != "" }

// Validate reports every problem of an enabled configuration, each
// wrapping ErrInvalidConfig; a disabled one is valid.
func (c Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil || host == "" {
		bad("smtp address %q is not host:port", c.Addr)
	} else if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		bad("smtp port %q is not a port number", port)
	}
	if c.From == "" {
		bad("a sender address (--smtp-from) is required")
	} else if _, err := mail.ParseAddress(c.From); err != nil {
		bad("sender address %q: %v", c.From, err)
	}
	switch c.TLS {
	case "", TLSStartTLS, TLSImplicit:
	case TLSNone:
		if host != "" && !isLoopback(host) {
			bad("smtp tls none is allowed only for a server on localhost, not %q", host)
		}
		if c.User != "" {
			bad("smtp authentication needs TLS: a password is never sent in plain text")
		}
	default:
		bad("smtp tls %q is not one of starttls, tls, none", c.TLS)
	}
	if c.Rate < 0 {
		bad("smtp rate %d is negative", c.Rate)
	}
	if c.User == "" && c.Password != "" {
		bad("an smtp password without a user (--smtp-user)")
	}
	return errors.Join(errs...)
}

// RatePerMinute returns Rate, or DefaultRate when unset.
func (c Config) RatePerMinute() int {
	if c.Rate <= 0 {
		return DefaultRate
	}
	return c.Rate
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Message is one e-mail to one recipient.
type Message struct {
	To      string
	Subject string
	// Text is the plain-text body; HTML, when not "", an alternative.
	Text string
	HTML string
}

// Sender sends messages to the configured server. Safe for concurrent
// use; each Session is one connection.
type Sender struct {
	cfg  Config
	host string
	port int
}

// New returns a sender for a valid, enabled configuration.
func New(cfg Config) (*Sender, error) {
	if !cfg.Enabled() {
		return nil, fmt.Errorf("%w: no smtp address", ErrInvalidConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(cfg.Addr)
	p, _ := strconv.Atoi(port)
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &Sender{cfg: cfg, host: host, port: p}, nil
}

// Config returns the sender's configuration (defaults filled in).
func (s *Sender) Config() Config { return s.cfg }

// Session is one connection to the server; not safe for concurrent use.
type Session struct {
	sender *Sender
	client *gomail.Client
}

// Dial connects (and authenticates). A failure wraps ErrTemporary: the
// messages wait for the next round.
func (s *Sender) Dial(ctx context.Context) (*Session, error) {
	opts := []gomail.Option{gomail.WithPort(s.port), gomail.WithTimeout(s.cfg.Timeout)}
	switch s.cfg.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	tlsConfig := s.cfg.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	}
	opts = append(opts, gomail.WithTLSConfig(tlsConfig))
	if s.cfg.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.User), gomail.WithPassword(s.cfg.Password))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client for %s: %w", s.cfg.Addr, err)
	}
	if err := c.DialWithContext(ctx); err != nil {
		return nil, fmt.Errorf("%w: connect to %s: %w", ErrTemporary, s.cfg.Addr, err)
	}
	return &Session{sender: s, client: c}, nil
}

// Close ends the session (QUIT).
func (ss *Session) Close() error {
	if err := ss.client.Close(); err != nil {
		return fmt.Errorf("close smtp session: %w", err)
	}
	return nil
}

// Send sends one message. It returns nil once the server accepted it, or
// an error wrapping ErrPermanent (the recipient was refused with 5xx) or
// ErrTemporary (anything else: 4xx, a broken connection, a refused
// sender). A message that cannot be built (a malformed recipient address)
// is permanent too: sending it again cannot help.
func (ss *Session) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(ss.sender.cfg.From); err != nil {
		return fmt.Errorf("%w: sender %q: %w", ErrTemporary, ss.sender.cfg.From, err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("%w: recipient: %w", ErrPermanent, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageID()
	msg.SetDate()
	// Invitations are sent by a machine, not typed by a person: say so,
	// so that vacation responders stay quiet (RFC 3834).
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrTemporary, err)
	}
	if err := ss.client.Send(msg); err != nil {
		return classify(err)
	}
	return nil
}

// classify wraps a send error as permanent when the server refused the
// recipient or the message with a 5xx reply, temporary otherwise.
func classify(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) {
		switch se.Reason {
		case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
			if code := replyCode(err, se); code >= 500 && code < 600 {
				return fmt.Errorf("%w: %d: %w", ErrPermanent, code, err)
			}
		}
	}
	return fmt.Errorf("%w: %w", ErrTemporary, err)
}

func replyCode(err error, se *gomail.SendError) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return se.ErrorCode()
}
