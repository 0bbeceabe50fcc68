package main

import (
	"fmt"
	"io"
	"slices"
)

// results holds every measurement: events per second, by measureKey and
// round.
type results struct {
	rates map[string]map[int]float64
}

func newResults() *results { return &results{rates: map[string]map[int]float64{}} }

func (r *results) add(key string, round int, rate float64) {
	if r.rates[key] == nil {
		r.rates[key] = map[int]float64{}
	}
	r.rates[key][round] = rate
}

// spread is the min, median and max of values (which it sorts).
func spread(values []float64) (lo, mid, hi float64) {
	slices.Sort(values)
	n := len(values)
	if n%2 == 1 {
		mid = values[n/2]
	} else {
		mid = (values[n/2-1] + values[n/2]) / 2
	}
	return values[0], mid, values[n-1]
}

// print writes one Markdown table per backend: every workload and side
// with its rate over the rounds, and samspill's rate divided by that
// side's in the same round.
func (r *results) print(out io.Writer, c config, backends []backend) {
	fmt.Fprintf(out, "%d rounds; 1 writer: %d appends; %d writers: %d appends; scan and stream loads: %d streams × %d events, %d loads, ReadAll pages of %d\n\n",
		c.rounds, c.single, c.writers, c.concurrent, c.streams, c.perStream, c.loads, c.page)
	for _, b := range backends {
		fmt.Fprintf(out, "%s\n\n", b.name)
		fmt.Fprintln(out, "| workload | side | events/s: min | median | max | samspill ÷ side, same round: min | median | max |")
		fmt.Fprintln(out, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
		for _, w := range []string{workSingle, workMany, workScan, workLoads} {
			name := w
			if w == workMany {
				name = fmt.Sprintf("%d %s", c.writers, w)
			}
			ours := r.rates[measureKey(b.name, w, sideSamspill)]
			for _, side := range sides {
				rates := r.rates[measureKey(b.name, w, side)]
				if len(rates) == 0 {
					continue
				}
				var values, ratios []float64
				for round, v := range rates {
					values = append(values, v)
					if o, ok := ours[round]; ok && side != sideSamspill {
						ratios = append(ratios, o/v)
					}
				}
				lo, mid, hi := spread(values)
				fmt.Fprintf(out, "| %s | %s | %.0f | %.0f | %.0f |", name, side, lo, mid, hi)
				if len(ratios) == 0 {
					fmt.Fprintln(out, " | | |")
					continue
				}
				lo, mid, hi = spread(ratios)
				fmt.Fprintf(out, " %.2f× | %.2f× | %.2f× |\n", lo, mid, hi)
			}
		}
		fmt.Fprintln(out)
	}
}
