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
	{Name: "RekeyOnlyInvited", Test: testLinkRekey},
	{Name: "ConcurrentRekeyOneWins", Test: testLinkConcurrentRekey},
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

// testLinkMail: SetMail records the outcome, counts reminders and the
// time; an unknown link is ErrLinkNotFound; a bad state ErrInvalidLink.
func testLinkMail(t *testing.T, open LinkOpener) {
	ctx := contract.Context(t)
	s := open(t)
	_, l := someLink("w1", "5006", "", "kari@example.no")
	createLinks(t, s, l)
	at := time.Date(2026, 12, 8, 9, 30, 0, 0, time.UTC)
	if err := s.SetMail(ctx, l.Hash, auth.MailSent, "", false, at); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMail(ctx, l.Hash, auth.MailFailed, "421 try later", true, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Link(ctx, l.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if got.Mail != auth.MailFailed || got.MailError != "421 try later" || got.Reminders != 1 || !got.LastMailAt.Equal(at.Add(time.Hour)) {
		t.Errorf("after mailing: %+v", got)
	}
	if err := s.SetMail(ctx, l.Hash, "lost", "", false, at); !errors.Is(err, auth.ErrInvalidLink) {
		t.Errorf("bad mail state: %v", err)
	}
	_, unknown := someLink("w1", "5006", "", "")
	if err := s.SetMail(ctx, unknown.Hash, auth.MailSent, "", false, at); !errors.Is(err, auth.ErrLinkNotFound) {
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
	if err := s.SetMail(ctx, ls[2].Hash, auth.MailBounced, "550 no such user", false, time.Now()); err != nil {
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

// testLinkRekey: an invited link takes a new hash (the old one stops
// working, the link keeps its place in the list); a started one, or an
// unknown hash, is ErrLinkNotFound.
func testLinkRekey(t *testing.T, open LinkOpener) {
	ctx := contract.Context(t)
	s := open(t)
	_, a := someLink("w1", "5006", "", "a@example.no")
	_, b := someLink("w1", "5006", "", "b@example.no")
	createLinks(t, s, a, b)
	_, newHash := auth.NewLinkToken()
	if err := s.RekeyLink(ctx, a.Hash, newHash); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Link(ctx, a.Hash); !errors.Is(err, auth.ErrLinkNotFound) {
		t.Errorf("old hash still works: %v", err)
	}
	if got, err := s.Link(ctx, newHash); err != nil || got.Address != "a@example.no" {
		t.Errorf("new hash: %+v, %v", got, err)
	}
	if ls, err := s.Links(ctx, auth.LinkFilter{WaveID: "w1"}); err != nil || len(ls) != 2 || ls[0].Hash != newHash {
		t.Errorf("a re-keyed link lost its place: %v", err)
	}
	if err := s.MarkLink(ctx, b.Hash, auth.LinkStarted); err != nil {
		t.Fatal(err)
	}
	_, other := auth.NewLinkToken()
	if err := s.RekeyLink(ctx, b.Hash, other); !errors.Is(err, auth.ErrLinkNotFound) {
		t.Errorf("re-key of a started link: %v", err)
	}
	if err := s.RekeyLink(ctx, a.Hash, other); !errors.Is(err, auth.ErrLinkNotFound) {
		t.Errorf("re-key of an old hash: %v", err)
	}
}

// testLinkConcurrentRekey: of several re-keys of one link at once, exactly
// one succeeds and the link has its hash.
func testLinkConcurrentRekey(t *testing.T, open LinkOpener) {
	ctx := contract.Context(t)
	s := open(t)
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
		wg.Go(func() { errs[i] = s.RekeyLink(ctx, l.Hash, news[i]) })
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("re-keys %d and %d both succeeded", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, auth.ErrLinkNotFound):
			t.Errorf("re-key %d: %v", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no re-key succeeded")
	}
	if _, err := s.Link(ctx, news[won]); err != nil {
		t.Errorf("the winner's hash: %v", err)
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
