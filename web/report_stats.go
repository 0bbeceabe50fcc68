package web

import (
	"math"
	"slices"
	"strconv"

	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/locale"
)

// The feedback report's figures from survey answers (report.go shows
// them). Small groups are suppressed where the figures are made, not in
// the template: an item with fewer than the minimum answers gets no
// counts, no percentages, no mean and no number of answers, and a wave
// with fewer completed responses than the minimum shows neither its count
// nor its response rate, so that no figure on the page subtracts to a
// hidden one. Free-text items are never read at all.

// DefaultReportMinAnswers is the smallest group a report shows figures
// for; the serve flag --report-min-answers changes it, never below
// MinReportMinAnswers.
const (
	DefaultReportMinAnswers = 5
	MinReportMinAnswers     = 3
)

// reportItem is one item's distribution in one wave as the report shows it.
type reportItem struct {
	ID, Text, Theme string
	Kind            string
	// Hidden is true when fewer than the minimum answered: the page says
	// so and shows nothing else of the item.
	Hidden bool
	// N is the number who answered (0 when Hidden).
	N    int
	Bars []reportBar
	// Mean is written for likert and number items ("" otherwise), Median
	// for number items; Scale names a likert item's points ("1–5").
	Mean, Median, Scale string
	// Multiple: the shares are of those who answered, and sum to more
	// than 100 %.
	Multiple bool
}

// reportBar is one answer category: its label, count and share, and the
// bar's length in the drawing (0–100).
type reportBar struct {
	Label   string
	Count   int
	Percent string
	Width   float64
}

// reportItemsOf counts the submitted responses' answers to every item of
// the questionnaire that is not free text, in the questionnaire's order,
// in the reader's language; minAnswers suppresses small groups.
func reportItemsOf(l *locale.Localizer, q survey.Questionnaire, responses []survey.Response, minAnswers int) []reportItem {
	lang := string(l.Lang())
	var out []reportItem
	for _, it := range q.Items() {
		if it.Kind == survey.KindText {
			continue // free text never appears in reports
		}
		var answers [][]string
		for _, r := range responses {
			if v := r.Answers[it.ID]; len(v) > 0 {
				answers = append(answers, v)
			}
		}
		ri := reportItem{ID: it.ID, Text: it.Text.In(lang), Theme: it.Theme, Kind: it.Kind}
		if len(answers) < minAnswers {
			ri.Hidden = true
			out = append(out, ri)
			continue
		}
		ri.N = len(answers)
		switch it.Kind {
		case survey.KindLikert:
			ri.Bars, ri.Mean, ri.Scale = likertBars(l, it, answers)
		case survey.KindSingle, survey.KindMultiple:
			ri.Bars = optionBars(l, it, answers)
			ri.Multiple = it.Kind == survey.KindMultiple
		case survey.KindNumber:
			ri.Bars, ri.Mean, ri.Median = numberBars(l, it, answers)
		default:
			continue // a kind the report does not know is left out, not guessed at
		}
		out = append(out, ri)
	}
	return out
}

// share writes count of n as a whole percentage and the bar's length.
func share(l *locale.Localizer, count, n int) (string, float64) {
	if n == 0 {
		return l.Decimal(0, 0) + " %", 0
	}
	p := 100 * float64(count) / float64(n)
	return l.Decimal(p, 0) + " %", math.Round(p*10) / 10
}

func bar(l *locale.Localizer, label string, count, n int) reportBar {
	pct, w := share(l, count, n)
	return reportBar{Label: label, Count: count, Percent: pct, Width: w}
}

// likertBars counts every point of the scale (zeros too, so the scale is
// whole) and the mean point.
func likertBars(l *locale.Localizer, it survey.Item, answers [][]string) ([]reportBar, string, string) {
	points := 5
	if it.Scale != nil && it.Scale.Points > 0 {
		points = it.Scale.Points
	}
	counts := make([]int, points+1)
	sum, n := 0, 0
	for _, a := range answers {
		if v, err := strconv.Atoi(a[0]); err == nil && v >= 1 && v <= points {
			counts[v]++
			sum += v
			n++
		}
	}
	bars := make([]reportBar, 0, points)
	for p := 1; p <= points; p++ {
		bars = append(bars, bar(l, likertLabel(l, it, p, points), counts[p], n))
	}
	mean := ""
	if n > 0 {
		mean = l.Decimal(float64(sum)/float64(n), 1)
	}
	return bars, mean, "1–" + strconv.Itoa(points)
}

