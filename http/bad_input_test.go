package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// badCase is one invalid request to an endpoint.
type badCase struct {
	name string
	// body returns what to send: an obj (as JSON) or a string (as is).
	body    func(e endpoint, fx fixture) any
	headers []string
	// path overrides the endpoint's path.
	path   func(e endpoint, fx fixture) string
	status int
	typ    string
	// field is the errors[].field that must name the offending field; with
	// prefix, a field inside it also counts (partner → partner.name).
	field  string
	prefix bool
	// fresh runs the case on a partnership of its own (for cases that
	// would disturb the others if the server wrongly accepted them).
	fresh bool
}

func (c badCase) run(t *testing.T, a *testAPI, e endpoint, fx fixture) {
	t.Helper()
	if c.fresh {
		fx = e.setup(a)
	}
	path := e.path(fx)
	if c.path != nil {
		path = c.path(e, fx)
	}
	before := a.head()
	r := a.do(e.method, path, c.body(e, fx), c.headers...)
	var failures []string
	fail := func(format string, args ...any) { failures = append(failures, fmt.Sprintf(format, args...)) }
	if after := a.head(); after != before {
		fail("store head moved from %d to %d: a refused command wrote events", before, after)
	}
	var p problem
	switch {
	case r.Status != c.status:
		fail("status = %d, want %d; body: %s", r.Status, c.status, r.Body)
	case json.Unmarshal(r.Body, &p) != nil:
		fail("body is not a problem: %s", r.Body)
	default:
		p = wantProblem(t, r, c.status, c.typ)
		if c.field != "" && !p.hasField(c.field, c.prefix) {
			fail("errors %q do not name %q; body: %s", p.fields(), c.field, r.Body)
		}
	}
	if len(failures) == 0 {
		return
	}
	for _, f := range failures {
		t.Error(f)
	}
}

// Builders of bodies.

func raw(s string) func(endpoint, fixture) any {
	return func(endpoint, fixture) any { return s }
}

func valid(e endpoint, fx fixture) any { return e.body(fx) }

// set returns the endpoint's valid body with key set to v (or removed).
func set(key string, v any) func(endpoint, fixture) any {
	return func(e endpoint, fx fixture) any { return with(e.body(fx), key, v) }
}

// setAll applies several changes.
func setAll(kv ...any) func(endpoint, fixture) any {
	return func(e endpoint, fx fixture) any {
		b := e.body(fx)
		for i := 0; i < len(kv); i += 2 {
			b = with(b, kv[i].(string), kv[i+1])
		}
		return b
	}
}

// setIn changes key inside the object at outer (outer may be "partners[1]"
// style only through a func; this handles plain nested objects).
func setIn(outer, key string, v any) func(endpoint, fixture) any {
	return func(e endpoint, fx fixture) any {
		b := e.body(fx)
		return with(b, outer, with(b[outer].(obj), key, v))
	}
}

// setElem changes key of element i of the array of objects at outer.
func setElem(outer string, i int, key string, v any) func(endpoint, fixture) any {
	return func(e endpoint, fx fixture) any {
		b := e.body(fx)
		list := deepCopy(b[outer]).([]any)
		list[i] = with(list[i].(obj), key, v)
		return with(b, outer, list)
	}
}

func repeat(s string, n int) string { return strings.Repeat(s, n) }

// goalList returns n distinct goals.
func goalList(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = "Mål " + strings.Repeat("x", i+1)
	}
	return out
}

