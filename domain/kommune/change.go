package kommune

import (
	"cmp"
	"slices"
	"time"
)

// Change is one row of SSB's change table: on ValidFrom (midnight in
// Europe/Oslo) the municipality From, named FromName until then, became (part
// of) To, named ToName from then on. From and To are equal when a code
// survived a merger (1103 Stavanger in 2020).
type Change struct {
	From      Code
	FromName  string
	To        Code
	ToName    string
	ValidFrom time.Time
}

// splitOverrides names the successor that Current follows for a split code
// none of whose successors has the old name. Every entry must be a split in
// the change table; initialisation panics otherwise.
var splitOverrides = map[Code]Code{
	"0720": "0710", // Stokke 2017: the town of Stokke (administrative centre) and about 80 % of the people went to Sandefjord; only the Vear area went to Tønsberg.
	"1850": "1806", // Tysfjord 2020: the administrative centre Kjøpsvik is on the north-east side, which joined Narvik; the south-west side joined Hamarøy.
	"5012": "5059", // Snillfjord 2020: the administrative centre Krokstadøra went to Orkland; Sundlandet went to Hitra, Vennastranda to Heim.
}

// ChangesInto returns every change row whose chain of successors leads to c,
// which must be a code valid today; for other codes it returns nil. A row
// leads to c if its To is c, or if c can be reached from its To by following
// later rows. Chains follow every branch of a split, so a row can be returned
// for several current codes. The rows are ordered by ValidFrom, then From,
// then To; the slice is a fresh copy that the caller may modify.
func ChangesInto(c Code) []Change {
	return slices.Clone(tab.into[c])
}

// compareChanges orders changes by date, then From, then To.
func compareChanges(a, b Change) int {
	return cmp.Or(
		a.ValidFrom.Compare(b.ValidFrom),
		cmp.Compare(a.From, b.From),
		cmp.Compare(a.To, b.To),
	)
}

// SplitsOf returns the change rows of every split on the way from c to the
// code that succeeds it today (the chain Current follows): at each step,
// when the code stopped being valid as the old code of several rows with
// different new codes (1507 Ålesund → 1508 Ålesund and 1580 Haram on
// 2024-01-01), all of that day's rows for it. A code valid today, a code
// whose chain has no split, and an unknown code give nil. The rows are
// ordered by ValidFrom, then To; the slice is the caller's.
func SplitsOf(c Code) []Change {
	var out []Change
	for steps := 0; steps <= len(tab.entries); steps++ {
		e := tab.entries[c]
		if e == nil || e.isCurrent() {
			break
		}
		end := e.intervals[len(e.intervals)-1].until
		var ending []Change
		for _, ch := range tab.from[c] {
			if ch.To != c && dayOf(ch.ValidFrom) == end {
				ending = append(ending, ch)
			}
		}
		if len(ending) > 1 {
			out = append(out, ending...)
		}
		c = e.next
	}
	slices.SortStableFunc(out, compareChanges)
	return out
}
