package web

import (
	"cmp"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/locale"
	"github.com/samspill/samspill/projections/timeline"
)

// A timeline is laid out once (layoutTimeline: a drawing, in CSS pixels)
// and written three ways from that one layout:
//
//   - on a municipality's page (timeline_page.go): HTML rows, each a lane's
//     title as a link beside the lane's own small SVG, under a year axis of
//     its own, so that the axis stays in view while the lanes scroll up and
//     the titles while the drawing scrolls sideways (CSS position: sticky),
//     with every marker a link named by its description, and a list of the
//     descriptions below;
//   - as one standalone SVG (appendSVG): the partnership page's own
//     timeline, and the "download SVG" of a municipality's;
//   - as a PNG (timeline_png.go), drawn on the server.
//
// A lane has a bar per spell (active: light fill with a dark outline;
// paused: hatched with a dashed outline) and one marker per event in force,
// a distinct shape per event type, so colour is never the only signal.
// Vertical rules mark the years (months, when the axis spans under two
// years), municipal reforms and today. The page draws a page of lanes
// (lanesPerPage): a municipality of 2,000 partnerships is 40 pages of 50,
// not one drawing of 2,000. Everything is written straight into a byte
// buffer rather than through html/template; every piece of text goes
// through escapeText.

// Layout in CSS pixels (SVG user units at natural size).
const (
	labelWidth = 220 // the lane titles
	plotWidth  = 960 // the time axis
	rightPad   = 20
	axisHeight = 66 // years, months, and reforms on two rows
	laneHeight = 22
	groupGap   = 28 // a group heading
	footHeight = 8
	// singlePlotWidth is the axis of one partnership's own timeline.
	singlePlotWidth = 640
	// laneTitleRunes is how much of a title the standalone SVG writes
	// beside its lane (the page cuts titles with CSS).
	laneTitleRunes = 34
	// minYearGap and minMonthGap are the least room between two labels
	// on the axis; closer ones are left out (every other, every fifth…).
	minYearGap  = 38
	minMonthGap = 30
	// monthsUnder is the longest axis that gets month ticks.
	monthsUnder = 2 * 365 * 24 * time.Hour
)

// markerKind is how one event type is drawn: a shape made of polygons (or
// a circle), written into the SVG's <defs> and filled the same way in the
// PNG.
type markerKind struct {
	Type  string // event type
	ID    string // id of its shape in <defs>
	Color string // fill; contrast ≥ 3:1 against white (TestColourContrast)
	// Polys are closed polygons centred on 0,0; Circle a radius instead.
	Polys [][]point
	// Circle is a disc of this radius; Ring draws it as a white disc with
	// an outline of the colour.
	Circle float64
	Ring   bool
}

type point struct{ X, Y float64 }

// markerKinds lists every event type's marker, in legend order.
var markerKinds = []markerKind{
	{Type: partnership.TypePartnershipInitiated, ID: "mk-init", Color: "#1d4e89", Circle: 5.75, Ring: true},
	{Type: partnership.TypeGoalChanged, ID: "mk-goal", Color: "#a34700", Polys: [][]point{{{0, -6.5}, {6.5, 0}, {0, 6.5}, {-6.5, 0}}}},
	{Type: partnership.TypeRolesAgreed, ID: "mk-roles", Color: "#6a3d9a", Polys: [][]point{{{-5, -5}, {5, -5}, {5, 5}, {-5, 5}}}},
	{Type: partnership.TypePartnerJoined, ID: "mk-join", Color: "#1b6e30", Polys: [][]point{{{0, -6.5}, {6.5, 5.5}, {-6.5, 5.5}}}},
	{Type: partnership.TypePartnerLeft, ID: "mk-left", Color: "#a50026", Polys: [][]point{{{0, 6.5}, {6.5, -5.5}, {-6.5, -5.5}}}},
	{Type: partnership.TypeAgreementSigned, ID: "mk-agree", Color: "#00468b", Polys: [][]point{{{-3.5, -6.5}, {3.5, -6.5}, {7, 0}, {3.5, 6.5}, {-3.5, 6.5}, {-7, 0}}}},
	{Type: partnership.TypeFundingRecorded, ID: "mk-fund", Color: "#7a5a00", Circle: 5.5},
	{Type: partnership.TypeAnchoringChanged, ID: "mk-anchor", Color: "#006064", Polys: [][]point{{{-2, -6.5}, {2, -6.5}, {2, -2}, {6.5, -2}, {6.5, 2}, {2, 2}, {2, 6.5}, {-2, 6.5}, {-2, 2}, {-6.5, 2}, {-6.5, -2}, {-2, -2}}}},
	{Type: partnership.TypeCollaborationModelChanged, ID: "mk-model", Color: "#880e4f", Polys: [][]point{{{0, -6.5}, {6.5, -1.5}, {4, 6}, {-4, 6}, {-6.5, -1.5}}}},
	{Type: partnership.TypeMilestoneLogged, ID: "mk-mile", Color: "#222222", Polys: [][]point{{{0, -7}, {1.9, -2.3}, {6.7, -2.2}, {2.9, 0.9}, {4.2, 5.7}, {0, 2.9}, {-4.2, 5.7}, {-2.9, 0.9}, {-6.7, -2.2}, {-1.9, -2.3}}}},
	{Type: partnership.TypeContactPersonAssigned, ID: "mk-contact", Color: "#555555", Polys: [][]point{{{-6, -5}, {0, 0}, {-6, 5}}, {{6, -5}, {0, 0}, {6, 5}}}},
	{Type: partnership.TypePartnershipPaused, ID: "mk-pause", Color: "#8a4b08", Polys: [][]point{{{-5, -6}, {-1, -6}, {-1, 6}, {-5, 6}}, {{1, -6}, {5, -6}, {5, 6}, {1, 6}}}},
	{Type: partnership.TypePartnershipResumed, ID: "mk-resume", Color: "#8a4b08", Polys: [][]point{{{-5, -6.5}, {6.5, 0}, {-5, 6.5}}}},
	{Type: partnership.TypePartnershipEnded, ID: "mk-end", Color: "#000000", Polys: [][]point{{{-6, -4}, {-4, -6}, {0, -2}, {4, -6}, {6, -4}, {2, 0}, {6, 4}, {4, 6}, {0, 2}, {-4, 6}, {-6, 4}, {-2, 0}}}},
}