// upperFirstKey renames the body's first key (in sorted order) to upper
// case.
func upperFirstKey(e endpoint, fx fixture) any {
	b := e.body(fx)
	keys := make([]string, 0, len(b))
	for k := range b {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	v := b[keys[0]]
	return with(with(b, keys[0], remove), strings.ToUpper(keys[0]), v)
}

func firstKeyUpper(e endpoint) string {
	b := e.body(fixture{})
	keys := make([]string, 0, len(b))
	for k := range b {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.ToUpper(keys[0])
}

// genericCases apply to every command endpoint.
func genericCases(e endpoint) []badCase {
	bad := http.StatusBadRequest
	cases := []badCase{
		{name: "malformed JSON", body: raw(`{"reason": `), status: bad, typ: typeValidation},
		{name: "malformed JSON token", body: raw(`{"reason": nope}`), status: bad, typ: typeValidation},
		{name: "empty body", body: raw(``), status: bad, typ: typeValidation},
		{name: "blank body", body: raw(" \n\t"), status: bad, typ: typeValidation},
		{name: "array body", body: raw(`[]`), status: bad, typ: typeValidation},
		{name: "string body", body: raw(`"reason"`), status: bad, typ: typeValidation},
		{name: "null body", body: raw(`null`), status: bad, typ: typeValidation},
		{name: "empty object", body: raw(`{}`), status: bad, typ: typeValidation},
		{name: "trailing data", body: func(e endpoint, fx fixture) any {
			b, _ := json.Marshal(e.body(fx))
			return string(b) + ` {}`
		}, status: bad, typ: typeValidation},
		{name: "unknown field", body: set("bogus", 1), status: bad, typ: typeValidation, field: "bogus"},
		{name: "field name in another case", body: upperFirstKey, status: bad, typ: typeValidation, field: firstKeyUpper(e), fresh: true},
		{name: "occurred_at malformed", body: set("occurred_at", "yesterday"), status: bad, typ: typeValidation, field: "occurred_at"},
		{name: "occurred_at impossible date", body: set("occurred_at", "2024-02-30"), status: bad, typ: typeValidation, field: "occurred_at"},
		{name: "occurred_at without zone", body: set("occurred_at", "2024-04-01T10:00:00"), status: bad, typ: typeValidation, field: "occurred_at"},
		{name: "occurred_at wrong type", body: set("occurred_at", 20240401), status: bad, typ: typeValidation, field: "occurred_at"},
		{name: "occurred_at over 24 h ahead", body: set("occurred_at", "2024-06-02T10:00:01Z"), status: bad, typ: typeValidation, field: "occurred_at"},
		{name: "occurred_at far ahead", body: set("occurred_at", "2030-01-01"), status: bad, typ: typeValidation, field: "occurred_at"},
		{name: "stale If-Match", body: valid, headers: []string{"If-Match", `"99"`}, status: http.StatusPreconditionFailed, typ: typePrecondition},
		{name: "malformed If-Match", body: valid, headers: []string{"If-Match", `abc`}, status: bad, typ: typeValidation},
		{name: "unterminated If-Match", body: valid, headers: []string{"If-Match", `"1`}, status: bad, typ: typeValidation},
		{name: "negative If-Match", body: valid, headers: []string{"If-Match", `"-1"`}, status: bad, typ: typeValidation},
		{name: "Idempotency-Key over 128 characters", body: valid, headers: []string{"Idempotency-Key", repeat("k", 129)}, status: bad, typ: typeValidation},
		{name: "Idempotency-Key with a space", body: valid, headers: []string{"Idempotency-Key", "a key"}, status: bad, typ: typeValidation},
		{name: "body over 1 MiB", body: func(e endpoint, fx fixture) any {
			b, _ := json.Marshal(e.body(fx))
			return string(b[:len(b)-1]) + `,"padding":"` + repeat("x", maxBody) + `"}`
		}, status: http.StatusRequestEntityTooLarge, typ: typeTooLarge},
		{name: "body over 1 MiB of whitespace", body: func(e endpoint, fx fixture) any {
			b, _ := json.Marshal(e.body(fx))
			return string(b) + repeat(" ", maxBody)
		}, status: http.StatusRequestEntityTooLarge, typ: typeTooLarge},
	}
	if e.name != "initiate" {
		cases = append(cases,
			badCase{name: "occurred_at before initiation", body: set("occurred_at", "2024-02-29T22:59:59Z"), status: bad, typ: typeValidation, field: "occurred_at"},
			badCase{name: "occurred_at date before initiation", body: set("occurred_at", "2024-02-29"), status: bad, typ: typeValidation, field: "occurred_at"},
			badCase{name: "unknown id", body: valid, path: func(e endpoint, _ fixture) string { return e.pathFor(uuid.NewString()) }, status: http.StatusNotFound, typ: typeNotFound},
			badCase{name: "unknown id with If-Match", body: valid, headers: []string{"If-Match", `"1"`}, path: func(e endpoint, _ fixture) string { return e.pathFor(uuid.NewString()) }, status: http.StatusPreconditionFailed, typ: typePrecondition},
			badCase{name: "non-UUID id", body: valid, path: func(e endpoint, _ fixture) string { return e.pathFor("not-a-uuid") }, status: http.StatusNotFound, typ: typeNotFound},
			badCase{name: "upper-case UUID", body: valid, path: func(e endpoint, fx fixture) string { return e.pathFor(strings.ToUpper(fx.p.ID)) }, status: http.StatusNotFound, typ: typeNotFound},
			badCase{name: "UUID with braces", body: valid, path: func(e endpoint, fx fixture) string { return e.pathFor("{" + fx.p.ID + "}") }, status: http.StatusNotFound, typ: typeNotFound},
		)
	} else {
		cases = append(cases,
			badCase{name: "If-Match on a new partnership", body: valid, headers: []string{"If-Match", `"1"`}, status: http.StatusPreconditionFailed, typ: typePrecondition},
		)
	}
	return cases
}

// specificCases break one field of one endpoint's body.
func specificCases(e endpoint) []badCase {
	bad := http.StatusBadRequest
	v := typeValidation
	text2001 := repeat("å", 2001)
	switch e.name {
	case "initiate":
		partners := func(ps ...any) func(endpoint, fixture) any { return set("partners", ps) }
		kommune := obj{"partner_id": "kommune", "name": "Bydel Gamle Oslo", "kind": "municipal_unit"}
		return []badCase{
			{name: "municipality unknown 9999", body: set("municipality", "9999"), status: bad, typ: v, field: "municipality"},
			{name: "municipality unknown 0000", body: set("municipality", "0000"), status: bad, typ: v, field: "municipality"},
			{name: "municipality malformed 12a4", body: set("municipality", "12a4"), status: bad, typ: v, field: "municipality"},
			{name: "municipality with 3 digits", body: set("municipality", "301"), status: bad, typ: v, field: "municipality"},
			{name: "municipality with spaces", body: set("municipality", " 0301"), status: bad, typ: v, field: "municipality"},
			{name: "municipality empty", body: set("municipality", ""), status: bad, typ: v, field: "municipality"},
			{name: "municipality as a number", body: set("municipality", 301), status: bad, typ: v, field: "municipality"},
			{name: "1702 after it ceased (2021)", body: setAll("municipality", "1702", "occurred_at", "2021-01-01"), status: bad, typ: v, field: "municipality"},
			{name: "5006 before it existed (2016)", body: setAll("municipality", "5006", "occurred_at", "2016-01-01"), status: bad, typ: v, field: "municipality"},
			{name: "0906 Arendal after 2020", body: setAll("municipality", "0906", "occurred_at", "2020-01-01"), status: bad, typ: v, field: "municipality"},
			{name: "title empty", body: set("title", ""), status: bad, typ: v, field: "title"},
			{name: "title blank", body: set("title", "   "), status: bad, typ: v, field: "title"},
			{name: "title missing", body: set("title", remove), status: bad, typ: v, field: "title"},
			{name: "title of 201 characters", body: set("title", repeat("ø", 201)), status: bad, typ: v, field: "title"},
			{name: "title as a number", body: set("title", 42), status: bad, typ: v, field: "title"},
			{name: "description of 10001 characters", body: set("description", repeat("d", 10001)), status: bad, typ: v, field: "description"},
			{name: "service_area outside the vocabulary", body: set("service_area", "sport"), status: bad, typ: v, field: "service_area"},
			{name: "service_area in another case", body: set("service_area", "Culture"), status: bad, typ: v, field: "service_area"},
			{name: "service_area empty", body: set("service_area", ""), status: bad, typ: v, field: "service_area"},
			{name: "collaboration_model outside the vocabulary", body: set("collaboration_model", "samstyring"), status: bad, typ: v, field: "collaboration_model"},
			{name: "collaboration_model as an array", body: set("collaboration_model", []any{"grant"}), status: bad, typ: v, field: "collaboration_model"},
			{name: "partners empty", body: partners(), status: bad, typ: v, field: "partners"},
			{name: "partners missing", body: set("partners", remove), status: bad, typ: v, field: "partners"},
			{name: "partners as an object", body: set("partners", obj{}), status: bad, typ: v, field: "partners"},
			{name: "partner as a string", body: partners("Tøyen IL"), status: bad, typ: v, field: "partners", prefix: true},
			{name: "only municipal partners", body: partners(kommune), status: bad, typ: v, field: "partners"},
			{name: "partner kind outside the vocabulary", body: setElem("partners", 1, "kind", "ngo"), status: bad, typ: v, field: "partners[1].kind"},
			{name: "partner org_no with a bad check digit", body: setElem("partners", 1, "org_no", "123456786"), status: bad, typ: v, field: "partners[1].org_no"},
			{name: "partner org_no with 8 digits", body: setElem("partners", 1, "org_no", "97476067"), status: bad, typ: v, field: "partners[1].org_no"},
			{name: "partner org_no with letters", body: setElem("partners", 1, "org_no", "97476067X"), status: bad, typ: v, field: "partners[1].org_no"},
			{name: "partner org_no as a number", body: setElem("partners", 1, "org_no", 974760673), status: bad, typ: v, field: "partners", prefix: true},
			{name: "partner name empty", body: setElem("partners", 0, "name", ""), status: bad, typ: v, field: "partners[0].name"},
			{name: "partner name of 201 characters", body: setElem("partners", 0, "name", repeat("n", 201)), status: bad, typ: v, field: "partners[0].name"},
			{name: "partner unknown field", body: setElem("partners", 0, "bogus", true), status: bad, typ: v, field: "partners", prefix: true},
			{name: "same partner_id twice", body: setElem("partners", 1, "partner_id", "kommune"), status: bad, typ: v, field: "partners[1].partner_id"},
			{name: "same org_no twice", body: partners(
				obj{"name": "Lag A", "kind": "voluntary_organisation", "org_no": orgLag},
				obj{"name": "Lag B", "kind": "voluntary_organisation", "org_no": orgLag},
			), status: bad, typ: v, field: "partners[1].org_no"},
			{name: "51 partners", body: func(endpoint, fixture) any {
				ps := make([]any, 51)
				for i := range ps {
					ps[i] = obj{"name": "Lag", "kind": "other"}
				}
				return with(initiateBody(), "partners", ps)
			}, status: bad, typ: v, field: "partners"},
			{name: "goals empty", body: set("goals", []any{}), status: bad, typ: v, field: "goals"},
			{name: "goals missing", body: set("goals", remove), status: bad, typ: v, field: "goals"},
			{name: "21 goals", body: set("goals", goalList(21)), status: bad, typ: v, field: "goals"},
			{name: "goal of 501 characters", body: set("goals", []any{repeat("g", 501)}), status: bad, typ: v, field: "goals[0]"},
			{name: "goal empty", body: set("goals", []any{"Mål", ""}), status: bad, typ: v, field: "goals[1]"},
			{name: "goal twice", body: set("goals", []any{"Mål", "Mål"}), status: bad, typ: v, field: "goals[1]"},
			{name: "goals as an object", body: set("goals", obj{"a": "b"}), status: bad, typ: v, field: "goals"},
			{name: "goals as a string", body: set("goals", "Flere møteplasser"), status: bad, typ: v, field: "goals"},
			{name: "goal as a number", body: set("goals", []any{1}), status: bad, typ: v, field: "goals", prefix: true},
			{name: "partnership_id supplied", body: set("partnership_id", uuid.NewString()), status: bad, typ: v, field: "partnership_id"},
		}
	case "join":
		return []badCase{
			{name: "partner missing", body: set("partner", remove), status: bad, typ: v, field: "partner", prefix: true},
			{name: "partner kind outside the vocabulary", body: setIn("partner", "kind", "ngo"), status: bad, typ: v, field: "partner.kind"},
			{name: "partner kind missing", body: setIn("partner", "kind", remove), status: bad, typ: v, field: "partner.kind"},
			{name: "partner org_no 123456786", body: setIn("partner", "org_no", "123456786"), status: bad, typ: v, field: "partner.org_no"},
			{name: "partner org_no with a double space", body: setIn("partner", "org_no", "923  609 016"), status: bad, typ: v, field: "partner.org_no"},
			{name: "partner name empty", body: setIn("partner", "name", ""), status: bad, typ: v, field: "partner.name"},
			{name: "partner name of 201 characters", body: setIn("partner", "name", repeat("n", 201)), status: bad, typ: v, field: "partner.name"},
			{name: "partner as a string", body: set("partner", "Tøyen IL"), status: bad, typ: v, field: "partner"},
			{name: "partner kind as a number", body: setIn("partner", "kind", 3), status: bad, typ: v, field: "partner.kind"},
			{name: "partner unknown field", body: setIn("partner", "bogus", 1), status: bad, typ: v, field: "partner.bogus"},
			{name: "partner fields at top level", body: setAll("partner", remove, "name", "Tøyen IL", "kind", "other"), status: bad, typ: v, field: "kind"},
		}
	case "leave":
		return []badCase{
			{name: "reason empty", body: set("reason", ""), status: bad, typ: v, field: "reason"},
			{name: "reason missing", body: set("reason", remove), status: bad, typ: v, field: "reason"},
			{name: "reason of 2001 characters", body: set("reason", text2001), status: bad, typ: v, field: "reason"},
			{name: "reason as a number", body: set("reason", 5), status: bad, typ: v, field: "reason"},
			{name: "partner_id in the body", body: set("partner_id", "kommune"), status: bad, typ: v, field: "partner_id"},
		}
	case "roles":
		return []badCase{
			{name: "roles empty", body: set("roles", []any{}), status: bad, typ: v, field: "roles"},
			{name: "roles missing", body: set("roles", remove), status: bad, typ: v, field: "roles"},
			{name: "role outside the vocabulary", body: setElem("roles", 0, "role", "boss"), status: bad, typ: v, field: "roles[0].role"},
			{name: "role partner_id empty", body: setElem("roles", 1, "partner_id", ""), status: bad, typ: v, field: "roles[1].partner_id"},
			{name: "21 responsibilities", body: setElem("roles", 0, "responsibilities", goalList(21)), status: bad, typ: v, field: "roles[0].responsibilities"},
			{name: "responsibility empty", body: setElem("roles", 0, "responsibilities", []any{""}), status: bad, typ: v, field: "roles[0].responsibilities[0]"},
			{name: "responsibility of 501 characters", body: setElem("roles", 0, "responsibilities", []any{repeat("r", 501)}), status: bad, typ: v, field: "roles[0].responsibilities[0]"},
			{name: "same role twice", body: set("roles", []any{obj{"partner_id": "lag", "role": "lead"}, obj{"partner_id": "lag", "role": "lead"}}), status: bad, typ: v, field: "roles[1].role"},
			{name: "roles as an object", body: set("roles", obj{}), status: bad, typ: v, field: "roles"},
		}
	case "goals":
		return []badCase{
			{name: "goals empty", body: set("goals", []any{}), status: bad, typ: v, field: "goals"},
			{name: "goals missing", body: set("goals", remove), status: bad, typ: v, field: "goals"},
			{name: "21 goals", body: set("goals", goalList(21)), status: bad, typ: v, field: "goals"},
			{name: "goal of 501 characters", body: set("goals", []any{"Mål", repeat("g", 501)}), status: bad, typ: v, field: "goals[1]"},
			{name: "goal blank", body: set("goals", []any{" "}), status: bad, typ: v, field: "goals[0]"},
			{name: "goal twice", body: set("goals", []any{"Mål", "Mål"}), status: bad, typ: v, field: "goals[1]"},
			{name: "goals as an object", body: set("goals", obj{}), status: bad, typ: v, field: "goals"},
			{name: "reason empty", body: set("reason", ""), status: bad, typ: v, field: "reason"},
			{name: "reason of 2001 characters", body: set("reason", text2001), status: bad, typ: v, field: "reason"},
		}
	case "agreements":
		return []badCase{
			{name: "agreement_type outside the vocabulary", body: set("agreement_type", "contract"), status: bad, typ: v, field: "agreement_type"},
			{name: "agreement_type missing", body: set("agreement_type", remove), status: bad, typ: v, field: "agreement_type"},
			{name: "valid_from empty", body: set("valid_from", ""), status: bad, typ: v, field: "valid_from"},
			{name: "valid_from Norwegian format", body: set("valid_from", "01.04.2024"), status: bad, typ: v, field: "valid_from"},
			{name: "valid_from a timestamp", body: set("valid_from", "2024-04-01T00:00:00Z"), status: bad, typ: v, field: "valid_from"},
			{name: "valid_until before valid_from", body: set("valid_until", "2024-03-31"), status: bad, typ: v, field: "valid_until"},
			{name: "valid_until malformed", body: set("valid_until", "2025-02-30"), status: bad, typ: v, field: "valid_until"},
			{name: "reference of 201 characters", body: set("reference", repeat("r", 201)), status: bad, typ: v, field: "reference"},
			{name: "valid_from as a number", body: set("valid_from", 20240401), status: bad, typ: v, field: "valid_from"},
		}
	case "funding":
		return []badCase{
			{name: "amount_nok as a string", body: set("amount_nok", "150000"), status: bad, typ: v, field: "amount_nok"},
			{name: "amount_nok with øre", body: set("amount_nok", 1500.5), status: bad, typ: v, field: "amount_nok"},
			{name: "amount_nok beyond int64", body: raw(`{"amount_nok": 1e30, "source": "x", "period_from": "2024-01-01", "period_until": "2024-12-31"}`), status: bad, typ: v, field: "amount_nok"},
			{name: "amount_nok zero", body: set("amount_nok", 0), status: bad, typ: v, field: "amount_nok"},
			{name: "amount_nok negative", body: set("amount_nok", -5), status: bad, typ: v, field: "amount_nok"},
			{name: "amount_nok missing", body: set("amount_nok", remove), status: bad, typ: v, field: "amount_nok"},
			{name: "source empty", body: set("source", ""), status: bad, typ: v, field: "source"},
			{name: "source of 201 characters", body: set("source", repeat("s", 201)), status: bad, typ: v, field: "source"},
			{name: "period_from malformed", body: set("period_from", "2024-1-1"), status: bad, typ: v, field: "period_from"},
			{name: "period_until missing", body: set("period_until", remove), status: bad, typ: v, field: "period_until"},
			{name: "period_until before period_from", body: set("period_until", "2023-12-31"), status: bad, typ: v, field: "period_until"},
		}
	case "anchoring":
		return []badCase{
			{name: "level outside the vocabulary", body: set("level", "high"), status: bad, typ: v, field: "level"},
			{name: "level missing", body: set("level", remove), status: bad, typ: v, field: "level"},
			{name: "level as a number", body: set("level", 1), status: bad, typ: v, field: "level"},
			{name: "note of 2001 characters", body: set("note", text2001), status: bad, typ: v, field: "note"},
		}
	case "collaboration-model":
		return []badCase{
			{name: "model outside the vocabulary", body: set("collaboration_model", "samstyring"), status: bad, typ: v, field: "collaboration_model"},
			{name: "model missing", body: set("collaboration_model", remove), status: bad, typ: v, field: "collaboration_model"},
			{name: "model as a number", body: set("collaboration_model", 1), status: bad, typ: v, field: "collaboration_model"},
			{name: "reason missing", body: set("reason", remove), status: bad, typ: v, field: "reason"},
			{name: "reason blank", body: set("reason", "   "), status: bad, typ: v, field: "reason"},
			{name: "reason of 2001 characters", body: set("reason", text2001), status: bad, typ: v, field: "reason"},
		}
	case "milestones":
		return []badCase{
			{name: "kind outside the vocabulary", body: set("kind", "party"), status: bad, typ: v, field: "kind"},
			{name: "title empty", body: set("title", ""), status: bad, typ: v, field: "title"},
			{name: "title of 201 characters", body: set("title", repeat("t", 201)), status: bad, typ: v, field: "title"},
			{name: "note of 2001 characters", body: set("note", text2001), status: bad, typ: v, field: "note"},
			{name: "note as an object", body: set("note", obj{}), status: bad, typ: v, field: "note"},
		}
	case "contacts":
		return []badCase{
			{name: "partner_id empty", body: set("partner_id", ""), status: bad, typ: v, field: "partner_id"},
			{name: "partner_id as a number", body: set("partner_id", 1), status: bad, typ: v, field: "partner_id"},
			{name: "name empty", body: set("name", ""), status: bad, typ: v, field: "name"},
			{name: "name of 201 characters", body: set("name", repeat("n", 201)), status: bad, typ: v, field: "name"},
			{name: "email malformed", body: set("email", "kari.example.no"), status: bad, typ: v, field: "email"},
			{name: "email with a display name", body: set("email", "Kari <kari@example.no>"), status: bad, typ: v, field: "email"},
			{name: "phone with letters", body: set("phone", "ring meg"), status: bad, typ: v, field: "phone"},
			{name: "phone of 33 characters", body: set("phone", repeat("9", 33)), status: bad, typ: v, field: "phone"},
			{name: "neither email nor phone", body: setAll("email", remove, "phone", remove), status: bad, typ: v, field: "email"},
			{name: "contact_id supplied", body: set("contact_id", uuid.NewString()), status: bad, typ: v, field: "contact_id"},
		}
	case "pause", "resume":
		return []badCase{
			{name: "reason empty", body: set("reason", ""), status: bad, typ: v, field: "reason"},
			{name: "reason missing", body: set("reason", remove), status: bad, typ: v, field: "reason"},
			{name: "reason of 2001 characters", body: set("reason", text2001), status: bad, typ: v, field: "reason"},
			{name: "reason as an object", body: set("reason", obj{}), status: bad, typ: v, field: "reason"},
		}
	case "end":
		return []badCase{
			{name: "reason outside the vocabulary", body: set("reason", "finished"), status: bad, typ: v, field: "reason"},
			{name: "reason missing", body: set("reason", remove), status: bad, typ: v, field: "reason"},
			{name: "outcome of 2001 characters", body: set("outcome", text2001), status: bad, typ: v, field: "outcome"},
		}
	case "corrections":
		return []badCase{
			{name: "corrected_event_id empty", body: set("corrected_event_id", ""), status: bad, typ: v, field: "corrected_event_id"},
			{name: "corrected_event_id missing", body: set("corrected_event_id", remove), status: bad, typ: v, field: "corrected_event_id"},
			{name: "corrected_event_id as a number", body: set("corrected_event_id", 5), status: bad, typ: v, field: "corrected_event_id"},
			{name: "reason empty", body: set("reason", ""), status: bad, typ: v, field: "reason"},
			{name: "reason of 2001 characters", body: set("reason", text2001), status: bad, typ: v, field: "reason"},
			{name: "replacement kind outside the vocabulary", body: setIn("replacement", "kind", "party"), status: bad, typ: v, field: "replacement.kind"},
			{name: "replacement title of 201 characters", body: setIn("replacement", "title", repeat("t", 201)), status: bad, typ: v, field: "replacement.title"},
			{name: "replacement of another type", body: set("replacement", obj{"level": "political"}), status: bad, typ: v, field: "replacement"},
			{name: "replacement unknown field", body: setIn("replacement", "bogus", 1), status: bad, typ: v, field: "replacement"},
			{name: "replacement a string", body: set("replacement", "meeting"), status: bad, typ: v, field: "replacement"},
			{name: "replacement an array", body: set("replacement", []any{}), status: bad, typ: v, field: "replacement"},
		}
	}
	return nil
}

// TestBadInput sends every kind of invalid request to every command
// endpoint and checks the problem, its fields, and that nothing was
// written.
func TestBadInput(t *testing.T) {
	t.Parallel()
	for _, e := range commandEndpoints() {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			a := newTestAPI(t)
			fx := e.setup(a)
			cases := append(genericCases(e), specificCases(e)...)
			seen := map[string]bool{}
			for _, c := range cases {
				if seen[c.name] {
					t.Fatalf("two cases named %q", c.name)
				}
				seen[c.name] = true
				t.Run(c.name, func(t *testing.T) {
					c.run(t, a.bind(t), e, fx)
				})
			}
		})
	}
}

