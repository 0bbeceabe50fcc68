// Package partnership is the aggregate samspill keeps: one collaboration
// between a municipality and its partners from the voluntary sector (and
// others), recorded as a stream of events (docs/events.md). It is pure
// domain code: no I/O, no frameworks, time and ids injected (Env).
//
//   - Events: the fourteen event types (PartnershipInitiated,
//     PartnerJoined, ..., EntryCorrected), their stored type names as
//     explicit constants, their validation, and the one decoder table
//     (Decode, Encode) that reads stored payloads back.
//   - Decide, then apply: Decide judges a Command against a History and
//     the rules and returns the new event (a Decision) or why it is
//     refused (a *RuleError wrapping a sentinel such as ErrEnded, or a
//     *ValidationError naming the fields); state changes only by applying
//     events, in State's one apply switch.
//   - History and replay: Replay folds a stored history into a State in the
//     order things occurred, with EntryCorrected applied from when it was
//     recorded; Steps walks that replay event by event, and Effective and
//     Corrections say which events are in force.
//   - Bitemporal views: a View bounds a replay by when events occurred
//     (AsOf) and when they were recorded (KnownAt), so a partnership can be
//     read as it was on a date and as it was known at a time.
//   - Rules: the states that refuse a command (not found, ended, paused,
//     a partner not active, the last external partner leaving, ...) are
//     checked on the history as it would be with the new event, so a
//     late-logged event can neither break a rule at its own date nor
//     invalidate what was recorded after it.
//
// The closed vocabularies (service areas, collaboration models, roles,
// ...) are the lists of docs/events.md; municipality codes and
// organisation numbers come from the domain packages kommune and orgnr.
package partnership