// likertLabel names a point: "1 Helt uenig" where the scale labels it,
// the number alone where only the ends are labelled.
func likertLabel(l *locale.Localizer, it survey.Item, p, points int) string {
	label := strconv.Itoa(p)
	if it.Scale == nil {
		return label
	}
	lang := string(l.Lang())
	switch labels := it.Scale.Labels; {
	case len(labels) == points:
		return label + " " + labels[p-1].In(lang)
	case len(labels) == 2 && p == 1:
		return label + " " + labels[0].In(lang)
	case len(labels) == 2 && p == points:
		return label + " " + labels[1].In(lang)
	}
	return label
}

// optionBars counts every option (zeros too); a multiple item's shares
// are of those who answered it.
func optionBars(l *locale.Localizer, it survey.Item, answers [][]string) []reportBar {
	lang := string(l.Lang())
	counts := map[string]int{}
	for _, a := range answers {
		for _, code := range slices.Compact(slices.Sorted(slices.Values(a))) {
			counts[code]++
		}
	}
	bars := make([]reportBar, 0, len(it.Options))
	for _, o := range it.Options {
		bars = append(bars, bar(l, o.Label.In(lang), counts[o.Code], len(answers)))
	}
	return bars
}

// numberBars groups numbers in at most five ranges of a round width from
// the item's bounds (the answers' where it has none) and writes the mean
// and median. The ranges are the only trace of the extremes: the smallest
// and largest answers are never written.
func numberBars(l *locale.Localizer, it survey.Item, answers [][]string) ([]reportBar, string, string) {
	var vs []float64
	for _, a := range answers {
		if v, err := strconv.ParseFloat(a[0], 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return nil, "", ""
	}
	slices.Sort(vs)
	lo, hi := vs[0], vs[len(vs)-1]
	if it.Min != nil {
		lo = *it.Min
	}
	if it.Max != nil {
		hi = *it.Max
	}
	width := niceWidth((hi - lo) / 5)
	start := math.Floor(lo/width) * width
	// The last range ends at hi itself (a value of hi falls in it).
	bins := max(1, min(int(math.Ceil((hi-start)/width)), 10))
	counts := make([]int, bins)
	sum := 0.0
	for _, v := range vs {
		i := int(math.Floor((v - start) / width))
		counts[max(0, min(i, bins-1))]++
		sum += v
	}
	digits := 0
	if width < 1 {
		digits = int(math.Ceil(-math.Log10(width)))
	}
	bars := make([]reportBar, bins)
	for i := range bins {
		from, to := start+float64(i)*width, start+float64(i+1)*width
		last := i == bins-1
		if last {
			to = max(hi, from)
		}
		label := l.Decimal(from, digits) + "–" + l.Decimal(to, digits)
		if it.Integer && width >= 1 {
			if !last {
				to-- // whole numbers: 0–19, 20–39, ..., 80–100
			}
			label = l.Decimal(from, 0) + "–" + l.Decimal(to, 0)
			if to == from {
				label = l.Decimal(from, 0)
			}
		}
		bars[i] = bar(l, label, counts[i], len(vs))
	}
	median := vs[len(vs)/2]
	if len(vs)%2 == 0 {
		median = (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
	}
	return bars, l.Decimal(sum/float64(len(vs)), 1), l.Decimal(median, 1)
}

// niceWidth rounds a range's width up to 1, 2 or 5 times a power of ten.
func niceWidth(w float64) float64 {
	if w <= 0 || math.IsNaN(w) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(w)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= w {
			return m * p
		}
	}
	return 10 * p
}

// reportResponses keeps the submitted responses from the municipality
// (today's code: a response from before a merger counts for the merged
// municipality).
func reportResponses(responses []survey.Response, code string) []survey.Response {
	var out []survey.Response
	for _, r := range responses {
		if r.Submitted && string(kommune.Code(r.Municipality).Current()) == code {
			out = append(out, r)
		}
	}
	return out
}
