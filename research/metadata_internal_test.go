package research

import (
	"encoding/json"
	"testing"

	"github.com/samspill/samspill/eventstore"
)

// appendMetadata must write exactly json.Marshal's bytes, whichever way
// it takes.
func FuzzAppendMetadata(f *testing.F) {
	f.Add("bench", "coordinator", "c", "", "")
	f.Add("user-1", "admin", "", "cause", "key")
	f.Add("Åse", "r", "a<b", "a&b", "a>b")
	f.Add("a\"b", "a\\b", "\x01", "\x7f", "\u2028")
	f.Add("a\xffb", "", "", "", "")
	f.Fuzz(func(t *testing.T, subject, role, correlation, causation, key string) {
		m := eventstore.Metadata{
			Actor:         eventstore.Actor{Subject: subject, Role: role},
			CorrelationID: correlation, CausationID: causation, IdempotencyKey: key,
		}
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendMetadata([]byte("x"), m)
		if err != nil || string(got) != "x"+string(want) {
			t.Fatalf("appendMetadata(%+v) = %s, %v; json.Marshal gives %s", m, got[1:], err, want)
		}
	})
}