// markerIDs maps an event type to its shape's id.
var markerIDs = func() map[string]string {
	m := make(map[string]string, len(markerKinds))
	for _, k := range markerKinds {
		m[k.Type] = k.ID
	}
	return m
}()

// markerByID maps a shape's id to its kind.
var markerByID = func() map[string]*markerKind {
	m := make(map[string]*markerKind, len(markerKinds))
	for i := range markerKinds {
		m[markerKinds[i].ID] = &markerKinds[i]
	}
	return m
}()

// Colours of the bars and rules (contrast against white in
// TestColourContrast).
const (
	spellFill     = "#cfe2f3" // decoration; the outline carries the contrast
	spellOutline  = "#1d4e89" // 8.4:1
	pausedFill    = "#fdf0dc" // decoration, under the hatching
	pausedOutline = "#8a4b08" // 6.8:1, dashed, hatched fill
	reformColour  = "#6a1b9a" // 9.4:1
	todayColour   = "#b00020" // 7.3:1
	gridColour    = "#d0d0d0" // decoration only
	monthColour   = "#e6e6e6" // decoration only
	textColour    = "#1a1a1a"
)

// svgShape is a marker kind's element in <defs>.
func svgShape(k markerKind) string {
	var b []byte
	switch {
	case k.Ring:
		b = append(b, `<circle id="`+k.ID+`" r="`...)
		b = strconv.AppendFloat(b, k.Circle-1.25, 'f', -1, 64)
		b = append(b, `" fill="#fff" stroke="`+k.Color+`" stroke-width="2.5"/>`...)
	case k.Circle > 0:
		b = append(b, `<circle id="`+k.ID+`" r="`...)
		b = strconv.AppendFloat(b, k.Circle, 'f', -1, 64)
		b = append(b, `" fill="`+k.Color+`" stroke="#fff"/>`...)
	default:
		b = append(b, `<path id="`+k.ID+`" d="`...)
		for _, poly := range k.Polys {
			for i, p := range poly {
				if i == 0 {
					b = append(b, 'M')
				} else {
					b = append(b, 'L')
				}
				b = strconv.AppendFloat(b, p.X, 'f', -1, 64)
				b = append(b, ' ')
				b = strconv.AppendFloat(b, p.Y, 'f', -1, 64)
			}
			b = append(b, 'Z')
		}
		b = append(b, `" fill="`+k.Color+`" stroke="#fff" stroke-width=".8"/>`...)
	}
	return string(b)
}

// defsMarkup are the shapes and patterns every timeline uses once.
var defsMarkup = func() string {
	var b strings.Builder
	b.WriteString(`<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="` + pausedFill + `"/><line x1="1" y1="0" x2="1" y2="6" stroke="` + pausedOutline + `" stroke-width="2"/></pattern>`)
	for _, k := range markerKinds {
		b.WriteString(svgShape(k))
	}
	b.WriteString(`</defs>`)
	return b.String()
}()

