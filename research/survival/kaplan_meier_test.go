package survival_test

import (
	"math"
	"testing"

	"github.com/samspill/samspill/research/survival"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(want) {
		if !math.IsNaN(got) {
			t.Errorf("%s = %v, want NaN (R's NA)", what, got)
		}
		return
	}
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.15g, want %.15g", what, got, want)
	}
}

// TestKaplanMeierByHand checks a curve small enough to compute on paper:
// durations 1, 2, 2+, 3 (+ censored). At 2 an event and a censoring tie:
// the event comes first, so 3 are at risk and S(2) = 3/4 · 2/3 = 1/2.
func TestKaplanMeierByHand(t *testing.T) {
	c := survival.KaplanMeier([]float64{2, 1, 3, 2}, []bool{false, true, true, true})
	if c.Subjects != 4 || c.Events != 3 || len(c.Steps) != 3 {
		t.Fatalf("curve = %+v, want 4 subjects, 3 events, 3 steps", c)
	}
	want := []survival.Step{
		{Time: 1, AtRisk: 4, Events: 1, Survival: 0.75},
		{Time: 2, AtRisk: 3, Events: 1, Censored: 1, Survival: 0.5},
		{Time: 3, AtRisk: 1, Events: 1, Survival: 0},
	}
	for i, w := range want {
		g := c.Steps[i]
		if g.Time != w.Time || g.AtRisk != w.AtRisk || g.Events != w.Events || g.Censored != w.Censored {
			t.Errorf("step %d = %+v, want %+v", i, g, w)
		}
		near(t, "survival", g.Survival, w.Survival, 1e-15)
	}
	// Greenwood at 1: Σ d/(n(n−d)) = 1/12; at 2: 1/12 + 1/6 = 1/4.
	near(t, "std.err(1)", c.Steps[0].StdErr, 0.75*math.Sqrt(1.0/12), 1e-15)
	near(t, "lower(1)", c.Steps[0].Lower, math.Exp(math.Log(0.75)-1.959963984540054*math.Sqrt(1.0/12)), 1e-15)
	near(t, "upper(1)", c.Steps[0].Upper, 1, 0)
	near(t, "std.err(2)", c.Steps[1].StdErr, 0.5*0.5, 1e-15)
	near(t, "lower(2)", c.Steps[1].Lower, 0.5*math.Exp(-1.959963984540054*0.5), 1e-15)
	// Once S is 0 the interval is undefined, as R's NA.
	near(t, "lower(3)", c.Steps[2].Lower, math.NaN(), 0)
	near(t, "std.err(3)", c.Steps[2].StdErr, math.NaN(), 0)

	// S stays exactly 0.5 from 2 to 3: the median is the midpoint 2.5.
	m, lo, hi, ok := survival.Median(c)
	if !ok {
		t.Fatal("median not reached")
	}
	near(t, "median", m, 2.5, 0)
	near(t, "median lower", lo, 1, 0)
	near(t, "median upper", hi, math.NaN(), 0)
	near(t, "S(2.9)", c.At(2.9), 0.5, 0)
	near(t, "S(0.5)", c.At(0.5), 1, 0)
}

