//go:build race

package kurrent

// raceEnabled reports whether the tests run with the race detector.
const raceEnabled = true
