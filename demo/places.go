package demo

import (
	"fmt"
	"time"

	"github.com/samspill/samspill/domain/kommune"
)

// place is one of the demo municipalities, with the local words the
// generated texts use.
type place struct {
	key       string       // stable part of ids: "arendal", "steinkjer"
	current   kommune.Code // today's kommunenummer
	council   string       // the municipal council, as it is called locally
	newspaper string       // the local newspaper, for media milestones
	// live is the day the municipality took samspill into use: what
	// happened before it was entered that day, after the fact.
	live time.Time
}

var (
	arendal   = place{key: "arendal", current: "4203", council: "bystyret", newspaper: "Agderposten", live: goLive(2016, time.January, 11)}
	steinkjer = place{key: "steinkjer", current: "5006", council: "kommunestyret", newspaper: "Trønder-Avisa", live: goLive(2017, time.January, 9)}
	// alesund is the Ålesund of today (1508): from 2020 to 2023 the
	// merged 1507, which split on 2024-01-01 into 1508 Ålesund and 1580
	// Haram. Its partnerships from before the split carry 1507, the one
	// research must follow into a municipality that no longer exists.
	alesund = place{key: "alesund", current: "1508", council: "bystyret", newspaper: "Sunnmørsposten", live: goLive(2023, time.January, 9)}
)

// goLive is 09:00 Oslo time on a go-live day, when the entering begins.
func goLive(year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day, 9, 0, 0, 0, oslo)
}

// places are the demo municipalities.
var places = []place{arendal, steinkjer, alesund}

// codeOn returns the kommunenummer the municipality had on the day of at:
// today's code or one of the former codes of the same municipality (same
// name) that SSB's change table leads to it, whichever was valid then.
// Arendal was 0906 until 2019, Steinkjer 1702 until 2017 and 5004 in
// 2018–2019, Ålesund 1507 from 2020 to 2023.
func (p place) codeOn(at time.Time) (string, error) {
	name := p.current.Name()
	candidates := []kommune.Code{p.current}
	for _, c := range kommune.ChangesInto(p.current) {
		if c.FromName == name {
			candidates = append(candidates, c.From)
		}
	}
	for _, c := range candidates {
		if c.ValidOn(at) {
			return string(c), nil
		}
	}
	return "", fmt.Errorf("no kommunenummer of %s was valid on %s", name, at.Format(time.DateOnly))
}
