// Package research makes the data sets researchers take away: the event
// log as NDJSON (every envelope, corrections included, personal data
// removed) and counting-process episodes as CSV for event-history analysis
// (docs/api.md, Research exports), both reproducible to the byte from a
// position; and it imports an events export into an empty store.
//
// Exports read the event store directly, up to a position fixed when they
// start, so the same request at the same position gives the same bytes
// whatever was appended since. They stream: memory does not grow with the
// size of the log.
package research
