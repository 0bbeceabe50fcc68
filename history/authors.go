package history

import (
	"context"
	"errors"
	"fmt"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/personal"
)

// Users looks up personal users by id (auth.UserStore answers it): the
// one thing the read side asks of them, to name the person behind a user
// id to the readers who may know it.
type Users interface {
	User(ctx context.Context, id string) (auth.User, error)
}

// Kinds of Author.
const (
	// AuthorUser is a person who signed in (ID a user id, Name theirs).
	AuthorUser = "user"
	// AuthorToken is an API token (ID its name).
	AuthorToken = "token"
	// AuthorPseudonym is an actor the reader may not know (ID its
	// pseudonym, as in the research exports).
	AuthorPseudonym = "pseudonym"
)

// Author is who recorded an event, as one reader may see it.
type Author struct {
	// Role is the actor's role when it recorded the event; every reader
	// sees it.
	Role string `json:"role"`
	// Kind is AuthorUser, AuthorToken or AuthorPseudonym.
	Kind string `json:"kind"`
	// ID is the user id or the token's name for those who may see the
	// partnership's personal data, the actor's pseudonym for everyone
	// else.
	ID string `json:"id"`
	// Name is the person's display name (AuthorUser, not erased).
	Name string `json:"name,omitempty"`
	// Erased is true when the person's data was erased: the id stays,
	// the name is gone.
	Erased bool `json:"erased,omitempty"`
}

// Author returns who recorded the event as the Shower's reader may see it:
// the person's display name (or that it was erased) or the token's name
// for admins and coordinators of the partnership's municipality, the
// pseudonym that Show gives for every other reader. e may be stored or
// already shown (a pseudonym stays itself). users may be nil: user ids are
// then shown without names. The Shower remembers each user it looked up.
func (sh *Shower) Author(ctx context.Context, users Users, e eventstore.RecordedEvent) (Author, error) {
	allowed, err := sh.allowed(ctx, e.StreamID)
	if err != nil {
		return Author{}, err
	}
	m := e.Metadata
	if !allowed {
		m = sh.store.pseudonyms.Metadata(m)
	}
	a := Author{Role: m.Actor.Role, ID: m.Actor.Subject, Kind: AuthorToken}
	switch {
	case personal.IsPseudonym(a.ID):
		a.Kind = AuthorPseudonym
	case auth.IsUserID(a.ID):
		a.Kind = AuthorUser
		if users == nil {
			return a, nil
		}
		u, err := sh.user(ctx, users, a.ID)
		if errors.Is(err, auth.ErrUserNotFound) {
			// A user of another installation (an imported event): its
			// id is all there is.
			return a, nil
		}
		if err != nil {
			return Author{}, fmt.Errorf("author of %s: %w", e.EventID, err)
		}
		a.Name, a.Erased = u.Name, u.Erased
		if a.Erased {
			a.Name = ""
		}
	}
	return a, nil
}

// user looks a user up once per Shower.
func (sh *Shower) user(ctx context.Context, users Users, id string) (auth.User, error) {
	if u, ok := sh.users[id]; ok {
		return u, nil
	}
	u, err := users.User(ctx, id)
	if err != nil {
		return u, err
	}
	if sh.users == nil {
		sh.users = map[string]auth.User{}
	}
	sh.users[id] = u
	return u, nil
}

// AuditRow is one entry of a partnership's audit view: the entry as the
// reader may see it, who recorded it, and for a correction the entry it
// corrects.
type AuditRow struct {
	HistoryEntry
	Author Author
	// Corrects is the event id and version of the entry a correction
	// corrects (zero for anything else).
	Corrects        string
	CorrectsVersion uint64
}

// Audit returns a partnership's events (in version order, as Store.Read
// gives them) as its audit view for the Shower's reader: who recorded or
// corrected which entry when.
func (sh *Shower) Audit(ctx context.Context, users Users, events []HistoryEntry) ([]AuditRow, error) {
	version := make(map[string]uint64, len(events))
	for _, h := range events {
		version[h.EventID] = h.Version
	}
	rows := make([]AuditRow, len(events))
	for i, h := range events {
		author, err := sh.Author(ctx, users, h.RecordedEvent)
		if err != nil {
			return nil, err
		}
		shown, err := sh.ShowEntry(ctx, h)
		if err != nil {
			return nil, err
		}
		rows[i] = AuditRow{HistoryEntry: shown, Author: author}
		if c, ok := shown.Entry.Event.(partnership.EntryCorrected); ok {
			rows[i].Corrects, rows[i].CorrectsVersion = c.CorrectedEventID, version[c.CorrectedEventID]
		}
	}
	return rows, nil
}