// reform is a municipal change drawn as a vertical rule.
type reform struct {
	At    time.Time
	Label string // short: "0906 → 4203"
	Title string // long, for <title>
}

// reformsInto returns the changes that led to today's code, one rule per
// date, from SSB's change table, described in l's language.
func reformsInto(l *locale.Localizer, code kommune.Code) []reform {
	byDay := map[string]*reform{}
	var out []*reform
	for _, ch := range kommune.ChangesInto(code) {
		d := calendar.Day(ch.ValidFrom)
		r, ok := byDay[d]
		if !ok {
			r = &reform{At: ch.ValidFrom}
			byDay[d] = r
			out = append(out, r)
		}
		from := string(ch.From) + " " + ch.FromName
		to := string(ch.To) + " " + ch.ToName
		if r.Label != "" {
			r.Label += ", "
			r.Title += "; "
		}
		if ch.From == ch.To {
			r.Label += l.T("timeline.reform.kept_short", "From", string(ch.From))
			r.Title += l.T("timeline.reform.kept", "From", from)
		} else {
			r.Label += string(ch.From) + " → " + string(ch.To)
			r.Title += l.T("timeline.reform.became", "From", from, "To", to)
		}
	}
	res := make([]reform, len(out))
	for i, r := range out {
		res[i] = *r
		res[i].Title = l.T("timeline.reform.title", "Date", l.Date(r.At), "Changes", r.Title)
	}
	return res
}

// timelineView is what a timeline shows.
type timelineView struct {
	// L writes the drawing's words and dates.
	L *locale.Localizer
	// Code is the municipality's code today: a lane recorded under
	// another is marked with that code.
	Code    string
	Lanes   []timeline.Partnership
	Entries []timeline.Entry
	// From and To bound the axis; Today ends ongoing spells.
	From, To, Today time.Time
	// Group is "", "service_area" or "collaboration_model"; Groups count
	// each group's lanes on every page (nil: count those shown).
	Group  string
	Groups map[string]int
	// Total counts the lanes on every page (0: those shown).
	Total   int
	Reforms []reform
	// Single draws one partnership on its own page: no title column and
	// a narrower axis that fits the page.
	Single bool
}

// drawing is a timeline laid out in CSS pixels: what every writer draws.
type drawing struct {
	// Title names the drawing (its SVG <title>, the region's label).
	Title string
	// Label and Plot are the widths of the title column (0: none) and
	// of the time axis; the drawing is Label+Plot+rightPad wide.
	Label, Plot int
	Years       []tick
	// Months tick the axis when it spans under two years.
	Months  []tick
	Reforms []reformMark
	// Today is the rule of today, nil when today is off the axis.
	Today *todayMark
	Rows  []laneRow
	// None is the text of a drawing without lanes.
	None string
	// Lanes and Markers count what is drawn.
	Lanes, Markers int
}

// tick is a place on the axis; Text is its label, "" for a rule alone.
type tick struct {
	X    int
	Text string
}

type reformMark struct {
	X, Row      int // Row 0 or 1: the label's row
	Text, Title string
}

type todayMark struct {
	X     int
	Title string
}

// laneRow is a group's heading (Heading set) or a lane.
type laneRow struct {
	Heading string
	ID      string
	Status  string
	// Name is the partnership's title; OldCode the code it was recorded
	// under when that is not today's ("" otherwise); Title is what the
	// lane's title says on hover: status, area, model, dates.
	Name, OldCode, Title string
	Spells               []spellMark
	Markers              []markerMark
}

type spellMark struct {
	X1, X2 int
	Paused bool
	Title  string
}

type markerMark struct {
	X    int
	Kind *markerKind
	// Text is the event described in full: date, type, what happened.
	Text string
}

// width is the drawing's width.
func (d *drawing) width() int { return d.Label + d.Plot + rightPad }

// rowsHeight is the height of the lanes and headings.
func (d *drawing) rowsHeight() int {
	h := 0
	for _, r := range d.Rows {
		if r.Heading != "" {
			h += groupGap
		} else {
			h += laneHeight
		}
	}
	if len(d.Rows) == 0 {
		h = laneHeight
	}
	return h
}

// height is the standalone drawing's height.
func (d *drawing) height() int { return axisHeight + d.rowsHeight() + footHeight }

// timelineWords are a drawing's words in one language, cut into patterns
// once per drawing (locale.Pattern): hundreds of lanes and markers use
// them, and a template run per title would cost more than the drawing.
type timelineWords struct {
	fromTo, from, oldCode, active, paused, marker, markerTyped locale.Pattern
	ongoing                                                    string
	// labels are the event types' and vocabularies' labels.
	labels map[string]string
}

