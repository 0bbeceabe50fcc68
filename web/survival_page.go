package web

import (
	"cmp"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/locale"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/research/survival"
)

// The survival page (GET /research/survival) draws Kaplan–Meier curves of
// how long partnerships last, by collaboration model and by municipality,
// as inline SVG written on the server: step lines in the timeline's
// colours, each with its own dash pattern so the page prints in black and
// white, ticks where partnerships are censored and a line at 50 % for the
// median. Under each chart a table gives the medians and another (folded)
// every step's numbers, so nothing is only in the drawing.

// Chart layout in SVG user units.
const (
	kmWidth   = 640
	kmHeight  = 340
	kmLeft    = 64 // room for the share's labels
	kmRight   = 16
	kmTop     = 16
	kmBottom  = 64 // the time axis' labels and title
	kmPlotW   = kmWidth - kmLeft - kmRight
	kmPlotH   = kmHeight - kmTop - kmBottom
	kmMaxTick = 8
)

// curveColours are the timeline's colours (TestColourContrast), and
// curveDashes the patterns that keep curves apart without colour.
var (
	curveColours = []string{"#1d4e89", "#a34700", "#1b6e30", "#6a3d9a", "#a50026", "#006064", "#7a5a00", "#222222"}
	curveDashes  = []string{"", "8 4", "2 3", "10 3 2 3", "14 4 2 4 2 4"}
)

type survivalPage struct {
	layoutData
	Counts string
	Charts []survivalChart
}

// survivalChart is one chart: its drawing, its legend and its tables.
type survivalChart struct {
	ID, Heading string
	SVG         template.HTML
	Curves      []survivalCurve
}

// survivalCurve is one group's curve as the legend and tables show it.
type survivalCurve struct {
	Label              string
	Colour, Dash       string
	N, Ended, Censored int
	Median, CI         string
	Steps              []survivalStep
	// reached tells whether the curve falls to 50 % (the median exists).
	reached bool
}

type survivalStep struct {
	Days, AtRisk, Events, Censored int
	Survival, Lower, Upper         string
}

// survivalGroup is the durations of one group before they are estimated.
type survivalGroup struct {
	label string
	ds    []summaries.Duration
}

// survivalPage serves GET /research/survival to researchers and
// admins; everyone else gets the 403 page.
func (p *Pages) survivalPage(c *gin.Context) {
	l := loc(c)
	if pr := principal(c); pr.Role != auth.RoleResearcher && !pr.IsAdmin() {
		p.errorPageBack(c, http.StatusForbidden, l.T("survival.forbidden"), "/")
		return
	}
	now := p.now()
	ds, err := p.sums.Durations(c.Request.Context(), "", now)
	if err != nil {
		p.fail(c, err)
		return
	}
	page := &survivalPage{layoutData: layoutData{Title: l.T("survival.title"), Section: sectionResearch, Crumbs: crumbsHome(l)}}
	if len(ds) > 0 {
		all := summaries.SurvivalOf(ds)
		page.Counts = l.T("survival.counts", "Total", l.Number(int64(all.Partnerships)), "Ended", l.Number(int64(all.Ended)),
			"Censored", l.Number(int64(all.Censored)), "Today", l.Date(now))
		page.Charts = []survivalChart{
			survivalChartOf(l, "km-model", l.T("survival.by_model"), byModel(l, ds)),
			survivalChartOf(l, "km-municipality", l.T("survival.by_municipality"), byMunicipality(ds)),
		}
	}
	p.render(c, http.StatusOK, "survival", page)
}

