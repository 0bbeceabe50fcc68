package research_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
)

// TestPersonalUsersAreExportedAsPseudonyms: an entry a person recorded
// (its actor a user id, the id the admin pages and the audit view resolve
// to a name) leaves in the export as the actor's pseudonym, never the id,
// and the role stays.
func TestPersonalUsersAreExportedAsPseudonyms(t *testing.T) {
	store := openStore(t)
	svc := app.New(store)
	ctx := context.Background()
	user := auth.NewUserID()
	meta := app.Meta{Actor: eventstore.Actor{Subject: user, Role: auth.RoleCoordinator}}
	res, err := svc.Initiate(ctx, partnership.Command{Event: initiated, OccurredAt: &in2019}, meta)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Execute(ctx, res.State.ID, partnership.Command{Event: goals}, meta); err != nil {
		t.Fatal(err)
	}
	body, _ := exportEvents(t, store, 0)
	if bytes.Contains(body, []byte(user)) || bytes.Contains(body, []byte("usr-")) {
		t.Fatalf("the export names the user %s:\n%s", user, body)
	}
	lines := bytes.Split(bytes.TrimSpace(body), []byte("\n"))
	if len(lines) < 2 {
		t.Fatalf("%d lines exported", len(lines))
	}
	for _, line := range lines[len(lines)-2:] {
		if !bytes.Contains(line, []byte(`"role":"coordinator"`)) || !bytes.Contains(line, []byte(`"subject":"actor-`)) {
			t.Errorf("the user's entry is not exported with its role and a pseudonym:\n%s", line)
		}
	}
}
