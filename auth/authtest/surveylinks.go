package authtest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/internal/contract"
)

// LinkOpener returns a fresh, empty survey link store.
type LinkOpener = contract.Opener[auth.SurveyLinkStore]

// RunSurveyLinks runs the SurveyLinkStore rules against stores made by open.
func RunSurveyLinks(t *testing.T, open LinkOpener) {
	t.Helper()
	contract.Run(t, open, linkRules)
}

var linkRules = []contract.Rule[auth.SurveyLinkStore]{
	{Name: "CreateReadAndRefuse", Test: testLinkCreateRead},
	{Name: "MarkOnlyForward", Test: testLinkMarkForward},
	{Name: "ListAndFilter", Test: testLinkList},
	{Name: "MailAndReminders", Test: testLinkMail},
	{Name: "Count", Test: testLinkCount},
	{Name: "ClaimMail", Test: testLinkClaim},
	{Name: "ConcurrentClaimOneWins", Test: testLinkConcurrentClaim},
	{Name: "QueueReminderOnce", Test: testLinkQueueReminder},
	{Name: "EraseAddresses", Test: testLinkErase},
}

// someLink is a valid link of wave w in municipality m.
func someLink(w, m, partnership, address string) (string, auth.SurveyLink) {
	token, hash := auth.NewLinkToken()
	l := auth.SurveyLink{Hash: hash, WaveID: w, ProjectID: "offri", Municipality: m, Group: "volunteers",
		PartnershipID: partnership, Batch: "b1", ExpiresAt: time.Date(2027, 3, 1, 23, 0, 0, 0, time.UTC),
		State: auth.LinkInvited, CreatedAt: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), Address: address}
	if address != "" {
		l.Mail = auth.MailQueued
	}
	return token, l
}

func createLinks(t *testing.T, s auth.SurveyLinkStore, links ...auth.SurveyLink) {
	t.Helper()
	if err := s.CreateLinks(contract.Context(t), links); err != nil {
		t.Fatalf("CreateLinks: %v", err)
	}
}

func linkState(t *testing.T, s auth.SurveyLinkStore, h auth.Hash) string {
	t.Helper()
	l, err := s.Link(contract.Context(t), h)
	if err != nil {
		t.Fatalf("Link: %v", err)
	}
	return l.State
}

