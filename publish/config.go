package publish

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Defaults applied by Start to zero fields of Config.
const (
	// DefaultStream is the default Config.Stream.
	DefaultStream = "SAMSPILL"
	// DefaultSubjectPrefix is the default Config.SubjectPrefix.
	DefaultSubjectPrefix = "samspill"
	// DefaultDuplicates is the default Config.Duplicates: JetStream's own
	// default duplicate window.
	DefaultDuplicates = 2 * time.Minute
	// DefaultPublishTimeout is the default Config.PublishTimeout.
	DefaultPublishTimeout = 5 * time.Second
	// DefaultMaxBackoff is the default Config.MaxBackoff.
	DefaultMaxBackoff = 30 * time.Second
)

// Config configures a Forwarder.
type Config struct {
	// URL names the NATS servers: one URL or several separated by commas
	// (nats://host:4222, tls://host:4222 for TLS verified against the
	// system's roots; credentials as nats://user:password@host:4222 or
	// nats://token@host:4222). Required.
	URL string
	// Topic is the topic of the log that is forwarded (eventstore/pubsub:
	// every stream Topic-<id>); it is the subjects' second token.
	// Required.
	Topic string
	// Secret is the installation's key of the pseudonyms that replace the
	// recorders and request ids (at least 16 bytes): the same key as the
	// research export's gives the same pseudonyms. Required.
	Secret []byte
	// Stream is the JetStream stream; the forwarder creates it when it does
	// not exist (subjects SubjectPrefix.>, file storage, no limits,
	// Duplicates as its duplicate window). "" means DefaultStream.
	Stream string
	// SubjectPrefix starts every subject: <prefix>.<topic>.<type>; one or
	// more NATS tokens separated by dots. "" means DefaultSubjectPrefix.
	SubjectPrefix string
	// Duplicates is the duplicate window of a stream the forwarder
	// creates; 0 means DefaultDuplicates. An existing stream keeps its own.
	Duplicates time.Duration
	// PublishTimeout bounds the wait for JetStream's acknowledgement of one
	// publish and each request about the stream; 0 means
	// DefaultPublishTimeout.
	PublishTimeout time.Duration
	// MaxBackoff is the longest wait between two attempts at a failed
	// publish or connection (the first waits 100 ms, each next twice as
	// long); 0 means DefaultMaxBackoff.
	MaxBackoff time.Duration
	// Logger receives the forwarder's log; nil discards it.
	Logger *slog.Logger
}

// Validate reports every problem of the configuration, joined with
// errors.Join; nil when there is none.
func (c Config) Validate() error {
	var problems []error
	if c.URL == "" {
		problems = append(problems, errors.New("no NATS URL"))
	}
	for u := range strings.SplitSeq(c.URL, ",") {
		if c.URL == "" {
			break
		}
		if err := checkURL(strings.TrimSpace(u)); err != nil {
			problems = append(problems, err)
		}
	}
	if c.Topic == "" {
		problems = append(problems, errors.New("no topic"))
	} else if !validToken(c.Topic) {
		problems = append(problems, fmt.Errorf("topic %q is no NATS subject token", c.Topic))
	}
	if len(c.Secret) < 16 {
		problems = append(problems, errors.New("the installation secret is missing or shorter than 16 bytes"))
	}
	if c.Stream != "" && !validToken(c.Stream) { // a stream name has a token's characters too
		problems = append(problems, fmt.Errorf("stream name %q: want letters, digits, - and _ only", c.Stream))
	}
	if c.SubjectPrefix != "" {
		for t := range strings.SplitSeq(c.SubjectPrefix, ".") {
			if !validToken(t) {
				problems = append(problems, fmt.Errorf("subject prefix %q: want tokens of letters, digits, - and _ separated by dots", c.SubjectPrefix))
				break
			}
		}
	}
	if c.Duplicates < 0 || c.PublishTimeout < 0 || c.MaxBackoff < 0 {
		problems = append(problems, errors.New("negative duration"))
	}
	return errors.Join(problems...)
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = DefaultSubjectPrefix
	}
	if c.Duplicates == 0 {
		c.Duplicates = DefaultDuplicates
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = DefaultPublishTimeout
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// checkURL accepts what nats.go connects to: nats:// and tls:// URLs with a
// host.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		return fmt.Errorf("NATS URL cannot be read: %w", ue.Err) // ue names the URL, perhaps a password
	}
	if err != nil {
		return fmt.Errorf("NATS URL cannot be read: %w", err)
	}
	if (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
		return fmt.Errorf("NATS URL %q: want nats://host:4222 or tls://host:4222", redact(s))
	}
	return nil
}

// redact returns the URLs of s (comma-separated) without their
// credentials, for the log.
func redact(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil {
			parts[i] = "(unparsable URL)"
			continue
		}
		if u.User != nil {
			u.User = url.User("REDACTED")
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}

// validToken reports whether s can stand as one token of a subject:
// letters, digits, '-' and '_' (no dots, wildcards or spaces).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !tokenRune(r) {
			return false
		}
	}
	return true
}

func tokenRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}
