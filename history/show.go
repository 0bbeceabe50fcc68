package history

import (
	"bytes"
	"context"
	"fmt"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/personal"
)

// Shower shows stored events to one reader: a contact's personal data, and
// who recorded the event, only if the reader may see personal data in the
// partnership's municipality (admins, and coordinators of that
// municipality); others see only that the contact exists and for which
// partner (personal.Reveal and personal.Redact), and the recorder's role and pseudonym
// (personal.Pseudonyms). Every read path that hands out events (history,
// feed, stream, pages) goes through it. A Shower is for one request: it
// remembers each partnership's municipality.
type Shower struct {
	store        *Store
	reader       auth.Principal
	municipality map[string]string // by stream id
	// users are the users Author looked up, by id.
	users map[string]auth.User
}

// ShowTo returns a Shower for the reader.
func (s *Store) ShowTo(reader auth.Principal) *Shower {
	return &Shower{store: s, reader: reader, municipality: map[string]string{}}
}

// Show returns the event as the reader may see it.
func (sh *Shower) Show(ctx context.Context, e eventstore.RecordedEvent) (eventstore.RecordedEvent, error) {
	allowed, err := sh.allowed(ctx, e.StreamID)
	if err != nil {
		return e, err
	}
	if !allowed {
		e.Metadata = sh.store.pseudonyms.Metadata(e.Metadata)
	}
	if e.Type != partnership.TypeContactPersonAssigned && e.Type != partnership.TypeEntryCorrected {
		return e, nil
	}
	if !allowed {
		return personal.Redact(e)
	}
	return personal.Reveal(ctx, sh.store.keys, e)
}

func (sh *Shower) allowed(ctx context.Context, stream string) (bool, error) {
	switch sh.reader.Role {
	case auth.RoleAdmin:
		return true, nil
	case auth.RoleCoordinator:
	default:
		return false, nil
	}
	m, ok := sh.municipality[stream]
	if !ok {
		id, _ := ID(stream)
		state, err := sh.store.Current(ctx, id)
		if err != nil {
			return false, fmt.Errorf("municipality of %s: %w", stream, err)
		}
		m = state.CurrentMunicipality
		sh.municipality[stream] = m
	}
	return sh.reader.MaySeePersonalData(m), nil
}

// Known tells the Shower a partnership's municipality the caller has
// already read, saving a look-up.
func (sh *Shower) Known(stream, municipality string) { sh.municipality[stream] = municipality }

// ShowEntry is Show for an entry of a partnership's history: the stored
// event as the reader may see it, and the domain's entry of what it sees
// (decoded again only where Show changed the payload: a contact).
func (sh *Shower) ShowEntry(ctx context.Context, h HistoryEntry) (HistoryEntry, error) {
	shown, err := sh.Show(ctx, h.RecordedEvent)
	if err != nil {
		return h, err
	}
	if !bytes.Equal(shown.Data, h.Data) {
		if h.Entry, err = Entry(shown); err != nil {
			return h, err
		}
	}
	h.RecordedEvent = shown
	return h, nil
}
