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

// The timeline is drawn on the server as one SVG: a year axis, one lane per
// partnership (its title links to the partnership), a bar per spell
// (active: light fill with a dark outline; paused: hatched with a dashed
// outline), one marker per event in force (a distinct shape per event type,
// so colour is never the only signal, each with a <title>), vertical rules
// for municipal reforms and for today. It is written straight into a byte
// buffer rather than through html/template: 2,000 lanes with 20,000
// markers must render in well under 100 ms and stay under 2 MB, so every
// marker is one <use> of a shape defined once, positioned by x alone
// inside its lane's group. Every piece of text goes through escapeText.

// Layout in SVG user units (CSS pixels at natural size).
const (
	labelWidth = 250  // the lane titles
	plotWidth  = 1100 // the time axis
	rightPad   = 24
	axisHeight = 62 // years on the first row, reforms on the second and third
	laneHeight = 22
	groupGap   = 28 // a group heading
	footHeight = 24
	// singlePlotWidth is the axis of one partnership's own timeline.
	singlePlotWidth = 640
	// laneTitleRunes is how much of a title fits beside the plot.
	laneTitleRunes = 34
	// fullTitlesUpTo: up to this many markers, their <title>s carry the
	// entry's summary; beyond it only date and type, to keep a large
	// municipality's page under 2 MB (the partnership page has it all).
	fullTitlesUpTo = 4000
	summaryRunes   = 90
)

// markerKind is how one event type is drawn.
type markerKind struct {
	Type  string // event type
	ID    string // id of its shape in <defs>
	Color string // fill; contrast ≥ 3:1 against white (TestColourContrast)
	Shape string // SVG element drawing it, centred on 0,0
}

// markerKinds lists every event type's marker, in legend order.
var markerKinds = []markerKind{
	{partnership.TypePartnershipInitiated, "mk-init", "#1d4e89", `<circle id="mk-init" r="4.5" fill="#fff" stroke="#1d4e89" stroke-width="2.5"/>`},
	{partnership.TypeGoalChanged, "mk-goal", "#a34700", `<path id="mk-goal" d="M0-6.5L6.5 0 0 6.5-6.5 0Z" fill="#a34700" stroke="#fff"/>`},
	{partnership.TypeRolesAgreed, "mk-roles", "#6a3d9a", `<path id="mk-roles" d="M-5-5H5V5H-5Z" fill="#6a3d9a" stroke="#fff"/>`},
	{partnership.TypePartnerJoined, "mk-join", "#1b6e30", `<path id="mk-join" d="M0-6.5L6.5 5.5H-6.5Z" fill="#1b6e30" stroke="#fff"/>`},
	{partnership.TypePartnerLeft, "mk-left", "#a50026", `<path id="mk-left" d="M0 6.5L6.5-5.5H-6.5Z" fill="#a50026" stroke="#fff"/>`},
	{partnership.TypeAgreementSigned, "mk-agree", "#00468b", `<path id="mk-agree" d="M-3.5-6.5H3.5L7 0 3.5 6.5H-3.5L-7 0Z" fill="#00468b" stroke="#fff"/>`},
	{partnership.TypeFundingRecorded, "mk-fund", "#7a5a00", `<circle id="mk-fund" r="5.5" fill="#7a5a00" stroke="#fff"/>`},
	{partnership.TypeAnchoringChanged, "mk-anchor", "#006064", `<path id="mk-anchor" d="M-2-6.5H2V-2H6.5V2H2V6.5H-2V2H-6.5V-2H-2Z" fill="#006064" stroke="#fff"/>`},
	{partnership.TypeMilestoneLogged, "mk-mile", "#222222", `<path id="mk-mile" d="M0-7L1.9-2.3 6.7-2.2 2.9 0.9 4.2 5.7 0 2.9-4.2 5.7-2.9 0.9-6.7-2.2-1.9-2.3Z" fill="#222222" stroke="#fff" stroke-width=".8"/>`},
	{partnership.TypeContactPersonAssigned, "mk-contact", "#555555", `<path id="mk-contact" d="M-6-5L0 0-6 5ZM6-5L0 0 6 5Z" fill="#555555" stroke="#fff" stroke-width=".8"/>`},
	{partnership.TypePartnershipPaused, "mk-pause", "#8a4b08", `<path id="mk-pause" d="M-5-6H-1V6H-5ZM1-6H5V6H1Z" fill="#8a4b08" stroke="#fff" stroke-width=".8"/>`},
	{partnership.TypePartnershipResumed, "mk-resume", "#8a4b08", `<path id="mk-resume" d="M-5-6.5L6.5 0-5 6.5Z" fill="#8a4b08" stroke="#fff" stroke-width=".8"/>`},
	{partnership.TypePartnershipEnded, "mk-end", "#000000", `<path id="mk-end" d="M-6-4L-4-6 0-2 4-6 6-4 2 0 6 4 4 6 0 2-4 6-6 4-2 0Z" fill="#000000" stroke="#fff" stroke-width=".8"/>`},
}

