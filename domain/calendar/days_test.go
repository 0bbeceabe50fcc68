package calendar_test

import (
	"testing"
	"time"

	"github.com/samspill/samspill/domain/calendar"
)

func TestDaysCountsOsloDates(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		from, to string
		want     int
	}{
		{"2024-03-30T12:00:00+01:00", "2024-04-01T00:30:00+02:00", 2}, // across the switch to summer time
		{"2024-01-01T23:30:00Z", "2024-01-02T00:30:00+01:00", 0},      // the same Oslo date: 00:30 on 2 January
		{"2024-01-01T22:59:00Z", "2024-01-01T23:00:00Z", 1},           // 23:59 and 00:00 in Oslo
		{"2024-02-01T12:00:00Z", "2024-01-01T12:00:00Z", -31},
	} {
		if got := calendar.Days(at(tc.from), at(tc.to)); got != tc.want {
			t.Errorf("Days(%s, %s) = %d, want %d", tc.from, tc.to, got, tc.want)
		}
	}
}
