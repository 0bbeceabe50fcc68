package demo

import (
	"fmt"
	"time"

	"github.com/samspill/samspill/domain/kommune"
)

// place is one of the two demo municipalities, with the local words the
// generated texts use.
type place struct {
	key       string       // stable part of ids: "arendal", "steinkjer"
	current   kommune.Code // today's kommunenummer
	council   string       // the municipal council, as it is called locally
	newspaper string       // the local newspaper, for media milestones
}

var (
	arendal   = place{key: "arendal", current: "4203", council: "bystyret", newspaper: "Agderposten"}
	steinkjer = place{key: "steinkjer", current: "5006", council: "kommunestyret", newspaper: "Trønder-Avisa"}
)

// codeOn returns the kommunenummer the municipality had on the day of at:
// today's code or one of the former codes of the same municipality (same
// name) that SSB's change table leads to it, whichever was valid then.
// Arendal was 0906 until 2019, Steinkjer 1702 until 2017 and 5004 in
// 2018–2019.
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
