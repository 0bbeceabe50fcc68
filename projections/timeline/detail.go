package timeline

import (
	"encoding/json"
	"fmt"

	"github.com/samspill/samspill/domain/partnership"
)

// What an entry keeps of its event, so that a page can describe it in the
// reader's language (describe.Event) from the read model alone: the
// payload, without a contact person's name, email and phone (personal
// data, sealed in the store, which a timeline never shows), and the
// partners' names the event refers to by id. The stored summary stays the
// API's one English line.

// kept returns the payload an entry keeps of ev and the JSON of the names
// of the partners ev refers to ("" when it refers to none); names are the
// partners' names by id before the event.
func kept(ev partnership.Event, names map[string]string) (data []byte, refs string, err error) {
	if c, ok := ev.(partnership.ContactPersonAssigned); ok {
		ev = partnership.ContactPersonAssigned{ContactID: c.ContactID, PartnerID: c.PartnerID}
	}
	if data, err = partnership.Encode(ev); err != nil {
		return nil, "", err
	}
	var ids []string
	switch e := ev.(type) {
	case partnership.PartnerLeft:
		ids = []string{e.PartnerID}
	case partnership.ContactPersonAssigned:
		ids = []string{e.PartnerID}
	case partnership.RolesAgreed:
		for _, r := range e.Roles {
			ids = append(ids, r.PartnerID)
		}
	}
	if len(ids) == 0 {
		return data, "", nil
	}
	known := make(map[string]string, len(ids))
	for _, id := range ids {
		if n, ok := names[id]; ok {
			known[id] = n
		}
	}
	raw, err := json.Marshal(known)
	if err != nil {
		return nil, "", err
	}
	return data, string(raw), nil
}

// describable sets e's Event and Names from what its row kept.
func (e *Entry) describable(data []byte, names string) error {
	ev, err := partnership.Decode(e.Type, partnership.SchemaVersion, data)
	if err != nil {
		return fmt.Errorf("timeline entry %s: %w", e.EventID, err)
	}
	e.Event = ev
	if names != "" {
		if err := json.Unmarshal([]byte(names), &e.Names); err != nil {
			return fmt.Errorf("timeline entry %s: names: %w", e.EventID, err)
		}
	}
	return nil
}