func newTimelineWords(l *locale.Localizer) *timelineWords {
	w := &timelineWords{
		fromTo:      l.Pattern("timeline.lane.from_to", "From", "To"),
		from:        l.Pattern("timeline.lane.from", "From"),
		oldCode:     l.Pattern("timeline.lane.old_code", "Code"),
		active:      l.Pattern("timeline.spell.active", "From", "To"),
		paused:      l.Pattern("timeline.spell.paused", "From", "To"),
		marker:      l.Pattern("timeline.marker", "Date", "Description"),
		markerTyped: l.Pattern("timeline.marker_typed", "Date", "Type", "Description"),
		ongoing:     l.T("timeline.spell.ongoing"),
		labels:      map[string]string{},
	}
	for _, list := range [][]string{partnership.EventTypes(), partnership.Statuses, partnership.ServiceAreas, partnership.CollaborationModels} {
		for _, v := range list {
			w.labels[v] = describe.Label(l, v)
		}
	}
	return w
}

// label is v's label (v itself when it has none).
func (w *timelineWords) label(v string) string {
	if s, ok := w.labels[v]; ok {
		return s
	}
	return v
}

// appendPattern appends a pattern filled with values, unescaped.
func appendPattern(b []byte, p locale.Pattern, values ...string) []byte {
	for _, part := range p.Parts {
		if part.Value < 0 {
			b = append(b, part.Text...)
		} else if part.Value < len(values) {
			b = append(b, values[part.Value]...)
		}
	}
	return b
}

// scale maps instants to x.
type scale struct {
	from        int64 // unix seconds
	span        float64
	label, plot int // widths of the title column and the time axis
}

func (s scale) x(t time.Time) int {
	f := float64(t.Unix()-s.from) / s.span
	f = min(max(f, 0), 1)
	return s.label + int(f*float64(s.plot)+0.5)
}

// layoutTimeline lays v out.
func layoutTimeline(v timelineView) drawing {
	if !v.To.After(v.From) {
		v.To = v.From.AddDate(1, 0, 0)
	}
	d := drawing{Label: labelWidth, Plot: plotWidth}
	if v.Single {
		d.Label, d.Plot = 12, singlePlotWidth
	}
	sc := scale{from: v.From.Unix(), span: float64(v.To.Unix() - v.From.Unix()), label: d.Label, plot: d.Plot}
	l := v.L
	w := newTimelineWords(l)
	total := v.Total
	if total == 0 {
		total = len(v.Lanes)
	}
	d.Title = l.N("timeline.title", total, "From", l.Date(v.From), "To", l.Date(v.To))

	d.Years = yearTicks(v.From, v.To, sc)
	if v.To.Sub(v.From) < monthsUnder {
		d.Months = monthTicks(l, v.From, v.To, sc)
	}
	// A reform's label goes on the first of two rows where it does not
	// run into the one before.
	var rowEnd [2]int
	for _, r := range v.Reforms {
		if r.At.Before(v.From) || r.At.After(v.To) {
			continue
		}
		x := sc.x(r.At)
		text := strconv.Itoa(r.At.In(calendar.Oslo).Year()) + ": " + r.Label
		row := 0
		if x < rowEnd[0] {
			row = 1
		}
		rowEnd[row] = x + 8 + 7*utf8.RuneCountInString(text)
		d.Reforms = append(d.Reforms, reformMark{X: x, Row: row, Text: text, Title: r.Title})
	}
	if !v.Today.Before(v.From) && !v.Today.After(v.To) {
		d.Today = &todayMark{X: sc.x(v.Today), Title: l.T("timeline.today", "Date", l.Date(v.Today))}
	}
	if len(v.Lanes) == 0 {
		d.None = l.T("timeline.none")
	}

	// Entries by lane, in the order they occurred (the query's order).
	byLane := make(map[string][]timeline.Entry, len(v.Lanes))
	for _, e := range v.Entries {
		byLane[e.PartnershipID] = append(byLane[e.PartnershipID], e)
	}
	lanes := slices.Clone(v.Lanes)
	if v.Group != "" {
		slices.SortStableFunc(lanes, func(a, b timeline.Partnership) int {
			return cmp.Compare(groupKey(a, v.Group), groupKey(b, v.Group))
		})
	}
	for i, lane := range lanes {
		if key := groupKey(lane, v.Group); v.Group != "" && (i == 0 || key != groupKey(lanes[i-1], v.Group)) {
			n, ok := v.Groups[key]
			if !ok {
				for _, other := range lanes {
					if groupKey(other, v.Group) == key {
						n++
					}
				}
			}
			d.Rows = append(d.Rows, laneRow{Heading: l.N("timeline.group", n, "Group", w.label(key), "Number", l.Number(int64(n)))})
		}
		row := layoutLane(lane, byLane[lane.ID], v, w, sc)
		d.Markers += len(row.Markers)
		d.Rows = append(d.Rows, row)
	}
	d.Lanes = len(lanes)
	return d
}

