package main

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// personalData is what the test's contact person is: it must be readable
// only by those who may, and by no one from the data folder's files.
var personalData = []string{"Kari Nordmann", "kari@example.no"}

// filesHolding returns the files of the data folder that contain s.
func filesHolding(t *testing.T, dir string, s []byte) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, s) {
			found = append(found, filepath.Base(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// readPaths returns what each read path shows the principal of the test
// partnership: history, feed, event stream, research export and page.
func (s *testSite) readPaths(t *testing.T, who, id string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, path := range map[string]string{
		"history": "/api/v1/partnerships/" + id + "/history",
		"feed":    "/api/v1/events?after=0&limit=500",
		"export":  "/api/v1/research/events.ndjson",
		"page":    "/p/" + id,
	} {
		status, body := s.call(t, who, http.MethodGet, path, "", "")
		if status == http.StatusForbidden && name == "export" {
			continue // not every role may export; the matrix checks that
		}
		if status != http.StatusOK {
			t.Fatalf("%s as %s: %d %s", path, who, status, body)
		}
		out[name] = body
	}
	out["stream"] = s.streamHead(t, who)
	return out
}

// streamHead reads the event stream from the start until it has sent the
// whole log.
func (s *testSite) streamHead(t *testing.T, who string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.srv.URL+"/api/v1/events/stream?after=0", nil)
	req.Header.Set("Authorization", "Bearer "+s.tokens[who])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	head, _ := s.store.Head(ctx)
	var b strings.Builder
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
		if sc.Text() == "id: "+strconv.FormatUint(head, 10) {
			sc.Scan() // its event: and data: lines follow
			b.WriteString(sc.Text() + "\n")
			sc.Scan()
			b.WriteString(sc.Text() + "\n")
			break
		}
	}
	return b.String()
}

// TestPersonalDataIsSealedRedactedAndErasable follows one contact person
// through every read path as every role, erases it, and greps the data
// folder for it, also after rebuilding the read models.
func TestPersonalDataIsSealedRedactedAndErasable(t *testing.T) {
	t.Parallel()
	s := newTestSite(t)
	id, _, _, contact := s.initiate(t)
	for _, v := range personalData {
		if files := filesHolding(t, s.dir, []byte(v)); len(files) > 0 {
			t.Fatalf("%q is stored in plain text in %v", v, files)
		}
	}
	for _, who := range []string{admin, inScope, outOfScope, researcher, viewer} {
		may := who == admin || who == inScope
		for path, body := range s.readPaths(t, who, id) {
			shown := strings.Contains(body, personalData[0]) && strings.Contains(body, personalData[1])
			if path == "export" && shown {
				t.Errorf("the research export shows personal data to %s", who)
			} else if path != "export" && shown != may {
				t.Errorf("%s as %s: personal data shown = %v, want %v", path, who, shown, may)
			}
			// Everyone sees that the contact exists (pages say so in words).
			switch {
			case path == "page" && !strings.Contains(body, "Kontaktperson oppnevnt for"):
				t.Errorf("the page as %s does not show that the contact exists", who)
			case path != "page" && !strings.Contains(body, contact):
				t.Errorf("%s as %s does not show that the contact exists", path, who)
			}
		}
	}

	key, err := s.keys.Key(context.Background(), contact)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := s.call(t, admin, http.MethodPost, "/api/v1/admin/contacts/"+contact+"/erase", "", ""); status != http.StatusNoContent {
		t.Fatalf("erase: %d %s", status, body)
	}
	if status, _ := s.call(t, admin, http.MethodPost, "/api/v1/admin/contacts/no-such-contact/erase", "", ""); status != http.StatusNotFound {
		t.Fatalf("erase of an unknown contact: %d", status)
	}
	_, history := s.call(t, admin, http.MethodGet, "/api/v1/partnerships/"+id+"/history", "", "")
	if !strings.Contains(history, `"erased":true`) || strings.Contains(history, personalData[0]) {
		t.Fatalf("after erasure the admin reads: %s", history)
	}
	check := func(when string) {
		t.Helper()
		for _, v := range append(personalData, string(key)) {
			if files := filesHolding(t, s.dir, []byte(v)); len(files) > 0 {
				t.Errorf("%s: the data folder still holds the contact (%q) in %v", when, v[:4], files)
			}
		}
	}
	check("after erasure")

	// Every other fact stays replayable: rebuild the read models, and the
	// partnership reads as before.
	for _, name := range readModelNames() {
		if status, body := s.call(t, admin, http.MethodPost, "/api/v1/admin/projections/"+name+"/rebuild", "", ""); status != http.StatusAccepted {
			t.Fatalf("rebuild %s: %d %s", name, status, body)
		}
	}
	waitRebuilt(t, s)
	if status, body := s.call(t, viewer, http.MethodGet, "/api/v1/partnerships?municipality=4203", "", ""); status != http.StatusOK || !strings.Contains(body, id) {
		t.Fatalf("after the rebuild the list lacks the partnership: %d %s", status, body)
	}
	check("after a rebuild")
}

func waitRebuilt(t *testing.T, s *testSite) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		list, err := s.runner.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		done := true
		for _, st := range list {
			done = done && st.Rebuild == nil && st.Generation > 1
		}
		if done {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the rebuilds did not finish")
}

// TestCorrectingAContactPerson corrects a contact's e-mail: the correction
// is accepted, sealed under the same contact's key (never in plain text in
// the data folder), shown to those who may see the contact, and erased
// with it.
func TestCorrectingAContactPerson(t *testing.T) {
	s := newTestSite(t)
	id, partner, _, contact := s.initiate(t)
	var assigned string
	for _, e := range s.historyOf(t, id) {
		if e.Type == "ContactPersonAssigned" {
			assigned = e.EventID
		}
	}
	const corrected = "kari.nordmann@example.no"
	status, body := s.call(t, inScope, http.MethodPost, "/api/v1/partnerships/"+id+"/corrections", "application/json",
		`{"corrected_event_id":"`+assigned+`","reason":"feil e-post","replacement":{"contact_id":"","partner_id":"`+partner+`","name":"Kari Nordmann","email":"`+corrected+`","phone":""}}`)
	if status != http.StatusOK {
		t.Fatalf("correct the contact: %d %s", status, body)
	}
	if files := filesHolding(t, s.dir, []byte(corrected)); len(files) > 0 {
		t.Fatalf("the corrected e-mail is stored in plain text in %v", files)
	}
	for who, may := range map[string]bool{admin: true, inScope: true, outOfScope: false, viewer: false} {
		_, history := s.call(t, who, http.MethodGet, "/api/v1/partnerships/"+id+"/history", "", "")
		if got := strings.Contains(history, corrected); got != may {
			t.Errorf("the history shows the corrected e-mail to %s: %v, want %v", who, got, may)
		}
		if !strings.Contains(history, `"contact_id":"`+contact+`"`) {
			t.Errorf("the history as %s does not name the contact %s", who, contact)
		}
	}
	if status, body := s.call(t, admin, http.MethodPost, "/api/v1/admin/contacts/"+contact+"/erase", "", ""); status != http.StatusNoContent {
		t.Fatalf("erase: %d %s", status, body)
	}
	_, history := s.call(t, admin, http.MethodGet, "/api/v1/partnerships/"+id+"/history", "", "")
	if strings.Contains(history, corrected) || strings.Contains(history, personalData[1]) || strings.Count(history, `"erased":true`) != 2 {
		t.Fatalf("after erasure the admin reads: %s", history)
	}
}
