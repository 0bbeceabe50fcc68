// Package personaltest is the contract every personal.KeyStore adapter
// must pass. An adapter's test calls Run with a function that opens a
// fresh, empty store; the suite runs each rule as a parallel subtest, with
// the sealing and showing of package personal on top of the store.
//
//	func TestContract(t *testing.T) {
//		personaltest.Run(t, func(t *testing.T) personal.KeyStore { return open(t) })
//	}
//
// What only one adapter can check (that no file holds an erased key, what
// two processes on one database see) stays in that adapter's tests.
package personaltest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/contract"
	"github.com/samspill/samspill/personal"
)

// Opener returns a fresh, empty store (contract.Opener: it cleans up
// after itself and calls t.Fatal if the store cannot be made).
type Opener = contract.Opener[personal.KeyStore]

// Run runs the whole contract against stores made by open. It calls t.Run
// once per rule; the subtests run in parallel with each other.
func Run(t *testing.T, open Opener) {
	t.Helper()
	contract.Run(t, open, rules)
}

// rules are the subtests, in the order they are reported.
var rules = []contract.Rule[personal.KeyStore]{
	{Name: "SealViewAndErase", Test: testSealViewAndErase},
	{Name: "KeyOncePerContact", Test: testKeyOncePerContact},
	{Name: "Erase", Test: testErase},
	{Name: "ConcurrentCreate", Test: testConcurrentCreate},
	{Name: "ConcurrentEraseAndCreate", Test: testConcurrentEraseAndCreate},
}

// keyGetter is one of a KeyStore's two ways to get a key: Key or
// EnsureKey, named for messages.
type keyGetter struct {
	name string
	get  func(personal.KeyStore, context.Context, string) ([]byte, error)
}

var (
	byKey       = keyGetter{"Key", personal.KeyStore.Key}
	byEnsureKey = keyGetter{"EnsureKey", personal.KeyStore.EnsureKey}
)

// mustKey returns the contact's key, got through get, and fails the test
// on error.
func mustKey(t *testing.T, keys personal.KeyStore, contactID string, get keyGetter) []byte {
	t.Helper()
	key, err := get.get(keys, contract.Context(t), contactID)
	if err != nil {
		t.Fatalf("%s(%s): %v", get.name, contactID, err)
	}
	if len(key) != 32 {
		t.Fatalf("%s(%s) is %d bytes, want 32", get.name, contactID, len(key))
	}
	return key
}