// markerIDs maps an event type to its shape.
var markerIDs = func() map[string]string {
	m := make(map[string]string, len(markerKinds))
	for _, k := range markerKinds {
		m[k.Type] = k.ID
	}
	return m
}()

// Colours of the bars and rules (contrast against white in
// TestColourContrast).
const (
	spellOutline  = "#1d4e89" // 8.4:1; the light fill #cfe2f3 is decoration
	pausedOutline = "#8a4b08" // 6.8:1, dashed, hatched fill
	reformColour  = "#6a1b9a" // 9.4:1
	todayColour   = "#b00020" // 7.3:1
	gridColour    = "#d0d0d0" // decoration only
)

// svgDefs are the shapes and patterns every timeline uses once.
func svgDefs() string {
	var b strings.Builder
	b.WriteString(`<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fdf0dc"/><line x1="1" y1="0" x2="1" y2="6" stroke="` + pausedOutline + `" stroke-width="2"/></pattern>`)
	for _, k := range markerKinds {
		b.WriteString(k.Shape)
	}
	b.WriteString(`</defs>`)
	return b.String()
}

var defsMarkup = svgDefs()

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

// timelineView is what the renderer draws.
type timelineView struct {
	// L writes the drawing's words and dates.
	L       *locale.Localizer
	Lanes   []timeline.Partnership
	Entries []timeline.Entry
	// From and To bound the axis; Today ends ongoing spells.
	From, To, Today time.Time
	// Group is "", "service_area" or "collaboration_model".
	Group   string
	Reforms []reform
	// OldCodes maps a lane to the code it was recorded under, when that
	// is not today's.
	OldCodes map[string]string
	// Single draws one partnership on its own page: no title column and
	// a narrower axis that fits the page.
	Single bool
	// TypesOnly titles markers with their date and type, never the
	// entries' summaries (which are English on a municipality's
	// timeline: the read model's).
	TypesOnly bool
	// words are L's words, set by renderTimeline.
	words *timelineWords
}

// timelineWords are a drawing's words in one language, cut into patterns
// once per drawing (locale.Pattern): thousands of lanes and markers use
// them, and a template run per title would cost more than the drawing.
type timelineWords struct {
	fromTo, from, oldCode, active, paused locale.Pattern
	ongoing                               string
	// labels are the event types' and vocabularies' labels.
	labels map[string]string
}