// testLinkCreateRead: a link reads back as stored; an unknown hash is
// ErrLinkNotFound; a malformed link is refused and a batch with one
// stores none; a hash used twice stores none of the batch.
func testLinkCreateRead(t *testing.T, open LinkOpener) {
	ctx := contract.Context(t)
	s := open(t)
	_, l := someLink("w1", "5006", "", "kari@example.no")
	createLinks(t, s, l)
	got, err := s.Link(ctx, l.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if !got.ExpiresAt.Equal(l.ExpiresAt) || !got.CreatedAt.Equal(l.CreatedAt) || !got.LastMailAt.IsZero() {
		t.Errorf("times: %v %v %v", got.ExpiresAt, got.CreatedAt, got.LastMailAt)
	}
	got.ExpiresAt, got.CreatedAt = l.ExpiresAt, l.CreatedAt
	if got != l {
		t.Errorf("Link = %+v\nwant %+v", got, l)
	}
	_, other := someLink("w1", "5006", "", "")
	if _, err := s.Link(ctx, other.Hash); !errors.Is(err, auth.ErrLinkNotFound) {
		t.Errorf("unknown hash: %v", err)
	}
	for name, bad := range map[string]func(*auth.SurveyLink){
		"no hash":  func(l *auth.SurveyLink) { l.Hash = auth.Hash{} },
		"no wave":  func(l *auth.SurveyLink) { l.WaveID = "" },
		"state":    func(l *auth.SurveyLink) { l.State = "opened" },
		"mail":     func(l *auth.SurveyLink) { l.Mail = "posted" },
		"expiry":   func(l *auth.SurveyLink) { l.ExpiresAt = time.Time{} },
		"no group": func(l *auth.SurveyLink) { l.Group = "" },
	} {
		_, good := someLink("w1", "5006", "", "")
		_, b := someLink("w1", "5006", "", "")
		bad(&b)
		if err := s.CreateLinks(ctx, []auth.SurveyLink{good, b}); !errors.Is(err, auth.ErrInvalidLink) {
			t.Errorf("%s: CreateLinks = %v; want ErrInvalidLink", name, err)
		}
		if _, err := s.Link(ctx, good.Hash); !errors.Is(err, auth.ErrLinkNotFound) {
			t.Errorf("%s: the good link of a refused batch was stored (%v)", name, err)
		}
	}
	_, fresh := someLink("w1", "5006", "", "")
	if err := s.CreateLinks(ctx, []auth.SurveyLink{fresh, l}); err == nil {
		t.Error("a hash stored twice was accepted")
	}
	if _, err := s.Link(ctx, fresh.Hash); !errors.Is(err, auth.ErrLinkNotFound) {
		t.Errorf("the first link of a refused batch was stored (%v)", err)
	}
}

// testLinkMarkForward: invited → started → completed, started twice is
// fine, nothing goes back, a completed link refuses every mark, an unknown
// one is ErrLinkNotFound, a bad state ErrInvalidLink.
func testLinkMarkForward(t *testing.T, open LinkOpener) {
	ctx := contract.Context(t)
	s := open(t)
	_, l := someLink("w1", "5006", "", "")
	_, direct := someLink("w1", "5006", "", "")
	createLinks(t, s, l, direct)
	if err := s.MarkLink(ctx, l.Hash, auth.LinkInvited); !errors.Is(err, auth.ErrInvalidLink) {
		t.Errorf("mark invited: %v", err)
	}
	for _, st := range []string{auth.LinkStarted, auth.LinkStarted} {
		if err := s.MarkLink(ctx, l.Hash, st); err != nil {
			t.Fatalf("mark %s: %v", st, err)
		}
	}
	if got := linkState(t, s, l.Hash); got != auth.LinkStarted {
		t.Errorf("state %s", got)
	}
	if err := s.MarkLink(ctx, l.Hash, auth.LinkCompleted); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{auth.LinkStarted, auth.LinkCompleted} {
		if err := s.MarkLink(ctx, l.Hash, st); !errors.Is(err, auth.ErrLinkCompleted) {
			t.Errorf("mark %s of a completed link: %v", st, err)
		}
	}
	if got := linkState(t, s, l.Hash); got != auth.LinkCompleted {
		t.Errorf("state went back to %s", got)
	}
	// Submitted without a save first: invited → completed.
	if err := s.MarkLink(ctx, direct.Hash, auth.LinkCompleted); err != nil || linkState(t, s, direct.Hash) != auth.LinkCompleted {
		t.Errorf("invited → completed: %v", err)
	}
	_, unknown := someLink("w1", "5006", "", "")
	if err := s.MarkLink(ctx, unknown.Hash, auth.LinkStarted); !errors.Is(err, auth.ErrLinkNotFound) {
		t.Errorf("unknown link: %v", err)
	}
}

// testLinkList: a wave's links oldest first (not another wave's), by
// state, by mail, with an address, limited.
func testLinkList(t *testing.T, open LinkOpener) {
	ctx := contract.Context(t)
	s := open(t)
	var hashes []auth.Hash
	for i := range 4 {
		addr := ""
		if i%2 == 0 {
			addr = "person" + string(rune('a'+i)) + "@example.no"
		}
		_, l := someLink("w1", "5006", "", addr)
		createLinks(t, s, l) // one by one: creation order is list order
		hashes = append(hashes, l.Hash)
	}
	_, other := someLink("w2", "5006", "", "x@example.no")
	createLinks(t, s, other)
	if err := s.MarkLink(ctx, hashes[2], auth.LinkStarted); err != nil {
		t.Fatal(err)
	}
	list := func(f auth.LinkFilter) []auth.Hash {
		t.Helper()
		ls, err := s.Links(ctx, f)
		if err != nil {
			t.Fatalf("Links(%+v): %v", f, err)
		}
		out := []auth.Hash{}
		for _, l := range ls {
			out = append(out, l.Hash)
		}
		return out
	}
	for _, c := range []struct {
		f    auth.LinkFilter
		want []auth.Hash
	}{
		{auth.LinkFilter{WaveID: "w1"}, hashes},
		{auth.LinkFilter{WaveID: "w1", Limit: 2}, hashes[:2]},
		{auth.LinkFilter{WaveID: "w1", States: []string{auth.LinkInvited}}, []auth.Hash{hashes[0], hashes[1], hashes[3]}},
		{auth.LinkFilter{WaveID: "w1", WithAddress: true}, []auth.Hash{hashes[0], hashes[2]}},
		{auth.LinkFilter{WaveID: "w1", Mail: []string{auth.MailQueued}, States: []string{auth.LinkInvited}}, []auth.Hash{hashes[0]}},
		{auth.LinkFilter{WaveID: "w1", Mail: []string{auth.MailNone}}, []auth.Hash{hashes[1], hashes[3]}},
		{auth.LinkFilter{WaveID: "w3"}, []auth.Hash{}},
	} {
		if got := list(c.f); !slices.Equal(got, c.want) {
			t.Errorf("Links(%+v): %d links, want %d (or out of order)", c.f, len(got), len(c.want))
		}
	}
}

// testLinkMail: SetMail records the outcome and the time (reminders are
// counted by QueueReminder); an unknown link is ErrLinkNotFound; a bad
// state ErrInvalidLink.
func testLinkMail(t *testing.T, open LinkOpener) {
	ctx := contract.Context(t)
	s := open(t)
	_, l := someLink("w1", "5006", "", "kari@example.no")
	createLinks(t, s, l)
	at := time.Date(2026, 12, 8, 9, 30, 0, 0, time.UTC)
	if err := s.SetMail(ctx, l.Hash, auth.MailSent, "", at); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMail(ctx, l.Hash, auth.MailFailed, "421 try later", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Link(ctx, l.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if got.Mail != auth.MailFailed || got.MailError != "421 try later" || got.Reminders != 0 || !got.LastMailAt.Equal(at.Add(time.Hour)) {
		t.Errorf("after mailing: %+v", got)
	}
	if err := s.SetMail(ctx, l.Hash, "lost", "", at); !errors.Is(err, auth.ErrInvalidLink) {
		t.Errorf("bad mail state: %v", err)
	}
	_, unknown := someLink("w1", "5006", "", "")
	if err := s.SetMail(ctx, unknown.Hash, auth.MailSent, "", at); !errors.Is(err, auth.ErrLinkNotFound) {
		t.Errorf("unknown link: %v", err)
	}
}

// testLinkCount: counts by municipality, group and partnership, started
// counting completed ones, bounced ones counted; another wave's apart.
func testLinkCount(t *testing.T, open LinkOpener) {
	ctx := contract.Context(t)
	s := open(t)
	var ls []auth.SurveyLink
	for _, c := range []struct{ m, p string }{{"5006", ""}, {"5006", ""}, {"5006", ""}, {"5006", "p1"}, {"0301", ""}} {
		_, l := someLink("w1", c.m, c.p, "")
		ls = append(ls, l)
	}
	_, other := someLink("w2", "5006", "", "")
	createLinks(t, s, append(ls, other)...)
	for _, m := range []struct {
		i     int
		state string
	}{{0, auth.LinkStarted}, {1, auth.LinkCompleted}, {3, auth.LinkCompleted}} {
		if err := s.MarkLink(ctx, ls[m.i].Hash, m.state); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetMail(ctx, ls[2].Hash, auth.MailBounced, "550 no such user", time.Now()); err != nil {
		t.Fatal(err)
	}
	got, err := s.CountLinks(ctx, "w1")
	if err != nil {
		t.Fatal(err)
	}
	want := []auth.LinkCount{
		{Municipality: "0301", Group: "volunteers", Invited: 1},
		{Municipality: "5006", Group: "volunteers", Invited: 3, Started: 2, Completed: 1, Bounced: 1},
		{Municipality: "5006", Group: "volunteers", PartnershipID: "p1", Invited: 1, Started: 1, Completed: 1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("CountLinks = %+v\nwant %+v", got, want)
	}
	if got, err := s.CountLinks(ctx, "w9"); err != nil || len(got) != 0 {
		t.Errorf("CountLinks of no wave = %v, %v", got, err)
	}
}

// testLinkClaim: a claim takes a queued or failed link for one message
// (mail sending, LastMailAt its time) and re-keys an invited one (the old
// hash stops working, the link keeps its place in the list); nobody takes
// it again until the claim is stale, when the listing of a round offers it
// again; a link not in the claim's state, an unknown hash, a sent or
// bounced link, are ErrLinkNotFound; a malformed claim is refused.
func testLinkClaim(t *testing.T, open LinkOpener) {
	ctx := contract.Context(t)
	s := open(t)
	at := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	_, a := someLink("w1", "5006", "", "a@example.no")
	_, b := someLink("w1", "5006", "", "b@example.no")
	_, c := someLink("w1", "5006", "", "c@example.no")
	createLinks(t, s, a, b, c)
	_, newHash := auth.NewLinkToken()
	if err := s.ClaimMail(ctx, auth.MailClaim{Hash: a.Hash, State: auth.LinkInvited, NewHash: newHash, At: at, StaleBefore: at.Add(-10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Link(ctx, a.Hash); !errors.Is(err, auth.ErrLinkNotFound) {
		t.Errorf("old hash still works: %v", err)
	}
	got, err := s.Link(ctx, newHash)
	if err != nil || got.Address != "a@example.no" || got.Mail != auth.MailSending || !got.LastMailAt.Equal(at) {
		t.Errorf("claimed link: %+v, %v; want mail sending at %v", got, err, at)
	}
	if ls, err := s.Links(ctx, auth.LinkFilter{WaveID: "w1"}); err != nil || len(ls) != 3 || ls[0].Hash != newHash {
		t.Errorf("a re-keyed link lost its place: %v", err)
	}

	// A second round lists and claims nothing of it until the claim is
	// stale.
	round := auth.LinkFilter{WaveID: "w1", Mail: []string{auth.MailQueued, auth.MailFailed}, SendingBefore: at.Add(-10 * time.Minute)}
	if ls, err := s.Links(ctx, round); err != nil || len(ls) != 2 || ls[0].Hash != b.Hash {
		t.Errorf("a round's listing beside a fresh claim: %d links, %v; want b and c", len(ls), err)
	}
	if err := s.ClaimMail(ctx, auth.MailClaim{Hash: newHash, State: auth.LinkInvited, At: at.Add(time.Minute), StaleBefore: at.Add(-9 * time.Minute)}); !errors.Is(err, auth.ErrLinkNotFound) {
		t.Errorf("a second claim of a fresh claim: %v; want ErrLinkNotFound", err)
	}
	later := at.Add(11 * time.Minute)
	round.SendingBefore = later.Add(-10 * time.Minute)
	if ls, err := s.Links(ctx, round); err != nil || len(ls) != 3 || ls[0].Hash != newHash {
		t.Errorf("a round's listing after the claim went stale: %d links, %v; want all three", len(ls), err)
	}
	_, newer := auth.NewLinkToken()
	if err := s.ClaimMail(ctx, auth.MailClaim{Hash: newHash, State: auth.LinkInvited, NewHash: newer, At: later, StaleBefore: later.Add(-10 * time.Minute)}); err != nil {
		t.Errorf("a claim of a stale claim: %v", err)
	}

	// Outcomes end a claim: a sent link is not claimed.
	if err := s.SetMail(ctx, newer, auth.MailSent, "", later); err != nil {
		t.Fatal(err)
	}
	if err := s.ClaimMail(ctx, auth.MailClaim{Hash: newer, State: auth.LinkInvited, At: later.Add(time.Hour)}); !errors.Is(err, auth.ErrLinkNotFound) {
		t.Errorf("a claim of a sent link: %v; want ErrLinkNotFound", err)
	}
	// A started link is claimed for a reminder without a new link, under
	// its own hash; a claim made for an invited one finds nothing.
	if err := s.MarkLink(ctx, b.Hash, auth.LinkStarted); err != nil {
		t.Fatal(err)
	}
	_, other := auth.NewLinkToken()
	if err := s.ClaimMail(ctx, auth.MailClaim{Hash: b.Hash, State: auth.LinkInvited, NewHash: other, At: at}); !errors.Is(err, auth.ErrLinkNotFound) {
		t.Errorf("a re-keying claim of a started link: %v; want ErrLinkNotFound", err)
	}
	if err := s.ClaimMail(ctx, auth.MailClaim{Hash: b.Hash, State: auth.LinkStarted, At: at}); err != nil {
		t.Errorf("a claim of a started link for a reminder: %v", err)
	}
	if got, err := s.Link(ctx, b.Hash); err != nil || got.Mail != auth.MailSending {
		t.Errorf("started link after its claim: %+v, %v", got, err)
	}
	if err := s.ClaimMail(ctx, auth.MailClaim{Hash: a.Hash, State: auth.LinkInvited, At: at}); !errors.Is(err, auth.ErrLinkNotFound) {
		t.Errorf("a claim of an old hash: %v; want ErrLinkNotFound", err)
	}
	for _, bad := range []auth.MailClaim{
		{State: auth.LinkInvited, At: at},
		{Hash: c.Hash, State: auth.LinkInvited},
		{Hash: c.Hash, State: auth.LinkCompleted, At: at},
		{Hash: c.Hash, State: auth.LinkStarted, NewHash: other, At: at},
	} {
		if err := s.ClaimMail(ctx, bad); !errors.Is(err, auth.ErrInvalidLink) {
			t.Errorf("ClaimMail(%+v): %v; want ErrInvalidLink", bad, err)
		}
	}
}

// testLinkConcurrentClaim: of several claims of one link at once, exactly
// one succeeds and the link has its hash.
func testLinkConcurrentClaim(t *testing.T, open LinkOpener) {
	ctx := contract.Context(t)
	s := open(t)
	at := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	_, l := someLink("w1", "5006", "", "a@example.no")
	createLinks(t, s, l)
	const n = 8
	var (
		wg   sync.WaitGroup
		errs [n]error
		news [n]auth.Hash
	)
	for i := range n {
		_, news[i] = auth.NewLinkToken()
		wg.Go(func() {
			errs[i] = s.ClaimMail(ctx, auth.MailClaim{Hash: l.Hash, State: auth.LinkInvited, NewHash: news[i], At: at, StaleBefore: at.Add(-10 * time.Minute)})
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("claims %d and %d both succeeded", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, auth.ErrLinkNotFound):
			t.Errorf("claim %d: %v", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no claim succeeded")
	}
	if _, err := s.Link(ctx, news[won]); err != nil {
		t.Errorf("the winner's hash: %v", err)
	}
}

// testLinkQueueReminder: a reminder is queued to a sent link whose last
// mail is old enough and that has had fewer reminders than the most; of
// several asked for at once exactly one is queued; a link not sent, mailed
// too recently or at the most reminders is ErrLinkNotFound.
func testLinkQueueReminder(t *testing.T, open LinkOpener) {
	ctx := contract.Context(t)
	s := open(t)
	sentAt := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	now := sentAt.Add(25 * time.Hour)
	_, a := someLink("w1", "5006", "", "a@example.no")
	_, b := someLink("w1", "5006", "", "b@example.no")
	createLinks(t, s, a, b)
	if err := s.SetMail(ctx, a.Hash, auth.MailSent, "", sentAt); err != nil {
		t.Fatal(err)
	}
	const n = 6
	var (
		wg   sync.WaitGroup
		errs [n]error
	)
	for i := range n {
		wg.Go(func() { errs[i] = s.QueueReminder(ctx, a.Hash, 3, now.Add(-24*time.Hour), now) })
	}
	wg.Wait()
	queued := 0
	for i, err := range errs {
		switch {
		case err == nil:
			queued++
		case !errors.Is(err, auth.ErrLinkNotFound):
			t.Errorf("reminder %d: %v", i, err)
		}
	}
	got, err := s.Link(ctx, a.Hash)
	if queued != 1 || err != nil || got.Mail != auth.MailQueued || got.Reminders != 1 || !got.LastMailAt.Equal(now) {
		t.Fatalf("%d of %d reminders at once queued; link %+v, %v; want one, mail queued, 1 reminder, last mail %v", queued, n, got, err, now)
	}
	if err := s.QueueReminder(ctx, b.Hash, 3, now.Add(-24*time.Hour), now); !errors.Is(err, auth.ErrLinkNotFound) {
		t.Errorf("a reminder to a link never sent: %v; want ErrLinkNotFound", err)
	}
	if err := s.SetMail(ctx, b.Hash, auth.MailBounced, "550 no such user", sentAt); err != nil {
		t.Fatal(err)
	}
	if err := s.QueueReminder(ctx, b.Hash, 3, now.Add(-24*time.Hour), now); !errors.Is(err, auth.ErrLinkNotFound) {
		t.Errorf("a reminder to a bounced link: %v; want ErrLinkNotFound", err)
	}
	if err := s.SetMail(ctx, a.Hash, auth.MailSent, "", now); err != nil {
		t.Fatal(err)
	}
	if err := s.QueueReminder(ctx, a.Hash, 3, now.Add(time.Hour-24*time.Hour), now.Add(time.Hour)); !errors.Is(err, auth.ErrLinkNotFound) {
		t.Errorf("a reminder an hour after the last mail: %v; want ErrLinkNotFound", err)
	}
	if err := s.QueueReminder(ctx, a.Hash, 1, now.Add(24*time.Hour), now.Add(48*time.Hour)); !errors.Is(err, auth.ErrLinkNotFound) {
		t.Errorf("a reminder beyond the most: %v; want ErrLinkNotFound", err)
	}
}

// testLinkErase: a wave's addresses are erased (counted), another wave's
// kept; erasing again erases nothing.
func testLinkErase(t *testing.T, open LinkOpener) {
	ctx := contract.Context(t)
	s := open(t)
	_, a := someLink("w1", "5006", "", "a@example.no")
	_, b := someLink("w1", "5006", "", "")
	_, c := someLink("w2", "5006", "", "c@example.no")
	createLinks(t, s, a, b, c)
	if n, err := s.EraseAddresses(ctx, "w1"); err != nil || n != 1 {
		t.Fatalf("EraseAddresses = %d, %v; want 1", n, err)
	}
	if got, _ := s.Link(ctx, a.Hash); got.Address != "" {
		t.Errorf("address kept: %q", got.Address)
	}
	if got, _ := s.Link(ctx, c.Hash); got.Address != "c@example.no" {
		t.Errorf("another wave's address: %q", got.Address)
	}
	if n, err := s.EraseAddresses(ctx, "w1"); err != nil || n != 0 {
		t.Errorf("second erase = %d, %v", n, err)
	}
}