// testSealViewAndErase: a contact sealed under its key, shown to those
// who may see it and to those who may not, then erased.
func testSealViewAndErase(t *testing.T, open Opener) {
	ctx := contract.Context(t)
	keys := open(t)
	plain, _ := json.Marshal(partnership.ContactPersonAssigned{ContactID: "c1", PartnerID: "p1", Name: "Kari Nordmann", Email: "kari@example.no", Phone: "+47 400 00 000"})
	sealed, err := personal.SealNew(ctx, keys, plain)
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
	revealed := func() string {
		t.Helper()
		e, err := personal.Reveal(ctx, keys, event)
		if err != nil {
			t.Fatal(err)
		}
		return string(e.Data)
	}
	if got := revealed(); got != `{"contact_id":"c1","partner_id":"p1","name":"Kari Nordmann","email":"kari@example.no","phone":"+47 400 00 000"}` {
		t.Fatalf("allowed: %s", got)
	}
	if e, err := personal.Redact(event); err != nil || string(e.Data) != `{"contact_id":"c1","partner_id":"p1"}` {
		t.Fatalf("not allowed: %s, %v", e.Data, err)
	}
	// A correction's replacement is sealed under the same key and shown
	// the same way.
	replacement, err := personal.SealAgain(ctx, keys, plain)
	if err != nil {
		t.Fatal(err)
	}
	correction, _ := json.Marshal(partnership.EntryCorrected{CorrectedEventID: "e1", Reason: "navn", Replacement: replacement})
	ce, err := personal.Redact(eventstore.RecordedEvent{Type: partnership.TypeEntryCorrected, Data: correction})
	if err != nil || !strings.Contains(string(ce.Data), `"replacement":{"contact_id":"c1","partner_id":"p1"}`) {
		t.Fatalf("redacted correction: %s, %v", ce.Data, err)
	}
	ce, err = personal.Reveal(ctx, keys, eventstore.RecordedEvent{Type: partnership.TypeEntryCorrected, Data: correction})
	if err != nil || !strings.Contains(string(ce.Data), `"name":"Kari Nordmann"`) {
		t.Fatalf("shown correction: %s, %v", ce.Data, err)
	}

	if err := keys.Erase(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if got := revealed(); got != `{"contact_id":"c1","partner_id":"p1","erased":true}` {
		t.Fatalf("erased: %s", got)
	}
	if _, err := personal.SealAgain(ctx, keys, plain); !errors.Is(err, personal.ErrErased) {
		t.Fatalf("sealing for an erased contact: %v, want ErrErased", err)
	}
	if _, err := personal.SealNew(ctx, keys, plain); !errors.Is(err, personal.ErrErased) {
		t.Fatalf("sealing for an erased contact as a new one: %v, want ErrErased", err)
	}
}

// testKeyOncePerContact: a key is made once, each contact has its own,
// and Key makes none.
func testKeyOncePerContact(t *testing.T, open Opener) {
	ctx := contract.Context(t)
	keys := open(t)
	if key, err := keys.Key(ctx, "c1"); !errors.Is(err, personal.ErrUnknownContact) {
		t.Fatalf("Key of an unknown contact = %x, %v; want ErrUnknownContact", key, err)
	}
	if key, err := keys.Key(ctx, "c1"); !errors.Is(err, personal.ErrUnknownContact) {
		t.Fatalf("Key made a key: %x, %v", key, err)
	}
	first := mustKey(t, keys, "c1", byEnsureKey)
	if again := mustKey(t, keys, "c1", byEnsureKey); !bytes.Equal(first, again) {
		t.Fatalf("EnsureKey(c1) changed the key: %x, then %x", first, again)
	}
	if again := mustKey(t, keys, "c1", byKey); !bytes.Equal(first, again) {
		t.Fatalf("Key(c1) = %x, want %x", again, first)
	}
	if other := mustKey(t, keys, "c2", byEnsureKey); bytes.Equal(first, other) {
		t.Fatalf("two contacts share the key %x", other)
	}
}

// testErase: erased contacts read ErrErased and never get a key again;
// erasing twice is fine; erasing a stranger is ErrUnknownContact; other
// contacts keep their keys.
func testErase(t *testing.T, open Opener) {
	ctx := contract.Context(t)
	keys := open(t)
	mustKey(t, keys, "c1", byEnsureKey)
	kept := mustKey(t, keys, "c2", byEnsureKey)
	if err := keys.Erase(ctx, "c1"); err != nil {
		t.Fatalf("Erase: %v", err)
	}
	for _, get := range []keyGetter{byKey, byEnsureKey} {
		if key, err := get.get(keys, ctx, "c1"); !errors.Is(err, personal.ErrErased) {
			t.Fatalf("%s(erased) = %x, %v; want ErrErased", get.name, key, err)
		}
	}
	if err := keys.Erase(ctx, "c1"); err != nil {
		t.Fatalf("a second Erase: %v, want nil", err)
	}
	if err := keys.Erase(ctx, "nobody"); !errors.Is(err, personal.ErrUnknownContact) {
		t.Fatalf("Erase of an unknown contact: %v, want ErrUnknownContact", err)
	}
	if key, err := keys.Key(ctx, "nobody"); !errors.Is(err, personal.ErrUnknownContact) {
		t.Fatalf("after erasing an unknown contact: Key = %x, %v; want ErrUnknownContact", key, err)
	}
	if got := mustKey(t, keys, "c2", byKey); !bytes.Equal(got, kept) {
		t.Fatalf("erasing c1 changed c2's key: %x, want %x", got, kept)
	}
}

// testConcurrentCreate: callers racing to make one contact's key all get
// the same key.
func testConcurrentCreate(t *testing.T, open Opener) {
	ctx := contract.Context(t)
	keys := open(t)
	const callers = 8
	for c := range 4 {
		contactID := fmt.Sprintf("race-%d", c)
		got := make([][]byte, callers)
		errs := make([]error, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() { got[i], errs[i] = keys.EnsureKey(ctx, contactID) })
		}
		wg.Wait()
		for i := range callers {
			if errs[i] != nil || len(got[i]) != 32 || !bytes.Equal(got[i], got[0]) {
				t.Fatalf("%s, caller %d: %x, %v; caller 0 got %x", contactID, i, got[i], errs[i], got[0])
			}
		}
		if stored := mustKey(t, keys, contactID, byKey); !bytes.Equal(stored, got[0]) {
			t.Fatalf("%s: stored %x, the callers got %x", contactID, stored, got[0])
		}
	}
}

// testConcurrentEraseAndCreate: an erasure racing with callers that make
// or read the key ends erased for good: afterwards the contact reads
// ErrErased, also through EnsureKey.
func testConcurrentEraseAndCreate(t *testing.T, open Opener) {
	ctx := contract.Context(t)
	keys := open(t)
	mustKey(t, keys, "c1", byEnsureKey)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 10 {
				if _, err := keys.EnsureKey(ctx, "c1"); err != nil && !errors.Is(err, personal.ErrErased) {
					t.Errorf("EnsureKey during an erasure: %v", err)
					return
				}
			}
		})
	}
	if err := keys.Erase(ctx, "c1"); err != nil {
		t.Errorf("Erase: %v", err)
	}
	wg.Wait()
	for _, get := range []keyGetter{byKey, byEnsureKey} {
		if key, err := get.get(keys, ctx, "c1"); !errors.Is(err, personal.ErrErased) {
			t.Fatalf("after the race: %s(c1) = %x, %v; want ErrErased", get.name, key, err)
		}
	}
}