// yearTicks are the 1sts of January on the axis, every one a rule and
// every k-th labelled, k the least that leaves minYearGap between labels.
func yearTicks(from, to time.Time, sc scale) []tick {
	var out []tick
	first, last := from.In(calendar.Oslo).Year(), to.In(calendar.Oslo).Year()
	step := 1
	if years := last - first + 1; years > 0 {
		for float64(sc.plot)*float64(step)/float64(years) < minYearGap && step < years {
			step++
		}
	}
	for y := first; y <= last; y++ {
		jan1 := time.Date(y, 1, 1, 0, 0, 0, 0, calendar.Oslo)
		if jan1.Before(from) || jan1.After(to) {
			continue
		}
		t := tick{X: sc.x(jan1)}
		// No room for the label of a year that has just begun.
		if y%step == 0 && t.X <= sc.label+sc.plot-30 {
			t.Text = strconv.Itoa(y)
		}
		out = append(out, t)
	}
	return out
}

// monthTicks are the 1sts of the months on the axis but January's (the
// year's rule), labelled with the months' short names where there is room.
func monthTicks(l *locale.Localizer, from, to time.Time, sc scale) []tick {
	var out []tick
	f := from.In(calendar.Oslo)
	m := time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, calendar.Oslo)
	months := int(to.Sub(from).Hours()/(24*30.4)) + 1
	step := 1
	for float64(sc.plot)*float64(step)/float64(months) < minMonthGap && step < 12 {
		step++
	}
	for ; !m.After(to); m = m.AddDate(0, 1, 0) {
		if m.Before(from) || m.Month() == time.January {
			continue
		}
		t := tick{X: sc.x(m)}
		if (int(m.Month())-1)%step == 0 && t.X <= sc.label+sc.plot-24 {
			t.Text = l.T("timeline.month." + strconv.Itoa(int(m.Month())))
		}
		out = append(out, t)
	}
	return out
}

func groupKey(l timeline.Partnership, group string) string {
	switch group {
	case "collaboration_model":
		return l.CollaborationModel
	case "service_area":
		return l.ServiceArea
	}
	return ""
}

// layoutLane lays out one lane: its titles, spells and markers.
func layoutLane(lane timeline.Partnership, entries []timeline.Entry, v timelineView, w *timelineWords, sc scale) laneRow {
	l := v.L
	row := laneRow{ID: lane.ID, Status: lane.Status, Name: lane.Title}
	if lane.Municipality != "" && v.Code != "" && lane.Municipality != v.Code {
		row.OldCode = lane.Municipality
	}
	t := make([]byte, 0, 160)
	t = append(t, lane.Title...)
	t = append(t, " – "...)
	t = append(t, w.label(lane.Status)...)
	t = append(t, ", "...)
	t = append(t, w.label(lane.ServiceArea)...)
	t = append(t, ", "...)
	t = append(t, w.label(lane.CollaborationModel)...)
	t = append(t, ", "...)
	if lane.EndedAt != nil {
		t = appendPattern(t, w.fromTo, l.ShortDate(lane.StartedAt), l.ShortDate(*lane.EndedAt))
	} else {
		t = appendPattern(t, w.from, l.ShortDate(lane.StartedAt))
	}
	if row.OldCode != "" {
		t = appendPattern(t, w.oldCode, row.OldCode)
	}
	row.Title = string(t)

	for _, s := range spells(lane, entries, v) {
		until := w.ongoing
		if lane.EndedAt != nil || s.to.Before(v.Today) {
			until = l.ShortDate(s.to)
		}
		pattern := w.active
		if s.paused {
			pattern = w.paused
		}
		row.Spells = append(row.Spells, spellMark{X1: sc.x(s.from), X2: sc.x(s.to), Paused: s.paused,
			Title: string(appendPattern(nil, pattern, l.ShortDate(s.from), until))})
	}
	for _, e := range entries {
		id, ok := markerIDs[e.Type]
		if !ok {
			continue
		}
		row.Markers = append(row.Markers, markerMark{X: sc.x(e.OccurredAt), Kind: markerByID[id], Text: entryText(l, w, e)})
	}
	return row
}

// entryText describes an entry in full in l's language: its date, its
// type, and what happened (describe.Event), the type left out where the
// description begins with it.
func entryText(l *locale.Localizer, w *timelineWords, e timeline.Entry) string {
	date := l.Date(e.OccurredAt)
	label := w.label(e.Type)
	if e.Event == nil {
		return string(appendPattern(nil, w.marker, date, label))
	}
	line := describe.Event(l, e.Event, e.Names)
	if strings.HasPrefix(line, label) {
		return string(appendPattern(nil, w.marker, date, line))
	}
	return string(appendPattern(nil, w.markerTyped, date, label, line))
}

