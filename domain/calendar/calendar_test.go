package calendar

import (
	"testing"
	"time"
)

func TestParseTimes(t *testing.T) {
	for in, want := range map[string]string{
		"2024-01-15":                "2024-01-14T23:00:00Z",
		"2024-07-15":                "2024-07-14T22:00:00Z",
		"2024-07-15T10:00:00+02:00": "2024-07-15T08:00:00Z",
	} {
		got, err := ParseTime(in)
		if err != nil || got.Format(time.RFC3339) != want {
			t.Errorf("ParseTime(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	cut, err := ParseCutoff("2024-07-15")
	if err != nil || cut.Format(time.RFC3339Nano) != "2024-07-15T21:59:59.999999999Z" {
		t.Errorf("ParseCutoff(date) = %v, %v", cut, err)
	}
	for _, bad := range []string{"", "2024-13-01", "15.07.2024", "2024-07-15T10:00"} {
		if _, err := ParseTime(bad); err == nil {
			t.Errorf("ParseTime(%q) accepted", bad)
		}
	}
}
