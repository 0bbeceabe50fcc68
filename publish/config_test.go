package publish_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/publish"
)

func TestConfigNamesEveryProblem(t *testing.T) {
	t.Parallel()
	err := publish.Config{
		URL:           "http://127.0.0.1:4222,nats://,nats://user:pass%zz@host",
		Topic:         "part.nership",
		Secret:        []byte("short"),
		Stream:        "SAM.SPILL",
		SubjectPrefix: "samspill.*",
		MaxBackoff:    -time.Second,
	}.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`NATS URL "http://127.0.0.1:4222"`, `NATS URL "nats://"`, "NATS URL cannot be read", `topic "part.nership"`, "secret",
		`stream name "SAM.SPILL"`, `subject prefix "samspill.*"`, "negative duration",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not name %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "pass") {
		t.Errorf("%q shows a password", err)
	}
	if err := (publish.Config{}).Validate(); err == nil || !strings.Contains(err.Error(), "no NATS URL") {
		t.Errorf("empty config: %v", err)
	}
	good := publish.Config{URL: "nats://a:4222, tls://user:pw@b:4222", Topic: "partnership", Secret: secret, SubjectPrefix: "kommune.samspill"}
	if err := good.Validate(); err != nil {
		t.Errorf("%+v: %v", good, err)
	}
	if _, err := publish.Start(context.Background(), openStore(t), publish.Config{URL: "nats://a:4222", Topic: "partnership"}); err == nil {
		t.Error("Start accepted a configuration without a secret")
	}
}

func TestSubjectIsPrefixTopicAndType(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ typ, want string }{
		{"MilestoneLogged", "samspill.partnership.MilestoneLogged"},
		{"Odd.Type *>", "samspill.partnership.Odd_Type___"},
		{"", "samspill.partnership._"},
	} {
		if got := publish.Subject("samspill", "partnership", tc.typ); got != tc.want {
			t.Errorf("Subject(%q) = %q, want %q", tc.typ, got, tc.want)
		}
	}
}

// With NATS unreachable, Start returns at once, the log shows the URL
// without its credentials, and Close returns promptly.
func TestForwarderWithoutNATSStartsAndStopsAtOnce(t *testing.T) {
	t.Parallel()
	var log logBuffer
	cfg := publish.Config{URL: "nats://kommune:hemmelig-passord@127.0.0.1:1", Topic: "partnership", Secret: secret, MaxBackoff: 50 * time.Millisecond, Logger: testLogger(&log)}
	began := time.Now()
	f, err := publish.Start(context.Background(), openStore(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("start and stop took %s:\n%s", took, log.String())
	}
	if strings.Contains(log.String(), "hemmelig") || !strings.Contains(log.String(), "nats://REDACTED@127.0.0.1:1") {
		t.Errorf("the log shows the password, or not the server:\n%s", log.String())
	}
}
