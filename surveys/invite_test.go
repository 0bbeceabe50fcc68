package surveys

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/survey"
)

func TestParseAddressesLines(t *testing.T) {
	in := "kari@Kommune.NO\n\n  ola@frivillig.example  \nnot an address\nKari@kommune.no\nkari@kommune.no\nper@localhost\n\"Anne Li\" <anne@lag.example>\r\n"
	addrs, dups, problems, err := ParseAddresses(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	// The domain is case-free, the local part is kept as given (it may
	// be case-sensitive), so Kari@ and kari@ are two addresses.
	want := []string{"kari@kommune.no", "ola@frivillig.example", "Kari@kommune.no", "anne@lag.example"}
	if !slices.Equal(addrs, want) {
		t.Errorf("addresses %q, want %q", addrs, want)
	}
	if dups != 1 {
		t.Errorf("duplicates %d, want 1", dups)
	}
	wantProblems := []AddressProblem{addressProblem(4, "not_address"), addressProblem(7, "no_domain")}
	if !slices.Equal(problems, wantProblems) {
		t.Errorf("problems %+v, want %+v", problems, wantProblems)
	}
}

func TestParseAddressesCSV(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		problems []AddressProblem
	}{
		{"comma", "\ufeffname,email,role\nKari,kari@kommune.no,leiar\nOla,ola@lag.example,frivillig\nbroken\n",
			[]string{"kari@kommune.no", "ola@lag.example"}, []AddressProblem{addressProblem(4, "no_column")}},
		{"semicolon from a spreadsheet", "Namn;E-post\r\nKari;kari@kommune.no\r\nOla;ikkje ei adresse\r\n",
			[]string{"kari@kommune.no"}, []AddressProblem{addressProblem(3, "not_address")}},
		{"one column with a header", "email\nkari@kommune.no\n", []string{"kari@kommune.no"}, nil},
		{"csv without an email column", "name,phone\nKari,123\n", nil, []AddressProblem{addressProblem(1, "no_header")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addrs, _, problems, err := ParseAddresses(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(addrs, tc.want) || !slices.Equal(problems, tc.problems) {
				t.Errorf("got %q %+v, want %q %+v", addrs, problems, tc.want, tc.problems)
			}
		})
	}
}

func TestBatchCarriesTheLanguage(t *testing.T) {
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, lang := range survey.Languages {
		if got := batchLanguage(mailBatch(lang, now)); got != lang {
			t.Errorf("language of %q: %q", mailBatch(lang, now), got)
		}
	}
	if got := batchLanguage("download-2027"); got != survey.LangNB {
		t.Errorf("a download's batch: %q, want nb", got)
	}
}

func TestScrubDropsTheAddress(t *testing.T) {
	err := errors.New("550 5.1.1 <Kari@Kommune.no>: Recipient\r\naddress rejected")
	got := scrub(err, "kari@kommune.no")
	if strings.Contains(strings.ToLower(got), "kari") || strings.Contains(got, "\n") {
		t.Fatalf("scrubbed %q still names the address or spans lines", got)
	}
	if got != "550 5.1.1 <<recipient>>: Recipient address rejected" {
		t.Fatalf("scrubbed %q", got)
	}
}

// TestMessagesInNynorsk reads the three kinds of mail a wave sends, in
// nynorsk: who runs the survey, what it is about, the link (or, to a
// started response, none), the close day, that answering is voluntary and
// anonymous, and whom to contact.
func TestMessagesInNynorsk(t *testing.T) {
	texts := waveTexts{title: "OFFRI 2027, kommunale leiarar", project: "OFFRI", institution: "Høgskulen på Vestlandet",
		questionnaire: survey.Questionnaire{Title: survey.Text{"nb": "Samarbeid med frivillige", "nn": "Samarbeid med frivillige"},
			Intro: survey.Text{"nb": "Om leiing og kultur.", "nn": "Om leiing og kultur i kommunen."}},
		closes: time.Date(2027, 3, 31, 0, 0, 0, 0, calendar.Oslo)}
	link := "https://samspill.example/s/abc"
	inv := texts.message("nn", mailInvitation, "kari@kommune.no", link)
	for _, want := range []string{"Hei,", "OFFRI ved Høgskulen på Vestlandet inviterer deg", "«OFFRI 2027, kommunale leiarar»",
		"Om leiing og kultur i kommunen.", link, "open til og med 31. mars 2027", "Det er frivillig å svare", "anonymt",
		"ta kontakt med Høgskulen på Vestlandet"} {
		if !strings.Contains(inv.Text, want) {
			t.Errorf("invitation lacks %q:\n%s", want, inv.Text)
		}
	}
	if inv.Subject != "Invitasjon til spørjeundersøking: OFFRI 2027, kommunale leiarar" || inv.To != "kari@kommune.no" || inv.HTML != "" {
		t.Errorf("invitation %q to %q (html %q)", inv.Subject, inv.To, inv.HTML)
	}
	rem := texts.message("nn", mailReminder, "kari@kommune.no", link)
	if !strings.HasPrefix(rem.Subject, "Påminning: ") || !strings.Contains(rem.Text, "Lenkja i den førre e-posten verkar ikkje lenger") || !strings.Contains(rem.Text, link) {
		t.Errorf("reminder with a new link:\n%s\n%s", rem.Subject, rem.Text)
	}
	started := texts.message("nn", mailStartedReminder, "kari@kommune.no", "")
	if strings.Contains(started.Text, "/s/") || !strings.Contains(started.Text, "Bruk lenkja i den første e-posten") {
		t.Errorf("reminder to a started response:\n%s", started.Text)
	}
	for _, m := range []string{inv.Text, rem.Text, started.Text} {
		if strings.Contains(m, "surveymail.") || strings.Contains(m, "<no value>") {
			t.Errorf("a message id or a missing value in:\n%s", m)
		}
	}
}

// TestRateWindow: the budget is the rate less the sends of the last
// minute, by the Mailer's clock.
func TestRateWindow(t *testing.T) {
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	m := &Mailer{rate: 3, now: func() time.Time { return now }}
	if b := m.budget(); b != 3 {
		t.Fatalf("fresh budget %d", b)
	}
	m.sentAt = append(m.sentAt, now, now.Add(10*time.Second))
	now = now.Add(30 * time.Second)
	if b := m.budget(); b != 1 {
		t.Fatalf("budget after 2 sends %d, want 1", b)
	}
	now = now.Add(31 * time.Second) // the first send left the window
	if b := m.budget(); b != 2 {
		t.Fatalf("budget a minute after the first send %d, want 2", b)
	}
}
