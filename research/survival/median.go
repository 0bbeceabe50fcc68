package survival

import "math"

// tolerance is R's sqrt(.Machine$double.eps): survival values this close
// to 0.5 count as equal to it.
const tolerance = 1.4901161193847656e-08

// Median returns the median survival time and its 95 % confidence limits
// as print(survfit(...)) reports them (columns median, 0.95LCL, 0.95UCL):
// the first time the curve is at or below 0.5 and, for the limits, the
// first time the lower and the upper confidence curve are. When the curve
// stays at exactly 0.5 over an interval, the median is the midpoint of
// that interval, as in R. A value that is not reached is NaN (R's NA);
// ok reports whether the median itself was reached.
func Median(c Curve) (median, lower, upper float64, ok bool) {
	pick := func(value func(Step) float64) float64 {
		var xs, ys []float64
		for _, st := range c.Steps {
			if y := value(st); !math.IsNaN(y) && y < 0.5+tolerance {
				xs, ys = append(xs, st.Time), append(ys, y)
			}
		}
		if len(xs) == 0 {
			return math.NaN()
		}
		if math.Abs(ys[0]-0.5) < tolerance {
			for k, y := range ys {
				if y < ys[0] {
					return (xs[0] + xs[k]) / 2
				}
			}
		}
		return xs[0]
	}
	median = pick(func(st Step) float64 { return st.Survival })
	lower = pick(func(st Step) float64 { return st.Lower })
	upper = pick(func(st Step) float64 { return st.Upper })
	return median, lower, upper, !math.IsNaN(median)
}
