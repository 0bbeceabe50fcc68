package sqlite

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/auth/authtest"
)

func TestSurveyLinkContract(t *testing.T) {
	authtest.RunSurveyLinks(t, func(t *testing.T) auth.SurveyLinkStore {
		s, _ := open(t)
		return s
	})
}

// TestSurveyLinkFilesHoldNoTokenNorErasedAddress: the token of a link is
// in no file of the store, its hash is; an erased address is in none
// either (secure_delete and the checkpoint).
func TestSurveyLinkFilesHoldNoTokenNorErasedAddress(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	token, hash := auth.NewLinkToken()
	const address = "kari.nordmann@steinkjer.example.no"
	err := s.CreateLinks(ctx, []auth.SurveyLink{{Hash: hash, WaveID: "w1", ProjectID: "offri", Municipality: "5006",
		Group: "volunteers", ExpiresAt: s.now().AddDate(0, 1, 0), State: auth.LinkInvited, Address: address, Mail: auth.MailQueued}})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.EraseAddresses(ctx, "w1"); err != nil || n != 1 {
		t.Fatalf("EraseAddresses = %d, %v", n, err)
	}
	files, _ := filepath.Glob(path + "*")
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(filepath.Clean(f))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if bytes.Contains(all, []byte(token)) {
		t.Error("a file of the store holds the token")
	}
	if bytes.Contains(all, []byte(address)) {
		t.Error("a file of the store holds the erased address")
	}
	if !bytes.Contains(all, hash[:]) {
		t.Error("no file holds the hash: the test reads the wrong files")
	}
}