// byModel groups durations by current collaboration model, in the
// vocabulary's order, leaving out models without partnerships.
func byModel(l *locale.Localizer, ds []summaries.Duration) []survivalGroup {
	var out []survivalGroup
	for _, m := range partnership.CollaborationModels {
		g := survivalGroup{label: describe.Label(l, m)}
		for _, d := range ds {
			if d.CollaborationModel == m {
				g.ds = append(g.ds, d)
			}
		}
		if len(g.ds) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// byMunicipality groups durations by municipality (today's code), in the
// order of the codes, named as "Arendal (4203)".
func byMunicipality(ds []summaries.Duration) []survivalGroup {
	codes := map[string][]summaries.Duration{}
	for _, d := range ds {
		codes[d.Municipality] = append(codes[d.Municipality], d)
	}
	out := make([]survivalGroup, 0, len(codes))
	for code, g := range codes {
		out = append(out, survivalGroup{label: kommune.Code(code).Name() + " (" + code + ")", ds: g})
	}
	slices.SortFunc(out, func(a, b survivalGroup) int { return cmp.Compare(a.ds[0].Municipality, b.ds[0].Municipality) })
	return out
}

// survivalChartOf estimates each group's curve and draws them.
func survivalChartOf(l *locale.Localizer, id, heading string, groups []survivalGroup) survivalChart {
	chart := survivalChart{ID: id, Heading: heading}
	curves := make([]survival.Curve, len(groups))
	for i, g := range groups {
		c := summaries.Curve(g.ds)
		curves[i] = c
		m, lo, hi, reached := survival.Median(c)
		sc := survivalCurve{Label: g.label, reached: reached, Colour: curveColours[i%len(curveColours)], Dash: curveDashes[i%len(curveDashes)],
			N: c.Subjects, Ended: c.Events, Censored: c.Subjects - c.Events,
			Median: kmDays(l, m), CI: kmDays(l, lo) + " – " + kmDays(l, hi)}
		for _, st := range c.Steps {
			sc.Steps = append(sc.Steps, survivalStep{Days: int(st.Time), AtRisk: st.AtRisk, Events: st.Events, Censored: st.Censored,
				Survival: kmShare(l, st.Survival), Lower: kmShare(l, st.Lower), Upper: kmShare(l, st.Upper)})
		}
		chart.Curves = append(chart.Curves, sc)
	}
	chart.SVG = template.HTML(drawSurvival(l, id, heading, chart.Curves, curves))
	return chart
}

// kmDays writes a number of days (a median may fall half-way between two
// days); NaN is "not reached".
func kmDays(l *locale.Localizer, v float64) string {
	switch {
	case math.IsNaN(v):
		return l.T("survival.not_reached")
	case v == math.Trunc(v):
		return l.Number(int64(v))
	}
	return l.Decimal(v, 1)
}

// kmShare writes a share with three decimals; NaN (a curve at 0 has no
// interval) is a dash.
func kmShare(l *locale.Localizer, v float64) string {
	if math.IsNaN(v) {
		return l.T("survival.undefined")
	}
	return l.Decimal(v, 3)
}

// kmScale maps days and shares to the plot.
type kmScale struct{ maxDays float64 }

func (s kmScale) x(days float64) float64  { return kmLeft + days/s.maxDays*kmPlotW }
func (s kmScale) y(share float64) float64 { return kmTop + (1-share)*kmPlotH }

// drawSurvival writes a chart's SVG: axes, the median line, each curve
// as a step line with its censoring ticks, titled and described for
// screen readers (the tables under it hold the numbers).
func drawSurvival(l *locale.Localizer, id, heading string, shown []survivalCurve, curves []survival.Curve) string {
	sc := kmScale{maxDays: 1}
	for _, c := range curves {
		if n := len(c.Steps); n > 0 {
			sc.maxDays = max(sc.maxDays, c.Steps[n-1].Time)
		}
	}
	var b []byte
	b = append(b, `<svg xmlns="http://www.w3.org/2000/svg" class="km" role="img" viewBox="0 0 `...)
	b = strconv.AppendInt(b, kmWidth, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, kmHeight, 10)
	b = append(b, `" aria-labelledby="`+id+`-title `+id+`-desc"><title id="`+id+`-title">`...)
	b = escapeText(b, heading)
	b = append(b, `</title><desc id="`+id+`-desc">`...)
	var parts []string
	for _, c := range shown {
		if c.reached {
			parts = append(parts, l.T("survival.desc_median", "Label", c.Label, "Days", c.Median))
		} else {
			parts = append(parts, l.T("survival.desc_no_median", "Label", c.Label))
		}
	}
	b = escapeText(b, l.T("survival.desc", "Curves", strings.Join(parts, "; ")))
	b = append(b, `</desc>`...)

	// The share axis: 0, 25, 50, 75 and 100 %.
	for _, q := range []float64{0, 0.25, 0.5, 0.75, 1} {
		y := sc.y(q)
		b = kmLine(b, "grid", kmLeft, y, kmLeft+kmPlotW, y, "#d0d0d0", "")
		b = kmText(b, "share", kmLeft-6, y+4, "end", strconv.Itoa(int(q*100))+" %")
	}
	b = append(b, `<text class="axis-title" transform="translate(14 `...)
	b = strconv.AppendFloat(b, kmTop+kmPlotH/2, 'f', 0, 64)
	b = append(b, `) rotate(-90)" text-anchor="middle">`...)
	b = escapeText(b, l.T("survival.axis.share"))
	b = append(b, `</text>`...)
	// The time axis, in years when it spans two or more.
	title, ticks := kmTicks(l, sc.maxDays)
	for _, t := range ticks {
		x := sc.x(t.days)
		b = kmLine(b, "tick", x, kmTop+kmPlotH, x, kmTop+kmPlotH+5, "#1a1a1a", "")
		b = kmText(b, "time", x, kmTop+kmPlotH+20, "middle", t.label)
	}
	b = kmLine(b, "axis", kmLeft, kmTop+kmPlotH, kmLeft+kmPlotW, kmTop+kmPlotH, "#1a1a1a", "")
	b = kmLine(b, "axis", kmLeft, kmTop, kmLeft, kmTop+kmPlotH, "#1a1a1a", "")
	b = kmText(b, "axis-title", kmLeft+kmPlotW/2, kmHeight-12, "middle", title)
	// The median: where a curve crosses 50 %.
	b = kmLine(b, "median", kmLeft, sc.y(0.5), kmLeft+kmPlotW, sc.y(0.5), "#4a4a4a", "6 3")
	b = kmText(b, "median", kmLeft+kmPlotW-4, sc.y(0.5)-5, "end", l.T("survival.median"))

	for i, c := range curves {
		style := shown[i]
		b = append(b, `<g class="curve" stroke="`...)
		b = append(b, style.Colour...)
		b = append(b, `" fill="none" stroke-width="2"><path`...)
		if style.Dash != "" {
			b = append(b, ` stroke-dasharray="`...)
			b = append(b, style.Dash...)
			b = append(b, '"')
		}
		b = append(b, ` d="M`...)
		b = kmPoint(b, sc.x(0), sc.y(1))
		s := 1.0
		for _, st := range c.Steps {
			b = append(b, " H"...)
			b = strconv.AppendFloat(b, sc.x(st.Time), 'f', 2, 64)
			if st.Survival != s {
				s = st.Survival
				b = append(b, " V"...)
				b = strconv.AppendFloat(b, sc.y(s), 'f', 2, 64)
			}
		}
		b = append(b, `"/>`...)
		for _, st := range c.Steps {
			if st.Censored > 0 {
				x, y := sc.x(st.Time), sc.y(st.Survival)
				b = kmLine(b, "censored", x, y-5, x, y+5, "", "")
			}
		}
		b = append(b, `</g>`...)
	}
	return string(append(b, `</svg>`...))
}

type kmTick struct {
	days  float64
	label string
}

// kmTicks returns the time axis' title and ticks: whole years when the
// axis spans two or more, else days in steps of 30, 60, 90, 180 or 365.
func kmTicks(l *locale.Localizer, maxDays float64) (string, []kmTick) {
	const year = 365.25
	var ticks []kmTick
	if maxDays >= 2*year {
		step := math.Ceil(math.Floor(maxDays/year) / kmMaxTick)
		for y := 0.0; y*year <= maxDays; y += step {
			ticks = append(ticks, kmTick{y * year, l.T("survival.tick.years", "N", strconv.Itoa(int(y)))})
		}
		return l.T("survival.axis.years"), ticks
	}
	step := 365.0
	for _, s := range []float64{1, 7, 30, 60, 90, 180} {
		if maxDays/s <= kmMaxTick {
			step = s
			break
		}
	}
	for d := 0.0; d <= maxDays; d += step {
		ticks = append(ticks, kmTick{d, l.Number(int64(d))})
	}
	return l.T("survival.axis.days"), ticks
}

func kmPoint(b []byte, x, y float64) []byte {
	b = strconv.AppendFloat(b, x, 'f', 2, 64)
	b = append(b, ' ')
	return strconv.AppendFloat(b, y, 'f', 2, 64)
}

// kmLine writes a line; stroke and dash "" inherit the group's.
func kmLine(b []byte, class string, x1, y1, x2, y2 float64, stroke, dash string) []byte {
	b = append(b, `<line class="`+class+`" x1="`...)
	b = strconv.AppendFloat(b, x1, 'f', 2, 64)
	b = append(b, `" y1="`...)
	b = strconv.AppendFloat(b, y1, 'f', 2, 64)
	b = append(b, `" x2="`...)
	b = strconv.AppendFloat(b, x2, 'f', 2, 64)
	b = append(b, `" y2="`...)
	b = strconv.AppendFloat(b, y2, 'f', 2, 64)
	b = append(b, '"')
	if stroke != "" {
		b = append(b, ` stroke="`+stroke+`"`...)
	}
	if dash != "" {
		b = append(b, ` stroke-dasharray="`+dash+`"`...)
	}
	return append(b, `/>`...)
}

func kmText(b []byte, class string, x, y float64, anchor, s string) []byte {
	b = append(b, `<text class="`+class+`" x="`...)
	b = strconv.AppendFloat(b, x, 'f', 2, 64)
	b = append(b, `" y="`...)
	b = strconv.AppendFloat(b, y, 'f', 2, 64)
	b = append(b, `" text-anchor="`+anchor+`">`...)
	b = escapeText(b, s)
	return append(b, `</text>`...)
}
