package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/locale"
)

// auditPage is a partnership's audit view: who recorded or corrected
// which entry when.
type auditPage struct {
	layoutData
	State partnership.State
	Rows  []auditRow
	// Names says whether the reader sees people's names (admins and
	// coordinators of the municipality) or pseudonyms.
	Names bool
}

type auditRow struct {
	Version    uint64
	Position   uint64
	EventID    string
	RecordedAt string
	// Action is "recorded" or "corrected"; Corrects the version of the
	// entry a correction corrects (0 if unknown).
	Action   string
	Corrects uint64
	Label    string
	Summary  string
	Role     string
	Actor    string
	// ActorKind is history.AuthorUser, AuthorToken or AuthorPseudonym.
	ActorKind string
}

// audit shows a partnership's audit view (/p/{id}/audit): every entry in
// the order it was recorded, with who recorded it, names only for those
// who may see them (history.Shower.Author).
func (p *Pages) audit(c *gin.Context) {
	ctx := c.Request.Context()
	l := loc(c)
	id := c.Param("id")
	state, events, _, err := p.hist.Read(ctx, id, partnership.View{})
	if errors.Is(err, partnership.ErrNotFound) {
		p.fail(c, notFound(l.T("pages.partnership.unknown")))
		return
	}
	if err != nil {
		p.fail(c, err)
		return
	}
	reader := principal(c)
	shower := p.hist.ShowTo(reader)
	shower.Known(history.StreamID(state.ID), state.CurrentMunicipality)
	rows, err := shower.Audit(ctx, p.users, events)
	if err != nil {
		p.fail(c, err)
		return
	}
	entries := make([]partnership.Entry, len(rows))
	for i, r := range rows {
		entries[i] = r.Entry
	}
	names := partnership.PartnerNames(entries)
	self := "/p/" + url.PathEscape(id)
	page := &auditPage{
		layoutData: layoutData{
			Title:  l.T("admin.audit_view.title", "Title", state.Title),
			Crumbs: append(crumbsHome(l), crumb{"/m/" + state.CurrentMunicipality, kommune.Code(state.CurrentMunicipality).Name()}, crumb{self, state.Title}),
		},
		State: state,
		Names: reader.MaySeePersonalData(state.CurrentMunicipality),
	}
	for _, r := range rows {
		row := auditRow{
			Version: r.Version, Position: r.Position, EventID: r.EventID,
			RecordedAt: l.DateTime(r.RecordedAt),
			Action:     "recorded",
			Label:      describe.Label(l, r.Type),
			Summary:    describe.Event(l, r.Entry.Event, names),
			Role:       authorRole(l, r.Author.Role),
			Actor:      authorName(l, r.Author),
			ActorKind:  r.Author.Kind,
		}
		if r.Type == partnership.TypeEntryCorrected {
			row.Action, row.Corrects = "corrected", r.CorrectsVersion
		}
		page.Rows = append(page.Rows, row)
	}
	p.render(c, http.StatusOK, "partnership_audit", page)
}

// authorRole names the role an entry was recorded in: one of the roles,
// or the system (the demo data set, imports).
func authorRole(l *locale.Localizer, role string) string {
	if slices.Contains(auth.Roles, role) {
		return l.T("pages.role." + role)
	}
	return l.T("admin.actor.system")
}

// authorName is how a page names who recorded an entry: the person's
// name, that they were erased, the token's name, or the pseudonym.
func authorName(l *locale.Localizer, a history.Author) string {
	switch {
	case a.Erased:
		return l.T("admin.actor.erased")
	case a.Name != "":
		return a.Name
	case a.Kind == history.AuthorToken:
		return l.T("admin.actor.token", "Name", a.ID)
	}
	return a.ID
}
