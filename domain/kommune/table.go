package kommune

import (
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

var (
	//go:embed data/kommuner-2024.csv
	currentCSV string
	//go:embed data/kommuner-changes.csv
	changesCSV string
)

// tab holds the lookup tables. It is built once at package initialisation and
// never modified afterwards.
var tab = mustBuild(currentCSV, changesCSV)

// tables are the facts derived from the embedded data.
type tables struct {
	entries       map[Code]*entry       // every known code
	current       []Municipality        // valid today, sorted by code
	currentByCode map[Code]Municipality // the same, by code
	counties      map[string]string     // current county number → name
	into          map[Code][]Change     // current code → rows leading to it, sorted
	from          map[Code][]Change     // old code → its rows, in SSB's order
}

// entry is what the package knows about one code.
type entry struct {
	name      string
	intervals []interval // ascending, disjoint; the last ends at forever iff the code is current
	current   Code       // the code that succeeds this one today
	next      Code       // the successor chosen at its last end ("" if current)
}

func (e *entry) validOn(d day) bool {
	for _, iv := range e.intervals {
		if iv.contains(d) {
			return true
		}
	}
	return false
}

// nearest returns the validity interval nearest d: the last one that starts
// on or before d, or the first one if d precedes them all.
func (e *entry) nearest(d day) interval {
	best := e.intervals[0]
	for _, iv := range e.intervals {
		if iv.from <= d {
			best = iv
		}
	}
	return best
}

func (e *entry) isCurrent() bool { return e.intervals[len(e.intervals)-1].until == forever }

// row is a change row with its date as a day.
type row struct {
	Change
	on   day
	line int
}

func mustBuild(currentData, changesData string) *tables {
	t, err := build(currentData, changesData)
	if err != nil {
		panic("kommune: embedded reference data is unusable: " + err.Error())
	}
	return t
}

// build parses both tables and derives validity, names, successors and the
// rows leading to each current code. It checks the data for consistency.
func build(currentData, changesData string) (*tables, error) {
	current, err := readCurrent(currentData)
	if err != nil {
		return nil, fmt.Errorf("data/kommuner-2024.csv: %w", err)
	}
	rows, err := readChanges(changesData)
	if err != nil {
		return nil, fmt.Errorf("data/kommuner-changes.csv: %w", err)
	}
	t := &tables{
		entries:       make(map[Code]*entry),
		current:       current,
		currentByCode: make(map[Code]Municipality, len(current)),
		counties:      make(map[string]string),
		into:          make(map[Code][]Change),
		from:          make(map[Code][]Change),
	}
	for _, r := range rows {
		t.from[r.From] = append(t.from[r.From], r.Change)
	}
	for _, m := range current {
		t.currentByCode[m.Code] = m
		t.counties[m.CountyCode] = m.CountyName
	}
	if err := t.deriveValidity(rows); err != nil {
		return nil, err
	}
	t.deriveNames(rows)
	if err := t.deriveSuccessors(rows); err != nil {
		return nil, err
	}
	if err := t.deriveChangesInto(rows); err != nil {
		return nil, err
	}
	return t, nil
}

// readCSV reads comma-separated records and checks the header.
func readCSV(data string, header ...string) ([][]string, error) {
	r := csv.NewReader(strings.NewReader(data))
	r.FieldsPerRecord = len(header)
	records, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(records) == 0 || !slices.Equal(records[0], header) {
		return nil, fmt.Errorf("header must be %q", strings.Join(header, ","))
	}
	return records[1:], nil
}

func readCurrent(data string) ([]Municipality, error) {
	records, err := readCSV(data, "code", "name", "county_code", "county_name")
	if err != nil {
		return nil, err
	}
	var list []Municipality
	seen := make(map[Code]bool)
	counties := make(map[string]string)
	for i, rec := range records {
		line := i + 2
		m := Municipality{Code: Code(rec[0]), Name: rec[1], CountyCode: rec[2], CountyName: rec[3]}
		switch {
		case !isDigits(rec[0], 4) || rec[0] == "9999":
			return nil, fmt.Errorf("line %d: code %q is not a municipality code", line, rec[0])
		case seen[m.Code]:
			return nil, fmt.Errorf("line %d: code %s listed twice", line, m.Code)
		case m.Name == "" || m.CountyName == "":
			return nil, fmt.Errorf("line %d: empty name", line)
		case m.CountyCode != rec[0][:2]:
			return nil, fmt.Errorf("line %d: county %q is not the first two digits of %s", line, m.CountyCode, m.Code)
		}
		if name, ok := counties[m.CountyCode]; ok && name != m.CountyName {
			return nil, fmt.Errorf("line %d: county %s is named both %q and %q", line, m.CountyCode, name, m.CountyName)
		}
		counties[m.CountyCode] = m.CountyName
		seen[m.Code] = true
		list = append(list, m)
	}
	if len(list) == 0 {
		return nil, errors.New("no municipalities")
	}
	slices.SortFunc(list, func(a, b Municipality) int { return strings.Compare(string(a.Code), string(b.Code)) })
	return list, nil
}

func readChanges(data string) ([]row, error) {
	records, err := readCSV(data, "old_code", "old_name", "new_code", "new_name", "valid_from")
	if err != nil {
		return nil, err
	}
	type key struct {
		from, to Code
		on       day
	}
	seen := make(map[key]bool)
	rows := make([]row, 0, len(records))
	for i, rec := range records {
		line := i + 2
		if !isDigits(rec[0], 4) || !isDigits(rec[2], 4) {
			return nil, fmt.Errorf("line %d: codes %q and %q must be 4 digits", line, rec[0], rec[2])
		}
		if rec[1] == "" || rec[3] == "" {
			return nil, fmt.Errorf("line %d: empty name", line)
		}
		on, at, err := parseDay(rec[4])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		r := row{Change: Change{From: Code(rec[0]), FromName: rec[1], To: Code(rec[2]), ToName: rec[3], ValidFrom: at}, on: on, line: line}
		k := key{r.From, r.To, on}
		if seen[k] {
			return nil, fmt.Errorf("line %d: change %s→%s on %s listed twice", line, r.From, r.To, on)
		}
		seen[k] = true
		rows = append(rows, r)
	}
	return rows, nil
}

// deriveValidity computes every code's validity intervals (see the package
// documentation) and checks that exactly the listed codes are valid today.
func (t *tables) deriveValidity(rows []row) error {
	type role struct{ old, new bool }
	roles := make(map[Code]map[day]*role)
	mark := func(c Code, d day) *role {
		if roles[c] == nil {
			roles[c] = make(map[day]*role)
		}
		if roles[c][d] == nil {
			roles[c][d] = &role{}
		}
		return roles[c][d]
	}
	for _, r := range rows {
		mark(r.From, r.on).old = true
		mark(r.To, r.on).new = true
	}
	for c, byDay := range roles {
		days := slices.Sorted(maps.Keys(byDay))
		valid := byDay[days[0]].old // first seen as an old code: valid since before the table
		from := beginning
		var ivs []interval
		for _, d := range days {
			r := byDay[d]
			switch {
			case r.old && r.new && !valid:
				return fmt.Errorf("code %s continues on %s but was not valid before", c, d)
			case r.old && !r.new:
				if !valid {
					return fmt.Errorf("code %s ends on %s but was not valid before", c, d)
				}
				ivs = append(ivs, interval{from, d})
				valid = false
			case r.new && !valid:
				from, valid = d, true
			}
		}
		if valid {
			ivs = append(ivs, interval{from, forever})
		}
		t.entries[c] = &entry{intervals: ivs}
	}
	var problems []string
	for c, e := range t.entries {
		if _, listed := t.currentByCode[c]; e.isCurrent() != listed {
			problems = append(problems, fmt.Sprintf("%s (valid today per changes: %v, in the 2024 list: %v)", c, e.isCurrent(), listed))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("the change table and the 2024 list disagree on which codes are valid today: %s", strings.Join(problems, ", "))
	}
	for _, m := range t.current {
		if t.entries[m.Code] == nil { // unchanged since before 2017
			t.entries[m.Code] = &entry{intervals: []interval{{beginning, forever}}}
		}
	}
	for _, r := range rows {
		if !t.entries[r.To].validOn(r.on) {
			return fmt.Errorf("line %d: new code %s is not valid on %s", r.line, r.To, r.on)
		}
		if !t.entries[r.From].validOn(r.on - 1) { // r.on−1 precedes r.on; it need not be a real date
			return fmt.Errorf("line %d: old code %s is not valid before %s", r.line, r.From, r.on)
		}
	}
	return nil
}

// deriveNames gives each code its newest name: the 2024 name for current
// codes, otherwise the latest name on a change row, where a new name on date
// D is newer than an old name on D. Ties keep the first row in SSB's order.
func (t *tables) deriveNames(rows []row) {
	type rank struct {
		on  day
		new bool
	}
	newer := func(a, b rank) bool { return a.on > b.on || a.on == b.on && a.new && !b.new }
	ranks := make(map[Code]rank)
	for _, r := range rows {
		for _, n := range []struct {
			c    Code
			name string
			rank rank
		}{{r.From, r.FromName, rank{r.on, false}}, {r.To, r.ToName, rank{r.on, true}}} {
			e := t.entries[n.c]
			if old, ok := ranks[n.c]; !ok || newer(n.rank, old) {
				ranks[n.c] = n.rank
				e.name = n.name
			}
		}
	}
	for _, m := range t.current {
		t.entries[m.Code].name = m.Name
	}
}

// endingRows returns the rows in SSB's order by which c stopped being valid
// on d, excluding a row that keeps c.
func endingRows(byFrom map[Code][]row, c Code, d day) []row {
	var out []row
	for _, r := range byFrom[c] {
		if r.on == d && r.To != c {
			out = append(out, r)
		}
	}
	return out
}

// deriveSuccessors computes Current for every code, applying the split rule of
// the package documentation, and checks that splitOverrides is exactly used.
func (t *tables) deriveSuccessors(rows []row) error {
	byFrom := make(map[Code][]row)
	for _, r := range rows {
		byFrom[r.From] = append(byFrom[r.From], r)
	}
	next := make(map[Code]Code) // former code → chosen successor at its last end
	used := make(map[Code]bool)
	for c, e := range t.entries {
		if e.isCurrent() {
			continue
		}
		end := e.intervals[len(e.intervals)-1].until
		cands := endingRows(byFrom, c, end)
		if len(cands) == 0 {
			return fmt.Errorf("code %s ends on %s without a successor", c, end)
		}
		next[c] = cands[0].To
		if len(cands) == 1 {
			continue
		}
		if i := slices.IndexFunc(cands, func(r row) bool { return r.ToName == r.FromName }); i >= 0 {
			next[c] = cands[i].To
			continue
		}
		if o, ok := splitOverrides[c]; ok {
			if !slices.ContainsFunc(cands, func(r row) bool { return r.To == o }) {
				return fmt.Errorf("splitOverrides: %s → %s is not one of the changes of %s on %s", c, o, c, end)
			}
			next[c] = o
			used[c] = true
		}
	}
	for c, o := range splitOverrides {
		if !used[c] {
			return fmt.Errorf("splitOverrides: %s → %s is not needed: %s is not a split without a same-name successor", c, o, c)
		}
	}
	for c, e := range t.entries {
		e.next = next[c]
		cur := c
		for steps := 0; !t.entries[cur].isCurrent(); steps++ {
			if steps > len(t.entries) {
				return fmt.Errorf("successors of %s form a cycle", c)
			}
			cur = next[cur]
		}
		e.current = cur
	}
	return nil
}

// deriveChangesInto files every row under each current code that its chain of
// successors reaches, following every branch of a split.
func (t *tables) deriveChangesInto(rows []row) error {
	byFrom := make(map[Code][]row)
	for _, r := range rows {
		byFrom[r.From] = append(byFrom[r.From], r)
	}
	// reach returns the current codes reachable from c, valid on d.
	var reach func(c Code, d day, depth int) ([]Code, error)
	reach = func(c Code, d day, depth int) ([]Code, error) {
		if depth > len(rows) {
			return nil, fmt.Errorf("changes from %s form a cycle", c)
		}
		e := t.entries[c]
		i := slices.IndexFunc(e.intervals, func(iv interval) bool { return iv.contains(d) })
		if i < 0 {
			return nil, fmt.Errorf("code %s is not valid on %s", c, d)
		}
		end := e.intervals[i].until
		if end == forever {
			return []Code{c}, nil
		}
		var out []Code
		for _, r := range endingRows(byFrom, c, end) {
			got, err := reach(r.To, end, depth+1)
			if err != nil {
				return nil, err
			}
			for _, g := range got {
				if !slices.Contains(out, g) {
					out = append(out, g)
				}
			}
		}
		return out, nil
	}
	for _, r := range rows {
		targets, err := reach(r.To, r.on, 0)
		if err != nil {
			return fmt.Errorf("line %d: %w", r.line, err)
		}
		for _, c := range targets {
			t.into[c] = append(t.into[c], r.Change)
		}
	}
	for _, changes := range t.into {
		slices.SortFunc(changes, compareChanges)
	}
	return nil
}
