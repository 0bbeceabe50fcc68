//go:build race

package main

// crashRace is true when the harness runs under the race detector: it
// then builds the server with -race too.
const crashRace = true
