package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/samspill/samspill/surveys"
	"github.com/samspill/samspill/surveys/mail"
)

// smtpPasswordEnv names the environment variable with the SMTP password
// (or its _FILE twin): never a flag, so that it stays out of process
// lists and shell histories.
const smtpPasswordEnv = "SAMSPILL_SMTP_PASSWORD"

// smtpFlags are serve's flags for mailing survey invitations
// (surveys/mail); no --smtp-addr means e-mail is not configured.
type smtpFlags struct {
	cfg mail.Config
}

func (f *smtpFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.cfg.Addr, "smtp-addr", "", "mail survey invitations through this SMTP server (host:port); without it the links are downloaded as CSV for the municipality's own mailing. Password from "+smtpPasswordEnv+" or "+smtpPasswordEnv+"_FILE")
	fs.StringVar(&f.cfg.From, "smtp-from", "", "with --smtp-addr: the sender's address, e.g. 'Samspill <samspill@kommune.no>'")
	fs.StringVar(&f.cfg.User, "smtp-user", "", "with --smtp-addr: the SMTP user name (none: no authentication)")
	fs.StringVar(&f.cfg.TLS, "smtp-tls", mail.TLSStartTLS, "with --smtp-addr: starttls, tls (implicit, port 465) or none (only for a server on localhost)")
	fs.IntVar(&f.cfg.Rate, "smtp-rate", mail.DefaultRate, "with --smtp-addr: the most messages sent in any minute")
}

// validate checks the flags before anything is opened.
func (f *smtpFlags) validate() error {
	if !f.cfg.Enabled() {
		if f.cfg.From != "" || f.cfg.User != "" {
			return &usageError{command: "serve ", err: fmt.Errorf("--smtp-from and --smtp-user need --smtp-addr")}
		}
		return nil
	}
	if f.cfg.Rate < 1 {
		return &usageError{command: "serve ", err: fmt.Errorf("--smtp-rate %d: send at least 1 message a minute", f.cfg.Rate)}
	}
	if err := f.cfg.Validate(); err != nil {
		return &usageError{command: "serve ", err: err}
	}
	return nil
}

// readPassword takes the password from the environment (the variable,
// or a file it names).
func (f *smtpFlags) readPassword(getenv func(string) string) error {
	value, file := getenv(smtpPasswordEnv), getenv(smtpPasswordEnv+"_FILE")
	switch {
	case value != "" && file != "":
		return &usageError{command: "serve ", err: fmt.Errorf("set %s or %s_FILE, not both", smtpPasswordEnv, smtpPasswordEnv)}
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("read the smtp password: %w", err)
		}
		value = strings.TrimSpace(string(b))
	}
	if value != "" && !f.cfg.Enabled() {
		return &usageError{command: "serve ", err: fmt.Errorf("%s is set but --smtp-addr is not", smtpPasswordEnv)}
	}
	if value != "" && f.cfg.User == "" {
		return &usageError{command: "serve ", err: fmt.Errorf("%s needs --smtp-user", smtpPasswordEnv)}
	}
	f.cfg.Password = value
	return f.validate()
}

// mailer returns the survey mailer of the service: with a sender when
// --smtp-addr is set (the service needs the site's public URL then),
// without one otherwise (the mail page offers the CSV download).
func (f *smtpFlags) mailer(svc *surveys.Service) (*surveys.Mailer, error) {
	if !f.cfg.Enabled() {
		return surveys.NewMailer(svc, nil), nil
	}
	if svc.PublicURL() == "" {
		return nil, &usageError{command: "serve ", err: fmt.Errorf("--smtp-addr needs the site's public URL, which the mailed links start with")}
	}
	sender, err := mail.New(f.cfg)
	if err != nil {
		return nil, &usageError{command: "serve ", err: err}
	}
	return surveys.NewMailer(svc, sender), nil
}

// startMailer runs the mailer's rounds in the background until ctx ends.
func startMailer(ctx context.Context, m *surveys.Mailer, log *slog.Logger) {
	if !m.Enabled() {
		return
	}
	log.Info("survey invitations are mailed", "rate_per_minute", m.Rate())
	go m.Run(ctx)
}
