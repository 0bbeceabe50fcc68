package surveys

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
)

// Mailing limits.
const (
	// MaxReminders is the most reminders a link gets.
	MaxReminders = 3
	// ReminderGap is the least time between two mails to one link.
	ReminderGap = 24 * time.Hour
	// MaxAddresses is the most addresses one invitation request takes.
	MaxAddresses = MaxLinksPerCall
)

// ErrNoAddresses means an invitation request held no valid address.
var ErrNoAddresses = errors.New("no e-mail address to invite")

// InviteRequest asks samspill to mail links of a wave, one per address.
type InviteRequest struct {
	// Municipality is one of the wave's (today's code); PartnershipID,
	// when set, is fixed in every link.
	Municipality  string
	PartnershipID string
	// Language is the mails' language: nb, nn or en.
	Language  string
	Addresses []string
}

// InviteResult tells what an invitation request queued.
type InviteResult struct {
	// Queued links are mailed by the next sending rounds.
	Queued int `json:"queued"`
	// Duplicates were given more than once in the request; Known already
	// had a link of the wave. Neither is mailed again.
	Duplicates int `json:"duplicates"`
	Known      int `json:"already_invited"`
}

// MailCounts counts a wave's mailed links by their mailing state.
type MailCounts struct {
	Queued    int `json:"queued"`
	Sent      int `json:"sent"`
	Failed    int `json:"failed"`
	Bounced   int `json:"bounced"`
	Reminders int `json:"reminders"`
	// Completed of the mailed links (the same number tracking counts,
	// never which ones).
	Completed int `json:"completed"`
}

// AddressProblem names one line of an address list that is not an
// address.
type AddressProblem struct {
	Line int `json:"line"`
	// Code names the problem for the pages' catalogues: not_address,
	// too_long, no_domain, no_column (a CSV line without the email
	// column), no_header (a CSV file without a column named email).
	Code    string `json:"code"`
	Message string `json:"message"`
}

// addressProblems are the messages of the problem codes.
var addressProblems = map[string]string{
	"not_address": "not an e-mail address",
	"too_long":    "longer than 254 characters",
	"no_domain":   "the address has no domain with a dot",
	"no_column":   "no email column on this line",
	"no_header":   "a CSV file needs a header row with a column named email",
}

func addressProblem(line int, code string) AddressProblem {
	return AddressProblem{Line: line, Code: code, Message: addressProblems[code]}
}

// ParseAddresses reads an address list: one address per line (pasted, or
// a file of lines), or a CSV file with a column "email" (its header row
// first, separated by commas or semicolons). It returns the valid
// addresses, lower-cased domain, in order with duplicates dropped, the
// number of duplicates, and every line that is not an address. Empty lines
// are skipped.
func ParseAddresses(r io.Reader) (addrs []string, duplicates int, problems []AddressProblem, err error) {
	b, err := io.ReadAll(io.LimitReader(r, 4<<20))
	if err != nil {
		return nil, 0, nil, fmt.Errorf("read address list: %w", err)
	}
	text := strings.TrimPrefix(string(b), "\ufeff") // a spreadsheet's byte order mark
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	// The first line that is not empty tells the form: a CSV header
	// (separated by commas or semicolons, with a column "email"), a lone
	// header "email", or already an address.
	column, first, sep := 0, 0, rune(0)
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if isEmailHeader(l) {
			first = i + 1
		} else if c := strings.IndexAny(l, ",;"); c >= 0 {
			sep = rune(l[c])
			cr := csv.NewReader(strings.NewReader(l))
			cr.Comma = sep
			head, err := cr.Read()
			column = slices.IndexFunc(head, isEmailHeader)
			if err != nil || column < 0 {
				return nil, 0, []AddressProblem{addressProblem(i+1, "no_header")}, nil
			}
			first = i + 1
		}
		break
	}
	seen := map[string]bool{}
	for i := first; i < len(lines); i++ {
		line := lines[i]
		if strings.TrimSpace(line) == "" {
			continue
		}
		field := line
		if sep != 0 {
			cr := csv.NewReader(strings.NewReader(line))
			cr.Comma, cr.FieldsPerRecord = sep, -1
			rec, err := cr.Read()
			if err != nil || column >= len(rec) {
				problems = append(problems, addressProblem(i+1, "no_column"))
				continue
			}
			field = rec[column]
		}
		addr, code := cleanAddress(field)
		if code != "" {
			problems = append(problems, addressProblem(i+1, code))
			continue
		}
		if seen[addr] {
			duplicates++
			continue
		}
		seen[addr] = true
		addrs = append(addrs, addr)
	}
	return addrs, duplicates, problems, nil
}

func isEmailHeader(h string) bool {
	switch strings.ToLower(strings.TrimSpace(h)) {
	case "email", "e-mail", "e-post", "epost":
		return true
	}
	return false
}