// TestBadQuery sends invalid as_of and known_at to the reads.
func TestBadQuery(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	p := a.newPartnership()
	for _, sub := range []string{"", "/history"} {
		for _, q := range []struct{ query, field string }{
			{"as_of=2024-13-01", "as_of"},
			{"as_of=yesterday", "as_of"},
			{"as_of=", "as_of"},
			{"as_of=2024-04-01T10:00:00", "as_of"},
			{"as_of=01.04.2024", "as_of"},
			{"known_at=2024-06-01T25:00:00Z", "known_at"},
			{"known_at=now", "known_at"},
			{"known_at=", "known_at"},
			{"as_of=2024-04-01&known_at=tomorrow", "known_at"},
		} {
			t.Run("GET "+sub+"?"+q.query, func(t *testing.T) {
				r := doRequest(t, a.srv.URL, "GET", p.path+sub+"?"+q.query, nil)
				pr := wantProblem(t, r, http.StatusBadRequest, typeValidation)
				if !pr.hasField(q.field, false) {
					t.Errorf("errors %q do not name %q", pr.fields(), q.field)
				}
			})
		}
		for _, q := range []struct{ name, path string }{
			{"unknown id", "/api/v1/partnerships/" + uuid.NewString() + sub},
			{"non-UUID id", "/api/v1/partnerships/12345" + sub},
			{"upper-case UUID", "/api/v1/partnerships/" + strings.ToUpper(p.ID) + sub},
		} {
			t.Run("GET "+sub+" "+q.name, func(t *testing.T) {
				r := doRequest(t, a.srv.URL, "GET", q.path, nil)
				wantProblem(t, r, http.StatusNotFound, typeNotFound)
			})
		}
	}
}

