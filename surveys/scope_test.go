package surveys

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/survey"
)

// TestWaveAccess: admins and the project's members manage a wave; a
// coordinator of one of its municipalities (by an old code too) sees
// counts; other researchers, other coordinators and viewers nothing; a
// member of another project with the same id as none.
func TestWaveAccess(t *testing.T) {
	w := survey.Wave{ID: "w", ProjectID: "offri", Municipalities: []string{"4203", "5006"}}
	offri := auth.Project{ID: "offri", Members: []string{"kari"}}
	for _, c := range []struct {
		name string
		pr   auth.Principal
		p    auth.Project
		want Access
	}{
		{"admin", auth.Principal{Subject: "root", Role: auth.RoleAdmin}, auth.Project{}, AccessManage},
		{"member", auth.Principal{Subject: "kari", Role: auth.RoleResearcher}, offri, AccessManage},
		{"member, project unknown", auth.Principal{Subject: "kari", Role: auth.RoleResearcher}, auth.Project{}, AccessNone},
		{"member of another project", auth.Principal{Subject: "kari", Role: auth.RoleResearcher}, auth.Project{ID: "other", Members: []string{"kari"}}, AccessNone},
		{"not a member", auth.Principal{Subject: "ola", Role: auth.RoleResearcher}, offri, AccessNone},
		{"coordinator here", auth.Principal{Subject: "c", Role: auth.RoleCoordinator, Municipalities: []kommune.Code{"4203"}}, offri, AccessCounts},
		{"coordinator by the old code", auth.Principal{Subject: "c", Role: auth.RoleCoordinator, Municipalities: []kommune.Code{"1702"}}, offri, AccessCounts},
		{"coordinator elsewhere", auth.Principal{Subject: "c", Role: auth.RoleCoordinator, Municipalities: []kommune.Code{"0301"}}, offri, AccessNone},
		{"viewer", auth.Principal{Subject: "kari", Role: auth.RoleViewer}, offri, AccessNone},
	} {
		if got := WaveAccess(c.pr, w, c.p); got != c.want {
			t.Errorf("%s: access %d, want %d", c.name, got, c.want)
		}
	}
}

// TestTrackingFor: a coordinator's tracking holds its own municipalities'
// rows and their totals; those who manage see everything; no access is
// no rows.
func TestTrackingFor(t *testing.T) {
	w := WaveInfo{Wave: survey.Wave{ID: "w", Municipalities: []string{"4203", "5006"}}}
	all := Tracking{Wave: w, Rows: []auth.LinkCount{
		{Municipality: "4203", Group: survey.GroupVolunteers, Invited: 4, Started: 2, Completed: 1, Bounced: 1},
		{Municipality: "4203", Group: survey.GroupVolunteers, PartnershipID: "p1", Invited: 2, Started: 2, Completed: 2},
		{Municipality: "5006", Group: survey.GroupVolunteers, Invited: 10, Started: 5, Completed: 3},
	}, Totals: auth.LinkCount{Invited: 16, Started: 9, Completed: 6, Bounced: 1}}
	coordinator := auth.Principal{Role: auth.RoleCoordinator, Municipalities: []kommune.Code{"4203"}}
	own := all.For(coordinator, AccessCounts)
	if len(own.Rows) != 2 || own.Totals != (auth.LinkCount{Invited: 6, Started: 4, Completed: 3, Bounced: 1}) {
		t.Errorf("the coordinator's tracking = %+v", own)
	}
	if got := all.For(auth.Principal{Role: auth.RoleAdmin}, AccessManage); len(got.Rows) != 3 || got.Totals != all.Totals {
		t.Errorf("the manager's tracking = %+v", got)
	}
	if got := all.For(coordinator, AccessNone); len(got.Rows) != 0 || got.Totals != (auth.LinkCount{}) {
		t.Errorf("no access shows %+v", got)
	}
	if r := ResponseRate(own.Totals); r == nil || *r != 0.5 {
		t.Errorf("rate = %v, want 0.5", r)
	}
	if r := ResponseRate(auth.LinkCount{}); r != nil {
		t.Errorf("rate without invitations = %v, want nil", *r)
	}
}

// TestLinksCSV: the download's header, absolute URLs and RFC 3339
// expiry; the public URL goes before the request's own.
func TestLinksCSV(t *testing.T) {
	exp := time.Date(2027, 1, 31, 22, 59, 59, 0, time.UTC)
	data := LinksCSV("https://samspill.example.no", []IssuedLink{{Token: "t1", Path: "/s/t1", Municipality: "4203", ExpiresAt: exp},
		{Token: "t2", Path: "/s/t2", Municipality: "4203", PartnershipID: "p, 1", ExpiresAt: exp}})
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"url", "municipality", "partnership_id", "expires_at"},
		{"https://samspill.example.no/s/t1", "4203", "", "2027-01-31T22:59:59Z"},
		{"https://samspill.example.no/s/t2", "4203", "p, 1", "2027-01-31T22:59:59Z"}}
	if len(rows) != len(want) {
		t.Fatalf("rows = %q", rows)
	}
	for i := range want {
		for j := range want[i] {
			if rows[i][j] != want[i][j] {
				t.Errorf("row %d = %q, want %q", i, rows[i], want[i])
			}
		}
	}
	s := New(nil, nil, nil)
	if s.LinkBase("http://host") != "http://host" || New(nil, nil, nil, WithPublicURL("https://x.no/")).LinkBase("http://host") != "https://x.no" {
		t.Error("LinkBase does not prefer the public URL")
	}
}