// cleanAddress checks one address: a bare address (a name with it is
// dropped), its domain lower-cased; the code says what is wrong
// (addressProblems).
func cleanAddress(s string) (string, string) {
	s = strings.TrimSpace(s)
	if len(s) > 254 {
		return "", "too_long"
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", "not_address"
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at < 1 || !strings.Contains(a.Address[at+1:], ".") {
		return "", "no_domain"
	}
	return a.Address[:at] + "@" + strings.ToLower(a.Address[at+1:]), ""
}

// Invite queues mail to each address: one link per address, made by
// IssueLinks (Mail queued), mailed by the Mailer's next rounds in the
// language asked for. Addresses given twice, and addresses that already
// have a link of the wave, are dropped (counted in the result). A bad
// language or address is a *WaveError naming each; nothing is queued then.
func (s *Service) Invite(ctx context.Context, actor eventstore.Actor, waveID string, req InviteRequest) (InviteResult, error) {
	var problems []FieldProblem
	if !slices.Contains(survey.Languages, req.Language) {
		problems = append(problems, FieldProblem{Field: "language", Message: "must be one of nb, nn, en"})
	}
	if len(req.Addresses) > MaxAddresses {
		problems = append(problems, FieldProblem{Field: "addresses", Message: fmt.Sprintf("at most %d addresses at a time", MaxAddresses)})
	}
	var res InviteResult
	seen := map[string]bool{}
	var addrs []string
	for i, a := range req.Addresses {
		clean, code := cleanAddress(a)
		if code != "" {
			problems = append(problems, FieldProblem{Field: "addresses[" + strconv.Itoa(i) + "]", Message: addressProblems[code]})
			continue
		}
		if seen[clean] {
			res.Duplicates++
			continue
		}
		seen[clean] = true
		addrs = append(addrs, clean)
	}
	if len(problems) > 0 {
		return InviteResult{}, &WaveError{Problems: problems}
	}
	s.inviting.Lock()
	defer s.inviting.Unlock()
	known, err := s.links.Links(ctx, auth.LinkFilter{WaveID: waveID, WithAddress: true})
	if err != nil {
		return InviteResult{}, fmt.Errorf("invite to wave %s: %w", waveID, err)
	}
	have := make(map[string]bool, len(known))
	for _, l := range known {
		have[strings.ToLower(l.Address)] = true
	}
	addrs = slices.DeleteFunc(addrs, func(a string) bool {
		if have[strings.ToLower(a)] {
			res.Known++
			return true
		}
		return false
	})
	if len(addrs) == 0 {
		if res.Known+res.Duplicates > 0 {
			return res, nil
		}
		return res, fmt.Errorf("invite to wave %s: %w", waveID, ErrNoAddresses)
	}
	issued, err := s.IssueLinks(ctx, actor, waveID, LinkRequest{
		Municipality: req.Municipality, PartnershipID: req.PartnershipID,
		Addresses: addrs, Batch: mailBatch(req.Language, s.now()),
	})
	if err != nil {
		return InviteResult{}, fmt.Errorf("invite to wave %s: %w", waveID, err)
	}
	res.Queued = len(issued)
	s.log.InfoContext(ctx, "survey invitations queued", "wave", waveID, "municipality", req.Municipality, "count", res.Queued, "language", req.Language)
	return res, nil
}

// Remind queues a reminder to every mailed link of the wave that is not
// completed, not bounced, has had fewer than MaxReminders reminders and no
// mail for ReminderGap. The sending round gives a link nobody opened a new
// link (re-keyed: the first mail's link stops working), and one that was
// started a reminder without a link (samspill cannot make its link again:
// the response is found only through its token). It returns how many were
// queued.
func (s *Service) Remind(ctx context.Context, actor eventstore.Actor, waveID string) (int, error) {
	wave, err := s.Wave(ctx, waveID)
	if err != nil {
		return 0, fmt.Errorf("remind wave %s: %w", waveID, err)
	}
	now := s.now()
	if wave.Closed || calendar.Day(now) > wave.Closes {
		return 0, fmt.Errorf("remind wave %s: %w", waveID, ErrWaveClosed)
	}
	links, err := s.links.Links(ctx, auth.LinkFilter{WaveID: waveID, WithAddress: true,
		States: []string{auth.LinkInvited, auth.LinkStarted}, Mail: []string{auth.MailSent}})
	if err != nil {
		return 0, fmt.Errorf("remind wave %s: %w", waveID, err)
	}
	n := 0
	for _, l := range links {
		if l.Reminders >= MaxReminders || now.Sub(l.LastMailAt) < ReminderGap {
			continue
		}
		// Conditional: of two reminders asked for at once, one is queued.
		switch err := s.links.QueueReminder(ctx, l.Hash, MaxReminders, now.Add(-ReminderGap), now); {
		case errors.Is(err, auth.ErrLinkNotFound):
			continue
		case err != nil:
			return n, fmt.Errorf("remind wave %s: %w", waveID, err)
		}
		n++
	}
	s.log.InfoContext(ctx, "survey reminders queued", "wave", waveID, "count", n, "by", actor.Subject)
	return n, nil
}

// Mailing counts a wave's mailed links by mailing state.
func (s *Service) Mailing(ctx context.Context, waveID string) (MailCounts, error) {
	if _, err := s.Wave(ctx, waveID); err != nil {
		return MailCounts{}, err
	}
	links, err := s.links.Links(ctx, auth.LinkFilter{WaveID: waveID, WithAddress: true})
	if err != nil {
		return MailCounts{}, fmt.Errorf("mailing of wave %s: %w", waveID, err)
	}
	var c MailCounts
	for _, l := range links {
		switch l.Mail {
		case auth.MailQueued, auth.MailSending:
			c.Queued++
		case auth.MailSent:
			c.Sent++
		case auth.MailFailed:
			c.Failed++
		case auth.MailBounced:
			c.Bounced++
		}
		c.Reminders += l.Reminders
		if l.State == auth.LinkCompleted {
			c.Completed++
		}
	}
	return c, nil
}

// mailBatchPrefix starts the batch name of a mailing, which carries the
// mails' language (a link stores no language of its own).
const mailBatchPrefix = "mail-"

func mailBatch(lang string, now time.Time) string {
	return mailBatchPrefix + lang + "-" + now.UTC().Format("20060102T150405Z")
}

// batchLanguage returns the language of a mailing's batch, bokmål when it
// names none.
func batchLanguage(batch string) string {
	rest, ok := strings.CutPrefix(batch, mailBatchPrefix)
	if lang, _, found := strings.Cut(rest, "-"); ok && found && slices.Contains(survey.Languages, lang) {
		return lang
	}
	return survey.LangNB
}
