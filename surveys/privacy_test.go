package surveys_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/surveys"
)

// filesOf reads a SQLite database's files (the database, its WAL and
// shared memory) as they are on disk.
func filesOf(t *testing.T, path string) []byte {
	t.Helper()
	files, err := filepath.Glob(path + "*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no files at %s: %v", path, err)
	}
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(filepath.Clean(f))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// TestNothingStoredTiesAnAnswerToItsLink: after a respondent saved and
// submitted, the auth database's files hold neither the response's id
// nor the token (only the token's hash), and the event store's files hold
// neither the token nor its hash in any spelling, nor the address the
// link was mailed to. So nothing samspill stores leads from a link (or
// its address) to an answer.
func TestNothingStoredTiesAnAnswerToItsLink(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p := e.partnership(t, "5006", "Frivilligsentralen")
	w := e.fielded(t)
	const address = "ola.nordmann@steinkjer.example.no"
	ls, err := e.svc.IssueLinks(ctx, researcher, w.ID, surveys.LinkRequest{Municipality: "5006", PartnershipID: p, Addresses: []string{address}})
	if err != nil {
		t.Fatal(err)
	}
	token := ls[0].Token
	if _, err := e.svc.Save(ctx, token, "nb", survey.Answers{"lead_support": {"4"}}, nil, "a"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Submit(ctx, token, "nb", survey.Answers{"comment": {"Fint"}}, nil, "b"); err != nil {
		t.Fatal(err)
	}
	id := surveys.ResponseID(token)
	hash := auth.HashToken(token)

	authFiles := filesOf(t, e.authPath)
	if !bytes.Contains(authFiles, hash[:]) {
		t.Fatal("the auth files do not hold the link's hash: the test reads the wrong files")
	}
	for what, b := range map[string][]byte{"response id": []byte(id), "token": []byte(token)} {
		if bytes.Contains(authFiles, b) {
			t.Errorf("the auth database holds the %s", what)
		}
	}
	idBytes, _ := hex.DecodeString(id)
	if bytes.Contains(authFiles, idBytes) {
		t.Error("the auth database holds the response id's bytes")
	}

	eventFiles := filesOf(t, e.eventsPath)
	if !bytes.Contains(eventFiles, []byte(id)) || !bytes.Contains(eventFiles, []byte("Fint")) {
		t.Fatal("the event store does not hold the response: the test reads the wrong files")
	}
	for what, b := range map[string][]byte{
		"token": []byte(token), "hash": hash[:], "hash in hex": []byte(hex.EncodeToString(hash[:])),
		"hash in base64": []byte(base64.RawURLEncoding.EncodeToString(hash[:])), "hash in std base64": []byte(base64.StdEncoding.EncodeToString(hash[:])),
		"address": []byte(address),
	} {
		if bytes.Contains(eventFiles, b) {
			t.Errorf("the event store holds the link's %s", what)
		}
	}
}
