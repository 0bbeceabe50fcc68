package sqlrow

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/samspill/samspill/eventstore"
)

// parseSlow is what ParseTime did before it read the stores' own layout by
// hand, and what it must still agree with on every input.
func parseSlow(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

var timeSeeds = []string{
	FormatTime(time.Date(2026, time.November, 26, 12, 0, 0, 0, time.UTC)),
	FormatTime(time.Date(2024, time.February, 29, 23, 59, 59, 999999999, time.UTC)),
	FormatTime(time.Date(1, time.January, 1, 0, 0, 0, 1, time.UTC)),
	FormatTime(time.Date(9999, time.December, 31, 0, 0, 0, 0, time.FixedZone("CET", 3600))),
	"2025-02-29T00:00:00.000000000Z", // not a leap year
	"2026-04-31T00:00:00.000000000Z", // April has 30 days
	"2026-13-01T00:00:00.000000000Z",
	"2026-00-10T00:00:00.000000000Z",
	"2026-01-00T00:00:00.000000000Z",
	"2026-01-01T24:00:00.000000000Z",
	"2026-01-01T00:60:00.000000000Z",
	"2026-01-01T00:00:60.000000000Z",
	"2026-01-01T00:00:00.00000000aZ",
	"2026-01-01T00:00:00.000000000+01:00",
	"2026-01-01T00:00:00.5Z",
	"2026-01-01T00:00:00Z",
	"2026-01-01 00:00:00.000000000Z",
	"+026-01-01T00:00:00.000000000Z",
	"",
}

func TestParseTimeAgreesWithTimeParse(t *testing.T) {
	for _, s := range timeSeeds {
		checkParseTime(t, s)
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range timeSeeds {
		f.Add(s)
	}
	f.Fuzz(checkParseTime)
}

func checkParseTime(t *testing.T, s string) {
	got, err := ParseTime(s)
	want, wantErr := parseSlow(s)
	if (err != nil) != (wantErr != nil) || got != want {
		t.Fatalf("ParseTime(%q) = %v, %v; time.Parse gives %v, %v", s, got, err, want, wantErr)
	}
	if err == nil && got.Location() != time.UTC {
		t.Fatalf("ParseTime(%q) is in %v, want UTC", s, got.Location())
	}
}

var metadataSeeds = []string{
	`{"actor":{"subject":"bench","role":"coordinator"},"correlation_id":"c"}`,
	`{"actor":{"subject":"","role":""}}`,
	`{"actor":{"subject":"s","role":"r"},"correlation_id":"c","causation_id":"d","idempotency_key":"k"}`,
	`{"actor":{"subject":"s","role":"r"},"causation_id":"d"}`,
	`{"actor":{"subject":"Åse Ødegård","role":"r"}}`,
	`{"actor":{"subject":"a\"b","role":"r"}}`,
	`{"actor":{"subject":"a\u003cb","role":"r"}}`,
	"{\"actor\":{\"subject\":\"a\xffb\",\"role\":\"r\"}}",
	"{\"actor\":{\"subject\":\"a\x01b\",\"role\":\"r\"}}",
	`{"actor":{"role":"r","subject":"s"}}`,
	`{"actor": {"subject":"s","role":"r"}}`,
	`{"correlation_id":"c","actor":{"subject":"s","role":"r"}}`,
	`{"actor":{"subject":"s","role":"r"},"correlation_id":"c","correlation_id":"e"}`,
	`{"actor":{"subject":"s","role":"r"},"Correlation_ID":"c"}`,
	`{"actor":{"subject":"s","role":"r"},"correlation_id":""}`,
	`{"actor":{"subject":"s","role":"r"}} `,
	`{"actor":{"subject":"s","role":"r"},"other":1}`,
	`{"actor":{"subject":"s","role":"r"}`,
	`{"actor":{"subject":"s","role":"r"},"correlation_id":"c"`,
	`{"actor":{"subject":"s`,
	`null`,
	``,
}

func TestDecodeMetadataAgreesWithUnmarshal(t *testing.T) {
	for _, s := range metadataSeeds {
		checkMetadata(t, s)
	}
	// And what the stores write, which takes the hand-written way.
	m := eventstore.Metadata{Actor: eventstore.Actor{Subject: "user-1", Role: "coordinator"}, CorrelationID: "req-1", IdempotencyKey: "k-1"}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := decodeCanonical(string(b)); !ok {
		t.Fatalf("%s was not read by hand", b)
	}
	checkMetadata(t, string(b))
}

func FuzzDecodeMetadata(f *testing.F) {
	for _, s := range metadataSeeds {
		f.Add(s)
	}
	f.Fuzz(checkMetadata)
}

func checkMetadata(t *testing.T, s string) {
	got, err := decodeMetadata(s)
	var want eventstore.Metadata
	wantErr := json.Unmarshal([]byte(s), &want)
	if (err != nil) != (wantErr != nil) || (err == nil && !reflect.DeepEqual(got, want)) {
		t.Fatalf("decodeMetadata(%q) = %+v, %v; json.Unmarshal gives %+v, %v", s, got, err, want, wantErr)
	}
}
