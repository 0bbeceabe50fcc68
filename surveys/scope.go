package surveys

import (
	"bytes"
	"encoding/csv"
	"slices"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/survey"
)

// Who may see what of a wave, the same through the API and the pages:
// admins and the members of the wave's research project manage it (its
// questionnaire, links, closing and every count); the coordinators of
// one of its municipalities see the counts of their own municipalities
// and nothing else; anyone else is told the wave does not exist.

// Access is how far a principal may see a wave.
type Access int

const (
	// AccessNone: the wave is answered as unknown.
	AccessNone Access = iota
	// AccessCounts: the response counts of the principal's own
	// municipalities (coordinators).
	AccessCounts
	// AccessManage: everything (the project's members and admins).
	AccessManage
)

// WaveAccess says how far pr may see wave w of project p (p zero when the
// project is gone or unknown).
func WaveAccess(pr auth.Principal, w survey.Wave, p auth.Project) Access {
	switch {
	case pr.IsAdmin():
		return AccessManage
	case p.ID != "" && p.ID == w.ProjectID && auth.MayExportProject(pr, p):
		return AccessManage
	case len(OwnMunicipalities(pr, w)) > 0:
		return AccessCounts
	}
	return AccessNone
}

// OwnMunicipalities are the wave's municipalities a coordinator
// coordinates (today's codes, sorted); nil for any other role.
func OwnMunicipalities(pr auth.Principal, w survey.Wave) []string {
	if pr.Role != auth.RoleCoordinator {
		return nil
	}
	var out []string
	for _, m := range pr.Municipalities {
		if code := string(m.Current()); slices.Contains(w.Municipalities, code) && !slices.Contains(out, code) {
			out = append(out, code)
		}
	}
	slices.Sort(out)
	return out
}

// For returns the tracking as pr, with access a, may see it: all of it
// to those who manage the wave, a coordinator's own municipalities' rows
// (and their totals), nothing to anyone else.
func (t Tracking) For(pr auth.Principal, a Access) Tracking {
	switch a {
	case AccessManage:
		return t
	case AccessNone:
		return Tracking{Wave: t.Wave}
	}
	own := OwnMunicipalities(pr, t.Wave.Wave)
	out := Tracking{Wave: t.Wave}
	for _, r := range t.Rows {
		if slices.Contains(own, r.Municipality) {
			out.Rows = append(out.Rows, r)
			out.Totals.Invited += r.Invited
			out.Totals.Started += r.Started
			out.Totals.Completed += r.Completed
			out.Totals.Bounced += r.Bounced
		}
	}
	return out
}

// ResponseRate is completed / invited; nil when nobody was invited.
func ResponseRate(n auth.LinkCount) *float64 {
	if n.Invited == 0 {
		return nil
	}
	r := float64(n.Completed) / float64(n.Invited)
	return &r
}

// LinkBase is the base of the absolute URLs of links handed out: the
// public URL (WithPublicURL), or requestBase (the request's own scheme
// and host) when none is set.
func (s *Service) LinkBase(requestBase string) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	return requestBase
}

// LinksCSV writes issued links as the CSV a municipality mails from:
// url,municipality,partnership_id,expires_at (RFC 3339, UTC), the URLs
// absolute under base.
func LinksCSV(base string, links []IssuedLink) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"url", "municipality", "partnership_id", "expires_at"})
	for _, l := range links {
		_ = w.Write([]string{base + l.Path, l.Municipality, l.PartnershipID, l.ExpiresAt.UTC().Format(time.RFC3339)})
	}
	w.Flush() // a bytes.Buffer takes every write
	return buf.Bytes()
}

// LinksFilename names the links file of a wave's municipality.
func LinksFilename(waveID, municipality string) string {
	return "survey-links-" + waveID + "-" + municipality + ".csv"
}