// TestBodyLimitBoundary checks that a body of exactly 1 MiB is read (and
// judged on its content), one byte more is a 413.
func TestBodyLimitBoundary(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	p := a.newPartnership()
	body, _ := json.Marshal(obj{"kind": "meeting", "title": "Møte", "occurred_at": "2024-04-01"})
	padded := string(body) + repeat(" ", maxBody-len(body))
	before := a.head()
	r := a.do("POST", p.path+"/milestones", padded)
	wantStatus(t, r, http.StatusOK)
	if a.head() != before+1 {
		t.Errorf("a 1 MiB body wrote no event")
	}
	before = a.head()
	r = a.do("POST", p.path+"/milestones", padded+" ")
	wantProblem(t, r, http.StatusRequestEntityTooLarge, typeTooLarge)
	if a.head() != before {
		t.Errorf("an oversized body wrote an event")
	}
}

func TestDeeplyNestedBodiesAreRefused(t *testing.T) {
	a := newTestAPI(t)
	p := a.newPartnership()
	deep := `{"kind":"meeting","title":"x","note":"` + strings.Repeat(`[{"\"`, 4) + `","x":` + strings.Repeat("[", 20) + strings.Repeat("]", 20) + `}`
	r := a.post(p, "/milestones", deep, http.StatusBadRequest)
	if pr := wantProblem(t, r, http.StatusBadRequest, "urn:samspill:problem:validation"); !strings.Contains(pr.Detail, "nests deeper") {
		t.Fatalf("problem %+v", pr)
	}
	for _, tc := range []struct {
		json  string
		depth int
	}{{`{}`, 1}, {`{"a":[{"b":"[[[["}]}`, 3}, {`"{\"["`, 0}, {`[[],[[]]]`, 3}} {
		if got := jsonDepth([]byte(tc.json)); got != tc.depth {
			t.Errorf("jsonDepth(%s) = %d, want %d", tc.json, got, tc.depth)
		}
	}
}
