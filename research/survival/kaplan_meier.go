// Package survival estimates survival curves: the Kaplan–Meier estimator
// with Greenwood's variance and the confidence intervals and median that
// R's survival package (survfit, conf.type = "log") reports, so numbers
// samspill shows equal those a researcher gets from the exported files.
// It is pure arithmetic on durations, with no knowledge of partnerships.
package survival

import (
	"math"
	"slices"
)

// z975 is the 97.5 % quantile of the standard normal distribution
// (R: qnorm(0.975)), for two-sided 95 % intervals.
const z975 = 1.959963984540054

// Step is the curve at one distinct observed time: an event time or a
// censoring time, as survfit lists them.
type Step struct {
	// Time is the duration at which something was observed.
	Time float64
	// AtRisk counts the subjects still observed just before Time
	// (duration ≥ Time).
	AtRisk int
	// Events and Censored count the subjects whose duration is Time,
	// with and without the event.
	Events, Censored int
	// Survival is the Kaplan–Meier estimate S(Time), the product of
	// (1 − events/at risk) over every step up to this one.
	Survival float64
	// StdErr is the standard error of Survival by Greenwood's formula,
	// S·sqrt(Σ d/(n(n−d))), as summary(survfit) prints it; NaN once the
	// curve has reached 0.
	StdErr float64
	// Lower and Upper bound the 95 % confidence interval on the log
	// scale (conf.type = "log"): exp(log S ± 1.96·sqrt(Σ d/(n(n−d)))),
	// the upper bound capped at 1; NaN once the curve has reached 0.
	Lower, Upper float64
}

// Curve is a Kaplan–Meier curve: its steps in increasing time, and how
// many subjects and events it was estimated from.
type Curve struct {
	Steps    []Step
	Subjects int
	Events   int
}

// KaplanMeier estimates the survival curve of subjects observed for
// times[i], ending with the event when events[i] and right-censored
// otherwise. At a time shared by events and censorings the events come
// first: the censored subjects still count as at risk at that time, as
// in survfit. times and events must have the same length (the shorter
// one bounds what is read); negative or NaN times are left out. The
// inputs are not modified.
func KaplanMeier(times []float64, events []bool) Curve {
	type obs struct {
		t     float64
		event bool
	}
	n := min(len(times), len(events))
	all := make([]obs, 0, n)
	for i := range n {
		if math.IsNaN(times[i]) || times[i] < 0 {
			continue
		}
		all = append(all, obs{times[i], events[i]})
	}
	slices.SortFunc(all, func(a, b obs) int {
		switch {
		case a.t < b.t:
			return -1
		case a.t > b.t:
			return 1
		}
		return 0
	})
	c := Curve{Subjects: len(all)}
	atRisk := len(all)
	s, greenwood := 1.0, 0.0
	for i := 0; i < len(all); {
		st := Step{Time: all[i].t, AtRisk: atRisk}
		for ; i < len(all) && all[i].t == st.Time; i++ {
			if all[i].event {
				st.Events++
			} else {
				st.Censored++
			}
		}
		if d, r := float64(st.Events), float64(atRisk); st.Events > 0 {
			s *= 1 - d/r
			if st.Events < atRisk {
				greenwood += d / (r * (r - d))
			} else {
				greenwood = math.Inf(1)
			}
		}
		st.Survival = s
		st.StdErr, st.Lower, st.Upper = math.NaN(), math.NaN(), math.NaN()
		if s > 0 {
			se := math.Sqrt(greenwood)
			st.StdErr = s * se
			st.Lower = math.Exp(math.Log(s) - z975*se)
			st.Upper = min(1, math.Exp(math.Log(s)+z975*se))
		}
		c.Events += st.Events
		atRisk -= st.Events + st.Censored
		c.Steps = append(c.Steps, st)
	}
	return c
}

// At returns S(t): the estimate of the last step at or before t, 1 before
// the first.
func (c Curve) At(t float64) float64 {
	s := 1.0
	for _, st := range c.Steps {
		if st.Time > t {
			break
		}
		s = st.Survival
	}
	return s
}