// spell is a stretch of a lane that was active or paused.
type spell struct {
	from, to time.Time
	paused   bool
}

// spells splits a partnership's life (within the axis) at its pauses and
// resumes. Entries are those of the lane in the axis range; a lane whose
// first pause-related entry is a resume was paused when the range began,
// and a paused lane without any was paused throughout.
func spells(l timeline.Partnership, entries []timeline.Entry, v timelineView) []spell {
	start := later(l.StartedAt, v.From)
	end := v.Today
	if l.EndedAt != nil {
		end = *l.EndedAt
	}
	end = earlier(end, v.To)
	if end.Before(start) {
		return nil
	}
	paused := l.Status == partnership.StatusPaused
	for _, e := range entries {
		switch e.Type {
		case partnership.TypePartnershipPaused:
			paused = false
		case partnership.TypePartnershipResumed:
			paused = true
		default:
			continue
		}
		break
	}
	var out []spell
	cur := spell{from: start, paused: paused}
	for _, e := range entries {
		if e.Type != partnership.TypePartnershipPaused && e.Type != partnership.TypePartnershipResumed {
			continue
		}
		nowPaused := e.Type == partnership.TypePartnershipPaused
		if nowPaused == cur.paused || e.OccurredAt.Before(start) || e.OccurredAt.After(end) {
			continue
		}
		cur.to = e.OccurredAt
		out = append(out, cur)
		cur = spell{from: e.OccurredAt, paused: nowPaused}
	}
	cur.to = end
	out = append(out, cur)
	// A spell that began and ended on the same instant (paused the day it
	// started) draws nothing; its pause marker says it.
	if len(out) > 1 {
		out = slices.DeleteFunc(out, func(s spell) bool { return !s.to.After(s.from) })
	}
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// svgStyle is the stylesheet a downloaded SVG carries inside it (the page's
// rules for the drawing, style.css): the file shows the same anywhere,
// with no reference outside it.
const svgStyle = `<style>
svg{font-family:"Go","Noto Sans","Liberation Sans",Arial,sans-serif;font-size:12px}
text{fill:` + textColour + `}
.axis text{font-weight:600}
.reform text{fill:` + reformColour + `;font-weight:600}
text.group{font-weight:700;font-size:13px}
rect.spell{fill:` + spellFill + `;stroke:` + spellOutline + `}
rect.spell.paused{fill:url(#hatch);stroke:` + pausedOutline + `;stroke-dasharray:4 2}
</style>`

// svgOptions are how appendSVG writes a drawing.
type svgOptions struct {
	// Class is the <svg>'s class beside "timeline".
	Class string
	// Style is written into the SVG ("": the page's stylesheet styles
	// it).
	Style string
	// Standalone adds the XML declaration and titles the lanes with
	// text instead of links (a file has no pages to link to).
	Standalone bool
}

// appendSVG writes d as one SVG: the partnership page's timeline and the
// downloaded file. Lanes are groups translated to their row, markers one
// <use> of a shape defined once, positioned by x alone, each titled with
// its description.
func appendSVG(b []byte, d drawing, o svgOptions) []byte {
	width, height := int64(d.width()), int64(d.height())
	if o.Standalone {
		b = append(b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"...)
	}
	b = append(b, `<svg xmlns="http://www.w3.org/2000/svg" class="timeline`...)
	if o.Class != "" {
		b = append(b, ' ')
		b = append(b, o.Class...)
	}
	b = append(b, `" role="group" aria-labelledby="tl-title" width="`...)
	b = strconv.AppendInt(b, width, 10)
	b = append(b, `" height="`...)
	b = strconv.AppendInt(b, height, 10)
	b = append(b, `" viewBox="0 0 `...)
	b = strconv.AppendInt(b, width, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, height, 10)
	b = append(b, `"><title id="tl-title">`...)
	b = escapeText(b, d.Title)
	b = append(b, `</title>`...)
	b = append(b, o.Style...)
	b = append(b, defsMarkup...)
	if o.Standalone {
		b = append(b, `<rect width="100%" height="100%" fill="#fff"/>`...)
	}
	bottom := axisHeight + d.rowsHeight()
	b = appendAxis(b, d, 0)
	b = appendRules(b, d, 0, axisHeight-6, bottom)

	y := axisHeight
	if d.None != "" {
		b = append(b, `<text x="8" y="`...)
		b = strconv.AppendInt(b, int64(y+15), 10)
		b = append(b, `">`...)
		b = escapeText(b, d.None)
		b = append(b, `</text>`...)
	}
	for _, r := range d.Rows {
		if r.Heading != "" {
			b = append(b, `<text class="group" x="4" y="`...)
			b = strconv.AppendInt(b, int64(y+groupGap-8), 10)
			b = append(b, `">`...)
			b = escapeText(b, r.Heading)
			b = append(b, `</text>`...)
			y += groupGap
			continue
		}
		b = append(b, `<g class="lane `...)
		b = escapeText(b, r.Status)
		b = append(b, `" transform="translate(0 `...)
		b = strconv.AppendInt(b, int64(y+laneHeight/2), 10)
		b = append(b, `)">`...)
		if d.Label > labelWidth/2 {
			if !o.Standalone {
				b = append(b, `<a href="/p/`...)
				b = escapeText(b, r.ID)
				b = append(b, `">`...)
			}
			b = append(b, `<text x="6" y="4"><title>`...)
			b = escapeText(b, r.Title)
			b = append(b, `</title>`...)
			b = escapeText(b, laneText(r))
			b = append(b, `</text>`...)
			if !o.Standalone {
				b = append(b, `</a>`...)
			}
		}
		b = appendLaneBody(b, r, 0)
		b = append(b, `</g>`...)
		y += laneHeight
	}
	return append(b, `</svg>`...)
}

// laneText is a lane's title as the SVG writes it beside the lane: cut to
// fit, with the code it was recorded under.
func laneText(r laneRow) string {
	if r.OldCode != "" {
		return truncate(r.Name, laneTitleRunes-7) + " (" + r.OldCode + ")"
	}
	return truncate(r.Name, laneTitleRunes)
}

// appendAxis writes the year (and month) labels and the reforms' labels,
// dx added to every x.
func appendAxis(b []byte, d drawing, dx int) []byte {
	b = append(b, `<g class="axis">`...)
	for _, t := range d.Years {
		if t.Text != "" {
			b = appendText(b, t.X+dx+3, 14, t.Text)
		}
	}
	b = append(b, `</g>`...)
	if len(d.Months) > 0 {
		b = append(b, `<g class="months">`...)
		for _, t := range d.Months {
			if t.Text != "" {
				b = appendText(b, t.X+dx+3, 29, t.Text)
			}
		}
		b = append(b, `</g>`...)
	}
	for _, r := range d.Reforms {
		b = append(b, `<g class="reform"><title>`...)
		b = escapeText(b, r.Title)
		b = append(b, `</title>`...)
		b = appendLine(b, "", r.X+dx, 34, r.X+dx, axisHeight, reformColour, "6 3")
		b = appendText(b, r.X+dx+3, 45+r.Row*15, r.Text)
		b = append(b, `</g>`...)
	}
	return b
}

// appendRules writes the vertical rules from y1 to y2: years, months,
// reforms and today, dx added to every x.
func appendRules(b []byte, d drawing, dx, y1, y2 int) []byte {
	b = append(b, `<g class="rules">`...)
	for _, t := range d.Months {
		b = appendLine(b, "month", t.X+dx, y1, t.X+dx, y2, monthColour, "")
	}
	for _, t := range d.Years {
		b = appendLine(b, "grid", t.X+dx, y1, t.X+dx, y2, gridColour, "")
	}
	for _, r := range d.Reforms {
		b = appendLine(b, "", r.X+dx, y1, r.X+dx, y2, reformColour, "6 3")
	}
	if d.Today != nil {
		b = append(b, `<g class="today"><title>`...)
		b = escapeText(b, d.Today.Title)
		b = append(b, `</title>`...)
		b = appendLine(b, "", d.Today.X+dx, y1, d.Today.X+dx, y2, todayColour, "2 3")
		b = append(b, `</g>`...)
	}
	return append(b, `</g>`...)
}

// appendLaneBody writes a lane's spells and markers, centred on y = 0 of
// its group, dx added to every x; markers are titled with their
// descriptions.
func appendLaneBody(b []byte, r laneRow, dx int) []byte {
	b = appendSpells(b, r, dx, -7)
	for _, m := range r.Markers {
		b = append(b, `<use href="#`...)
		b = append(b, m.Kind.ID...)
		b = append(b, `" x="`...)
		b = strconv.AppendInt(b, int64(m.X+dx), 10)
		b = append(b, `"><title>`...)
		b = escapeText(b, m.Text)
		b = append(b, `</title></use>`...)
	}
	return b
}

// appendSpells writes a lane's bars, their tops at y.
func appendSpells(b []byte, r laneRow, dx, y int) []byte {
	for _, s := range r.Spells {
		b = append(b, `<rect class="`...)
		// Fill and outline come from the stylesheet (.spell, .spell.paused).
		if s.Paused {
			b = append(b, `spell paused`...)
		} else {
			b = append(b, `spell`...)
		}
		b = append(b, `" x="`...)
		b = strconv.AppendInt(b, int64(s.X1+dx), 10)
		b = append(b, `" y="`...)
		b = strconv.AppendInt(b, int64(y), 10)
		b = append(b, `" width="`...)
		b = strconv.AppendInt(b, int64(max(s.X2-s.X1, 2)), 10)
		b = append(b, `" height="14"><title>`...)
		b = escapeText(b, s.Title)
		b = append(b, `</title></rect>`...)
	}
	return b
}

func appendText(b []byte, x, y int, s string) []byte {
	b = append(b, `<text x="`...)
	b = strconv.AppendInt(b, int64(x), 10)
	b = append(b, `" y="`...)
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, `">`...)
	b = escapeText(b, s)
	return append(b, `</text>`...)
}

func appendLine(b []byte, class string, x1, y1, x2, y2 int, stroke, dash string) []byte {
	b = append(b, `<line`...)
	if class != "" {
		b = append(b, ` class="`...)
		b = append(b, class...)
		b = append(b, '"')
	}
	b = append(b, ` x1="`...)
	b = strconv.AppendInt(b, int64(x1), 10)
	b = append(b, `" y1="`...)
	b = strconv.AppendInt(b, int64(y1), 10)
	b = append(b, `" x2="`...)
	b = strconv.AppendInt(b, int64(x2), 10)
	b = append(b, `" y2="`...)
	b = strconv.AppendInt(b, int64(y2), 10)
	b = append(b, `" stroke="`...)
	b = append(b, stroke...)
	if dash != "" {
		b = append(b, `" stroke-dasharray="`...)
		b = append(b, dash...)
		b = append(b, `" stroke-width="2`...)
	}
	return append(b, `"/>`...)
}

// escapeText appends s escaped for HTML/SVG text and attribute values;
// invalid UTF-8 becomes U+FFFD.
func escapeText(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '<':
				b = append(b, "&lt;"...)
			case '>':
				b = append(b, "&gt;"...)
			case '&':
				b = append(b, "&amp;"...)
			case '"':
				b = append(b, "&#34;"...)
			case '\'':
				b = append(b, "&#39;"...)
			default:
				if c < 0x20 && c != '\t' && c != '\n' {
					b = append(b, ' ')
				} else {
					b = append(b, c)
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		b = utf8.AppendRune(b, r)
		i += size
	}
	return b
}

// sparkline draws the number of partnerships active in each year as a
// small SVG line, with the numbers in its <title> in l's language.
func sparkline(l *locale.Localizer, lanes []timeline.Partnership, today time.Time) template.HTML {
	if len(lanes) == 0 {
		return ""
	}
	first := today.In(calendar.Oslo).Year()
	for _, l := range lanes {
		first = min(first, l.StartedAt.In(calendar.Oslo).Year())
	}
	last := today.In(calendar.Oslo).Year()
	counts := make([]int, last-first+1)
	peak := 1
	for i := range counts {
		y := first + i
		from := time.Date(y, 1, 1, 0, 0, 0, 0, calendar.Oslo)
		until := from.AddDate(1, 0, 0)
		for _, l := range lanes {
			if l.StartedAt.Before(until) && (l.EndedAt == nil || !l.EndedAt.Before(from)) {
				counts[i]++
			}
		}
		peak = max(peak, counts[i])
	}
	const w, h = 120, 28
	var pts, title strings.Builder
	title.WriteString(l.T("timeline.spark"))
	title.WriteString(" ")
	for i, c := range counts {
		x := 2.0
		if len(counts) > 1 {
			x = 2 + float64(i)*float64(w-4)/float64(len(counts)-1)
		}
		y := float64(h-3) - float64(c)*float64(h-6)/float64(peak)
		if i > 0 {
			pts.WriteByte(' ')
			title.WriteString(", ")
		}
		pts.WriteString(strconv.FormatFloat(x, 'f', 1, 64) + "," + strconv.FormatFloat(y, 'f', 1, 64))
		title.WriteString(strconv.Itoa(first+i) + ": " + strconv.Itoa(c))
	}
	var b []byte
	b = append(b, `<svg class="spark" width="120" height="28" viewBox="0 0 120 28" role="img"><title>`...)
	b = escapeText(b, title.String())
	b = append(b, `</title><polyline points="`...)
	b = append(b, pts.String()...)
	b = append(b, `" fill="none" stroke="`+spellOutline+`" stroke-width="2"/></svg>`...)
	return template.HTML(b) //nolint:gosec // numbers and escaped text only
}