func newTimelineWords(l *locale.Localizer) *timelineWords {
	w := &timelineWords{
		fromTo:  l.Pattern("timeline.lane.from_to", "From", "To"),
		from:    l.Pattern("timeline.lane.from", "From"),
		oldCode: l.Pattern("timeline.lane.old_code", "Code"),
		active:  l.Pattern("timeline.spell.active", "From", "To"),
		paused:  l.Pattern("timeline.spell.paused", "From", "To"),
		ongoing: l.T("timeline.spell.ongoing"),
		labels:  map[string]string{},
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

// appendPattern appends a pattern filled with values, escaped.
func appendPattern(b []byte, p locale.Pattern, values ...string) []byte {
	for _, part := range p.Parts {
		if part.Value < 0 {
			b = escapeText(b, part.Text)
		} else if part.Value < len(values) {
			b = escapeText(b, values[part.Value])
		}
	}
	return b
}

// shortTitles reports whether there are so many entries that markers'
// titles leave out the summary (and lanes' titles the old code).
func (v timelineView) shortTitles() bool { return len(v.Entries) > fullTitlesUpTo }

// renderedTimeline is the SVG and what it shows.
type renderedTimeline struct {
	SVG     template.HTML
	Lanes   int
	Markers int
	// ShortTitles is true when markers' titles leave out the summary.
	ShortTitles bool
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

// renderTimeline draws v as SVG.
func renderTimeline(v timelineView) renderedTimeline {
	if !v.To.After(v.From) {
		v.To = v.From.AddDate(1, 0, 0)
	}
	sc := scale{from: v.From.Unix(), span: float64(v.To.Unix() - v.From.Unix()), label: labelWidth, plot: plotWidth}
	if v.Single {
		sc.label, sc.plot = 12, singlePlotWidth
	}
	width := int64(sc.label + sc.plot + rightPad)
	short := v.shortTitles()
	v.words = newTimelineWords(v.L)

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
	groups := 0
	for i := range lanes {
		if v.Group != "" && (i == 0 || groupKey(lanes[i], v.Group) != groupKey(lanes[i-1], v.Group)) {
			groups++
		}
	}
	height := axisHeight + len(lanes)*laneHeight + groups*groupGap + footHeight
	if len(lanes) == 0 {
		height += laneHeight
	}

	perEntry := 60
	if !short {
		perEntry = 140
	}
	b := make([]byte, 0, 8192+len(lanes)*480+len(v.Entries)*perEntry)
	b = append(b, `<svg xmlns="http://www.w3.org/2000/svg" class="timeline`...)
	if v.Single {
		b = append(b, ` single`...)
	}
	b = append(b, `" role="group" aria-labelledby="tl-title" width="`...)
	b = strconv.AppendInt(b, width, 10)
	b = append(b, `" height="`...)
	b = strconv.AppendInt(b, int64(height), 10)
	b = append(b, `" viewBox="0 0 `...)
	b = strconv.AppendInt(b, width, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(height), 10)
	b = append(b, `"><title id="tl-title">`...)
	b = escapeText(b, v.L.N("timeline.title", len(lanes), "From", v.L.Date(v.From), "To", v.L.Date(v.To)))
	b = append(b, `</title>`...)
	b = append(b, defsMarkup...)

	// Year axis and grid.
	b = append(b, `<g class="axis">`...)
	for y := v.From.In(calendar.Oslo).Year(); y <= v.To.In(calendar.Oslo).Year()+1; y++ {
		jan1 := time.Date(y, 1, 1, 0, 0, 0, 0, calendar.Oslo)
		if jan1.Before(v.From) || jan1.After(v.To) {
			continue
		}
		x := sc.x(jan1)
		b = appendLine(b, "grid", x, axisHeight-6, x, height-footHeight, gridColour, "")
		if x > sc.label+sc.plot-30 {
			continue // no room for the label of a year that has just begun
		}
		b = append(b, `<text x="`...)
		b = strconv.AppendInt(b, int64(x+3), 10)
		b = append(b, `" y="16">`...)
		b = strconv.AppendInt(b, int64(y), 10)
		b = append(b, `</text>`...)
	}
	b = append(b, `</g>`...)

	// Reforms and today, drawn under the lanes. A reform's label goes on
	// the first of two rows where it does not run into the one before.
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
		b = append(b, `<g class="reform"><title>`...)
		b = escapeText(b, r.Title)
		b = append(b, `</title>`...)
		b = appendLine(b, "", x, 22, x, height-footHeight, reformColour, "6 3")
		b = append(b, `<text x="`...)
		b = strconv.AppendInt(b, int64(x+3), 10)
		b = append(b, `" y="`...)
		b = strconv.AppendInt(b, int64(34+row*16), 10)
		b = append(b, `">`...)
		b = escapeText(b, text)
		b = append(b, `</text></g>`...)
	}
	if !v.Today.Before(v.From) && !v.Today.After(v.To) {
		x := sc.x(v.Today)
		b = append(b, `<g class="today"><title>`...)
		b = escapeText(b, v.L.T("timeline.today", "Date", v.L.Date(v.Today)))
		b = append(b, `</title>`...)
		b = appendLine(b, "", x, axisHeight-6, x, height-footHeight, todayColour, "2 3")
		b = append(b, `</g>`...)
	}

	markers := 0
	y := axisHeight
	if len(lanes) == 0 {
		b = append(b, `<text x="8" y="`...)
		b = strconv.AppendInt(b, int64(y+15), 10)
		b = append(b, `">`...)
		b = escapeText(b, v.L.T("timeline.none"))
		b = append(b, `</text>`...)
	}
	for i, l := range lanes {
		if v.Group != "" && (i == 0 || groupKey(l, v.Group) != groupKey(lanes[i-1], v.Group)) {
			b = append(b, `<text class="group" x="4" y="`...)
			b = strconv.AppendInt(b, int64(y+groupGap-8), 10)
			b = append(b, `">`...)
			b = escapeText(b, v.words.label(groupKey(l, v.Group)))
			b = append(b, `</text>`...)
			y += groupGap
		}
		var n int
		b, n = appendLane(b, l, byLane[l.ID], v, sc, y+laneHeight/2)
		markers += n
		y += laneHeight
	}
	b = append(b, `</svg>`...)
	// The bytes are built from escaped text and fixed markup only.
	return renderedTimeline{SVG: template.HTML(b), Lanes: len(lanes), Markers: markers, ShortTitles: short} //nolint:gosec // escaped above
}

func groupKey(l timeline.Partnership, group string) string {
	if group == "collaboration_model" {
		return l.CollaborationModel
	}
	return l.ServiceArea
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

// appendLane draws one lane centred on cy and returns its marker count.
// The lane's title is written beside it unless v is a single
// partnership's (whose page names it); with v.shortTitles, markers are
// titled with their type only.
func appendLane(b []byte, l timeline.Partnership, entries []timeline.Entry, v timelineView, sc scale, cy int) ([]byte, int) {
	short := v.shortTitles()
	b = append(b, `<g class="lane `...)
	b = escapeText(b, l.Status)
	b = append(b, `" transform="translate(0 `...)
	b = strconv.AppendInt(b, int64(cy), 10)
	b = append(b, `)"><a href="/p/`...)
	b = escapeText(b, l.ID)
	b = append(b, `"><title>`...)
	b = escapeText(b, l.Title)
	b = append(b, ` – `...)
	w := v.words
	b = escapeText(b, w.label(l.Status))
	b = append(b, `, `...)
	b = escapeText(b, w.label(l.ServiceArea))
	b = append(b, `, `...)
	b = escapeText(b, w.label(l.CollaborationModel))
	b = append(b, `, `...)
	if l.EndedAt != nil {
		b = appendPattern(b, w.fromTo, v.L.ShortDate(l.StartedAt), v.L.ShortDate(*l.EndedAt))
	} else {
		b = appendPattern(b, w.from, v.L.ShortDate(l.StartedAt))
	}
	if old, ok := v.OldCodes[l.ID]; ok && !short {
		b = appendPattern(b, w.oldCode, old)
	}
	b = append(b, `</title><text x="6" y="4">`...)
	if !v.Single {
		title := truncate(l.Title, laneTitleRunes)
		if old, ok := v.OldCodes[l.ID]; ok {
			title = truncate(l.Title, laneTitleRunes-7) + " (" + old + ")"
		}
		b = escapeText(b, title)
	}
	b = append(b, `</text></a>`...)

	for _, s := range spells(l, entries, v) {
		x1, x2 := sc.x(s.from), sc.x(s.to)
		b = append(b, `<rect class="`...)
		// Fill and outline come from the stylesheet (.spell, .spell.paused):
		// 2,000 lanes would repeat them otherwise.
		if s.paused {
			b = append(b, `spell paused`...)
		} else {
			b = append(b, `spell`...)
		}
		b = append(b, `" x="`...)
		b = strconv.AppendInt(b, int64(x1), 10)
		b = append(b, `" y="-7" width="`...)
		b = strconv.AppendInt(b, int64(max(x2-x1, 2)), 10)
		b = append(b, `" height="14"><title>`...)
		until := w.ongoing
		if l.EndedAt != nil || s.to.Before(v.Today) {
			until = v.L.ShortDate(s.to)
		}
		pattern := w.active
		if s.paused {
			pattern = w.paused
		}
		b = appendPattern(b, pattern, v.L.ShortDate(s.from), until)
		b = append(b, `</title></rect>`...)
	}
	n := 0
	for _, e := range entries {
		id, ok := markerIDs[e.Type]
		if !ok {
			continue
		}
		b = append(b, `<use href="#`...)
		b = append(b, id...)
		b = append(b, `" x="`...)
		b = strconv.AppendInt(b, int64(sc.x(e.OccurredAt)), 10)
		b = append(b, `"><title>`...)
		b = v.L.AppendShortDate(b, e.OccurredAt)
		b = append(b, ' ')
		if short || v.TypesOnly || e.Summary == "" {
			b = escapeText(b, w.label(e.Type))
		} else {
			b = escapeText(b, truncate(e.Summary, summaryRunes))
		}
		b = append(b, `</title></use>`...)
		n++
	}
	return append(b, `</g>`...), n
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