// TestKaplanMeierAML checks the textbook acute myelogenous leukaemia data
// of R's survival package (aml, both arms together) against the numbers
// of summary(survfit(Surv(time, status) ~ 1, data = aml), censored = TRUE)
// and print(...) from survival 3.5.
func TestKaplanMeierAML(t *testing.T) {
	times := []float64{9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45}
	status := []int{1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1}
	events := make([]bool, len(status))
	for i, s := range status {
		events[i] = s == 1
	}
	want := []struct {
		time                float64
		risk, event, censor int
		surv, se, lo, hi    float64
	}{
		{5, 23, 2, 0, 0.913043478260870, 0.0587533847558414, 0.8048547977829578, 1},
		{8, 21, 2, 0, 0.826086956521739, 0.0790341964475118, 0.6848394680718987, 0.996466605022982},
		{9, 19, 1, 0, 0.782608695652174, 0.0860061487037983, 0.6309579105995876, 0.970708759207681},
		{12, 18, 1, 0, 0.739130434782609, 0.0915605371517001, 0.5797992179680311, 0.942246527231519},
		{13, 17, 1, 1, 0.695652173913043, 0.0959438755421514, 0.5308783416282121, 0.911568450100481},
		{16, 15, 0, 1, 0.695652173913043, 0.0959438755421514, 0.5308783416282121, 0.911568450100481},
		{18, 14, 1, 0, 0.645962732919255, 0.1011426751752846, 0.4752577247055145, 0.877982262316863},
		{23, 13, 2, 0, 0.546583850931677, 0.1072506417401223, 0.3720780872492112, 0.802933352802370},
		{27, 11, 1, 0, 0.496894409937888, 0.1084017807886830, 0.3240165456898159, 0.762010637765041},
		{28, 10, 0, 1, 0.496894409937888, 0.1084017807886830, 0.3240165456898159, 0.762010637765041},
		{30, 9, 1, 0, 0.441683919944790, 0.1095180699776571, 0.2716759953922916, 0.718078477474975},
		{31, 8, 1, 0, 0.386473429951691, 0.1088588014948644, 0.2225152977468858, 0.671242442973631},
		{33, 7, 1, 0, 0.331262939958592, 0.1063909728875506, 0.1765201825807047, 0.621657726531294},
		{34, 6, 1, 0, 0.276052449965493, 0.1019833760904919, 0.1338221956292728, 0.569449296311515},
		{43, 5, 1, 0, 0.220841959972395, 0.0953674384864344, 0.0947332405633126, 0.514826379784336},
		{45, 4, 1, 1, 0.165631469979296, 0.0860352084085751, 0.0598407178100809, 0.458446770885507},
		{48, 2, 1, 0, 0.082815734989648, 0.0726618005035283, 0.0148346082548472, 0.462327406565294},
		{161, 1, 0, 1, 0.082815734989648, 0.0726618005035283, 0.0148346082548472, 0.462327406565294},
	}
	c := survival.KaplanMeier(times, events)
	if len(c.Steps) != len(want) || c.Subjects != 23 || c.Events != 18 {
		t.Fatalf("%d steps, %d subjects, %d events; want %d, 23, 18", len(c.Steps), c.Subjects, c.Events, len(want))
	}
	for i, w := range want {
		g := c.Steps[i]
		if g.Time != w.time || g.AtRisk != w.risk || g.Events != w.event || g.Censored != w.censor {
			t.Errorf("step %d = %+v, want time %v risk %d events %d censored %d", i, g, w.time, w.risk, w.event, w.censor)
		}
		near(t, "surv", g.Survival, w.surv, 1e-14)
		near(t, "std.err", g.StdErr, w.se, 1e-14)
		near(t, "lower", g.Lower, w.lo, 1e-14)
		near(t, "upper", g.Upper, w.hi, 1e-14)
	}
	// print(survfit): median 27, 0.95LCL 18, 0.95UCL 45.
	m, lo, hi, ok := survival.Median(c)
	if !ok || m != 27 || lo != 18 || hi != 45 {
		t.Errorf("median = %v [%v, %v] (%v), want 27 [18, 45]", m, lo, hi, ok)
	}
}

// TestMedianNotReached: a curve that stays above 0.5 has no median (NA),
// and an empty one has no steps.
func TestMedianNotReached(t *testing.T) {
	c := survival.KaplanMeier([]float64{1, 2, 3, 4}, []bool{true, false, false, false})
	if _, _, _, ok := survival.Median(c); ok {
		t.Error("median reached on a curve at 0.75")
	}
	empty := survival.KaplanMeier(nil, nil)
	if len(empty.Steps) != 0 || empty.Subjects != 0 {
		t.Errorf("empty curve = %+v", empty)
	}
	if m, _, _, ok := survival.Median(empty); ok || !math.IsNaN(m) {
		t.Errorf("median of nothing = %v, %v", m, ok)
	}
	// Negative and NaN durations are not observations.
	c = survival.KaplanMeier([]float64{-1, math.NaN(), 2}, []bool{true, true, true})
	if c.Subjects != 1 || c.Steps[0].Survival != 0 {
		t.Errorf("bad durations counted: %+v", c)
	}
}
