package sqlite_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/personal"
	"github.com/samspill/samspill/personal/sqlite"
)

func TestSealViewAndErase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keys, err := sqlite.Open(ctx, filepath.Join(dir, "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Close()

	plain, _ := json.Marshal(partnership.ContactPersonAssigned{ContactID: "c1", PartnerID: "p1", Name: "Kari Nordmann", Email: "kari@example.no", Phone: "+47 400 00 000"})
	sealed, err := personal.Seal(ctx, keys, plain, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"Kari", "kari@example.no", "400 00"} {
		if bytes.Contains(sealed, []byte(secret)) {
			t.Fatalf("sealed payload contains %q: %s", secret, sealed)
		}
	}
	// The domain still reads a sealed contact (without its fields).
	if ev, err := partnership.Decode(partnership.TypeContactPersonAssigned, 1, sealed); err != nil || ev.(partnership.ContactPersonAssigned).PartnerID != "p1" {
		t.Fatalf("Decode sealed: %+v, %v", ev, err)
	}
	event := eventstore.RecordedEvent{EventID: "e1", Type: partnership.TypeContactPersonAssigned, Data: sealed}
	shown := func(allowed bool) string {
		t.Helper()
		e, err := personal.View(ctx, keys, event, allowed)
		if err != nil {
			t.Fatal(err)
		}
		return string(e.Data)
	}
	if got := shown(true); got != `{"contact_id":"c1","partner_id":"p1","name":"Kari Nordmann","email":"kari@example.no","phone":"+47 400 00 000"}` {
		t.Fatalf("allowed: %s", got)
	}
	if got := shown(false); got != `{"contact_id":"c1","partner_id":"p1"}` {
		t.Fatalf("not allowed: %s", got)
	}
	// A correction's replacement is shown the same way.
	replacement, err := personal.Seal(ctx, keys, plain, false)
	if err != nil {
		t.Fatal(err)
	}
	correction, _ := json.Marshal(partnership.EntryCorrected{CorrectedEventID: "e1", Reason: "navn", Replacement: replacement})
	ce, err := personal.Redact(eventstore.RecordedEvent{Type: partnership.TypeEntryCorrected, Data: correction})
	if err != nil || !strings.Contains(string(ce.Data), `"replacement":{"contact_id":"c1","partner_id":"p1"}`) {
		t.Fatalf("redacted correction: %s, %v", ce.Data, err)
	}

	key, err := keys.Key(ctx, "c1", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Erase(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if got := shown(true); got != `{"contact_id":"c1","partner_id":"p1","erased":true}` {
		t.Fatalf("erased: %s", got)
	}
	if _, err := personal.Seal(ctx, keys, plain, false); !errors.Is(err, personal.ErrErased) {
		t.Fatalf("sealing for an erased contact: %v", err)
	}
	if err := keys.Erase(ctx, "c1"); err != nil {
		t.Fatalf("second erase: %v", err)
	}
	if err := keys.Erase(ctx, "nobody"); !errors.Is(err, personal.ErrUnknownContact) {
		t.Fatalf("unknown contact: %v", err)
	}
	// The key is in no file of the folder any more.
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, key) {
			t.Fatalf("%s still holds the erased key", f)
		}
	}
}
