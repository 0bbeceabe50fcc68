package mail_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/surveys/mail"
	"github.com/samspill/samspill/surveys/mail/mailpittest"
)

func newSender(t *testing.T, addr string) *mail.Sender {
	t.Helper()
	s, err := mail.New(mail.Config{Addr: addr, From: "Samspill <samspill@kommune.example>", TLS: mail.TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("new sender: %v", err)
	}
	return s
}

func TestSendArrivesAtMailpit(t *testing.T) {
	mp := mailpittest.Start(t)
	ctx := context.Background()
	ss, err := newSender(t, mp.SMTPAddr).Dial(ctx)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer ss.Close()
	msg := mail.Message{
		To:      "kari.nordmann@kommune.example",
		Subject: "Spørjeundersøking om samarbeid med frivillige – Ålesund",
		Text:    "Hei!\n\nDu er invitert til å svare på ei spørjeundersøking.\nLenkje: https://samspill.example/s/abc\n",
		HTML:    "<p>Hei!</p><p>Du er invitert til å svare.</p>",
	}
	if err := ss.Send(ctx, msg); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := mp.To(t, msg.To)
	if len(got) != 1 {
		t.Fatalf("mailpit has %d messages to %s, want 1", len(got), msg.To)
	}
	m := got[0]
	if m.Subject != msg.Subject {
		t.Errorf("subject %q, want %q", m.Subject, msg.Subject)
	}
	// SMTP carries lines ended by CRLF.
	if got := strings.ReplaceAll(m.Text, "\r\n", "\n"); strings.TrimSpace(got) != strings.TrimSpace(msg.Text) {
		t.Errorf("text body %q, want %q", m.Text, msg.Text)
	}
	if !strings.Contains(m.HTML, "Du er invitert til å svare.") {
		t.Errorf("html alternative %q lacks its text", m.HTML)
	}
	if m.From.Address != "samspill@kommune.example" || m.From.Name != "Samspill" {
		t.Errorf("from %+v", m.From)
	}
	if m.Headers["Auto-Submitted"] != "auto-generated" {
		t.Errorf("Auto-Submitted header %q, want auto-generated", m.Headers["Auto-Submitted"])
	}
	if m.Headers["Message-Id"] == "" && m.Headers["Message-ID"] == "" {
		t.Errorf("no Message-ID header: %v", m.Headers)
	}
}

func TestRecipientRefusedWith550IsPermanent(t *testing.T) {
	// Mailpit answers 550 to every recipient the regexp does not match.
	mp := mailpittest.Start(t, "--smtp-allowed-recipients", `@kommune\.example$`)
	ctx := context.Background()
	ss, err := newSender(t, mp.SMTPAddr).Dial(ctx)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer ss.Close()
	err = ss.Send(ctx, mail.Message{To: "nobody@elsewhere.example", Subject: "x", Text: "x"})
	if !errors.Is(err, mail.ErrPermanent) || errors.Is(err, mail.ErrTemporary) {
		t.Fatalf("send to a refused recipient: %v, want ErrPermanent only", err)
	}
	// The session goes on after a refused recipient.
	if err := ss.Send(ctx, mail.Message{To: "ok@kommune.example", Subject: "y", Text: "y"}); err != nil {
		t.Fatalf("send after a refusal: %v", err)
	}
	if n := len(mp.Messages(t)); n != 1 {
		t.Fatalf("mailpit holds %d messages, want 1", n)
	}
}

func TestDeadServerIsTemporary(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	_, err = newSender(t, addr).Dial(context.Background())
	if !errors.Is(err, mail.ErrTemporary) {
		t.Fatalf("dial a dead server: %v, want ErrTemporary", err)
	}
}

// fakeSMTP is a minimal SMTP server that answers RCPT TO with rcptReply
// (and everything else with success), for replies Mailpit cannot be
// told to give.
func fakeSMTP(t *testing.T, rcptReply string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tp := textproto.NewConn(c)
				_ = tp.PrintfLine("220 fake ESMTP")
				for {
					line, err := tp.ReadLine()
					if err != nil {
						return
					}
					cmd := strings.ToUpper(strings.Fields(line + " x")[0])
					switch cmd {
					case "EHLO", "HELO":
						_ = tp.PrintfLine("250-fake\r\n250 8BITMIME")
					case "RCPT":
						_ = tp.PrintfLine("%s", rcptReply)
					case "DATA":
						_ = tp.PrintfLine("354 go on")
						if _, err := tp.ReadDotBytes(); err != nil {
							return
						}
						_ = tp.PrintfLine("250 queued")
					case "QUIT":
						_ = tp.PrintfLine("221 bye")
						return
					default:
						_ = tp.PrintfLine("250 ok")
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

func TestReplyCodesDecideTemporaryOrPermanent(t *testing.T) {
	for _, tc := range []struct {
		reply string
		want  error
	}{
		{"451 4.3.0 try again later", mail.ErrTemporary},
		{"452 4.2.2 mailbox full", mail.ErrTemporary},
		{"550 5.1.1 no such user", mail.ErrPermanent},
		{"553 5.1.3 bad address", mail.ErrPermanent},
	} {
		t.Run(tc.reply[:3], func(t *testing.T) {
			ctx := context.Background()
			ss, err := newSender(t, fakeSMTP(t, tc.reply)).Dial(ctx)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer ss.Close()
			err = ss.Send(ctx, mail.Message{To: "a@kommune.example", Subject: "s", Text: "t"})
			if !errors.Is(err, tc.want) {
				t.Fatalf("reply %q: %v, want %v", tc.reply, err, tc.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  mail.Config
		bad  []string // words each expected problem contains; nil: valid
	}{
		{"disabled", mail.Config{}, nil},
		{"starttls default", mail.Config{Addr: "smtp.kommune.no:587", From: "samspill@kommune.no", User: "u", Password: "p"}, nil},
		{"none on localhost", mail.Config{Addr: "127.0.0.1:1025", From: "a@b.no", TLS: "none"}, nil},
		{"none elsewhere", mail.Config{Addr: "smtp.kommune.no:25", From: "a@b.no", TLS: "none"}, []string{"only for a server on localhost"}},
		{"everything wrong", mail.Config{Addr: "nohost", From: "not an address", TLS: "ssl", Rate: -1, Password: "p"},
			[]string{"not host:port", "sender address", "not one of starttls", "negative", "without a user"}},
		{"no from", mail.Config{Addr: "localhost:25"}, []string{"sender address (--smtp-from) is required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.bad == nil {
				if err != nil {
					t.Fatalf("valid config refused: %v", err)
				}
				return
			}
			if !errors.Is(err, mail.ErrInvalidConfig) {
				t.Fatalf("error %v does not wrap ErrInvalidConfig", err)
			}
			for _, w := range tc.bad {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key into dir and
// returns their paths and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestStartTLSWithAuthentication: the default mode upgrades with
// STARTTLS (Mailpit requires it) and authenticates; a server that offers
// no STARTTLS is a temporary failure, never a plain-text send.
func TestStartTLSWithAuthentication(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	mp := mailpittest.Start(t, "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile, "--smtp-require-starttls")
	cfg := mail.Config{Addr: mp.SMTPAddr, From: "samspill@kommune.example", User: "samspill", Password: "hemmeleg",
		TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}, Timeout: 5 * time.Second}
	s, err := mail.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ss, err := s.Dial(ctx)
	if err != nil {
		t.Fatalf("dial with STARTTLS: %v", err)
	}
	defer ss.Close()
	if err := ss.Send(ctx, mail.Message{To: "kari@kommune.example", Subject: "TLS", Text: "over TLS"}); err != nil {
		t.Fatalf("send over STARTTLS: %v", err)
	}
	if got := mp.To(t, "kari@kommune.example"); len(got) != 1 || got[0].Username != "samspill" {
		t.Fatalf("arrived: %+v; want 1 message, authenticated as samspill", got)
	}

	plain := mailpittest.Start(t) // offers no STARTTLS
	cfg.Addr = plain.SMTPAddr
	s, err = mail.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Dial(ctx); !errors.Is(err, mail.ErrTemporary) {
		t.Fatalf("dial a server without STARTTLS: %v; want ErrTemporary", err)
	}
	if n := len(plain.Messages(t)); n != 0 {
		t.Fatalf("%d messages went in plain text", n)
	}
}
