package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/projections/timeline"
)

// openAPI is the parsed document with helpers to follow $refs.
type openAPI struct {
	t    *testing.T
	root map[string]any
}

func loadOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal(openAPIDocument, &root); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	return &openAPI{t: t, root: root}
}

// pointer returns the value at a JSON pointer such as #/components/schemas/X.
func (d *openAPI) pointer(ref string) (any, bool) {
	rest, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, false
	}
	var cur any = d.root
	for _, part := range strings.Split(strings.TrimPrefix(rest, "/"), "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// resolve follows $ref until an object without one.
func (d *openAPI) resolve(s any) map[string]any {
	d.t.Helper()
	m, _ := s.(map[string]any)
	for i := 0; m != nil && i < 10; i++ {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		v, found := d.pointer(ref)
		if !found {
			d.t.Fatalf("$ref %s does not resolve", ref)
		}
		m, _ = v.(map[string]any)
	}
	return m
}

// parts returns the schema and, recursively, the schemas it composes with
// allOf: together they constrain a value.
func (d *openAPI) parts(s any) []map[string]any {
	m := d.resolve(s)
	if m == nil {
		return nil
	}
	out := []map[string]any{m}
	if all, ok := m["allOf"].([]any); ok {
		for _, sub := range all {
			out = append(out, d.parts(sub)...)
		}
	}
	return out
}

func (d *openAPI) properties(s any) map[string]any {
	props := map[string]any{}
	for _, p := range d.parts(s) {
		if m, ok := p["properties"].(map[string]any); ok {
			for k, v := range m {
				props[k] = v
			}
		}
	}
	return props
}

func (d *openAPI) required(s any) map[string]bool {
	req := map[string]bool{}
	for _, p := range d.parts(s) {
		if list, ok := p["required"].([]any); ok {
			for _, r := range list {
				req[r.(string)] = true
			}
		}
	}
	return req
}

// keyword returns the first value of a keyword among the schema's parts.
func (d *openAPI) keyword(s any, name string) (any, bool) {
	for _, p := range d.parts(s) {
		if v, ok := p[name]; ok {
			return v, true
		}
	}
	return nil, false
}

func (d *openAPI) number(s any, name string) (int, bool) {
	v, ok := d.keyword(s, name)
	if !ok {
		return 0, false
	}
	f, ok := v.(float64)
	return int(f), ok
}

// types returns the JSON types a schema allows: its own "type" (and its
// allOf parts'), else the union over its anyOf alternatives.
func (d *openAPI) types(s any) []string {
	var out []string
	for _, p := range d.parts(s) {
		switch t := p["type"].(type) {
		case string:
			out = append(out, t)
		case []any:
			for _, e := range t {
				out = append(out, e.(string))
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	if alts, ok := d.keyword(s, "anyOf"); ok {
		for _, alt := range alts.([]any) {
			out = append(out, d.types(alt)...)
		}
	}
	return out
}

// closed reports whether the schema forbids properties it does not list.
func (d *openAPI) closed(s any) bool {
	for _, p := range d.parts(s) {
		if p["additionalProperties"] == false || p["unevaluatedProperties"] == false {
			return true
		}
	}
	return false
}

// operation returns the operation object of method and path (OpenAPI form).
func (d *openAPI) operation(method, path string) (map[string]any, bool) {
	paths, _ := d.root["paths"].(map[string]any)
	item, _ := paths[path].(map[string]any)
	op, ok := item[strings.ToLower(method)].(map[string]any)
	return op, ok
}

// requestSchema returns the JSON request body schema of an operation.
func (d *openAPI) requestSchema(op map[string]any) (map[string]any, bool) {
	body := d.resolve(op["requestBody"])
	content, _ := body["content"].(map[string]any)
	media, _ := content["application/json"].(map[string]any)
	s, ok := media["schema"]
	return d.resolve(s), ok
}

var ginParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// engineRoutes returns "METHOD /path" (OpenAPI path syntax) of every route
// Server.Register registers.
func engineRoutes() map[string]bool {
	routes := map[string]bool{}
	engine := edge.NewEngine()
	(&Server{}).Register(engine)
	for _, r := range engine.Routes() {
		routes[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	return routes
}

// isCommand reports whether route ("METHOD /path") is a partnership
// command: a POST under /api/v1/partnerships. Other POSTs (admin actions)
// take no body and write no events.
func isCommand(route string) bool {
	return strings.HasPrefix(route, "POST /api/v1/partnerships")
}

func docRoutes(d *openAPI) map[string]bool {
	routes := map[string]bool{}
	paths, _ := d.root["paths"].(map[string]any)
	for path, item := range paths {
		for method := range item.(map[string]any) {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				routes[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	return routes
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	d := loadOpenAPI(t)
	if v, _ := d.root["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", v)
	}
	info, _ := d.root["info"].(map[string]any)
	if info["version"] != "1" || info["title"] == "" {
		t.Errorf("info = %v, want a title and version \"1\"", info)
	}
	// Every $ref resolves.
	eachObject(d.root, "#", func(x map[string]any, at string) {
		if ref, ok := x["$ref"].(string); ok {
			if _, found := d.pointer(ref); !found {
				t.Errorf("%s: $ref %s does not resolve", at, ref)
			}
		}
	})
}

// eachObject calls visit for every JSON object in v, depth first, with its
// JSON pointer.
func eachObject(v any, at string, visit func(obj map[string]any, at string)) {
	switch x := v.(type) {
	case map[string]any:
		visit(x, at)
		for k, e := range x {
			eachObject(e, at+"/"+k, visit)
		}
	case []any:
		for i, e := range x {
			eachObject(e, at+"/"+strconv.Itoa(i), visit)
		}
	}
}

// TestOpenAPIRoutes checks that the document describes exactly the routes
// of Server.Register: a route without an entry, or an entry without a route,
// fails.
func TestOpenAPIRoutes(t *testing.T) {
	t.Parallel()
	d := loadOpenAPI(t)
	inEngine, inDoc := engineRoutes(), docRoutes(d)
	for _, r := range sortedKeys(inEngine) {
		if !inDoc[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, r := range sortedKeys(inDoc) {
		if !inEngine[r] {
			t.Errorf("openapi.json describes %s, which Server.Register does not register", r)
		}
	}
	if len(inEngine) == 0 {
		t.Fatal("Server.Register registers no routes")
	}
	// Every command endpoint has a valid-body fixture, so the bad-input
	// and constraint tests cover it.
	fixtures := map[string]bool{}
	for _, e := range commandEndpoints() {
		fixtures[e.method+" "+ginParam.ReplaceAllString(e.route, "{$1}")] = true
	}
	for _, r := range sortedKeys(inEngine) {
		if isCommand(r) && !fixtures[r] {
			t.Errorf("command route %s has no fixture in commandEndpoints", r)
		}
	}
}

// requestTypes maps each route with a body to the Go type it decodes.
var requestTypes = map[string]reflect.Type{
	"POST /api/v1/partnerships":                                  reflect.TypeFor[initiateRequest](),
	"POST /api/v1/partnerships/{id}/partners":                    reflect.TypeFor[joinPartnerRequest](),
	"POST /api/v1/partnerships/{id}/partners/{partner_id}/leave": reflect.TypeFor[leavePartnerRequest](),
	"POST /api/v1/partnerships/{id}/roles":                       reflect.TypeFor[agreeRolesRequest](),
	"POST /api/v1/partnerships/{id}/goals":                       reflect.TypeFor[changeGoalsRequest](),
	"POST /api/v1/partnerships/{id}/agreements":                  reflect.TypeFor[signAgreementRequest](),
	"POST /api/v1/partnerships/{id}/funding":                     reflect.TypeFor[recordFundingRequest](),
	"POST /api/v1/partnerships/{id}/anchoring":                   reflect.TypeFor[changeAnchoringRequest](),
	"POST /api/v1/partnerships/{id}/collaboration-model":         reflect.TypeFor[changeCollaborationModelRequest](),
	"POST /api/v1/partnerships/{id}/milestones":                  reflect.TypeFor[logMilestoneRequest](),
	"POST /api/v1/partnerships/{id}/contacts":                    reflect.TypeFor[assignContactRequest](),
	"POST /api/v1/partnerships/{id}/pause":                       reflect.TypeFor[pauseRequest](),
	"POST /api/v1/partnerships/{id}/resume":                      reflect.TypeFor[resumeRequest](),
	"POST /api/v1/partnerships/{id}/end":                         reflect.TypeFor[endRequest](),
	"POST /api/v1/partnerships/{id}/corrections":                 reflect.TypeFor[correctEntryRequest](),
	"POST /api/v1/admin/users/{id}/grant":                        reflect.TypeFor[grantRequest](),
	"POST /api/v1/admin/tokens":                                  reflect.TypeFor[createTokenRequest](),
	"POST /api/v1/admin/research-projects":                       reflect.TypeFor[createProjectRequest](),
	"POST /api/v1/admin/research-projects/{id}/members":          reflect.TypeFor[grantProjectRequest](),
	"POST /api/v1/admin/research-projects/{id}/export-key":       reflect.TypeFor[exportProjectKeyRequest](),
}

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	timeType       = reflect.TypeFor[time.Time]()
)

// matchSchema checks that schema describes values of Go type typ: the same
// JSON type, for structs exactly the same property names (recursively),
// and, when closed is set (request bodies), no other properties allowed.
func (d *openAPI) matchSchema(t *testing.T, at string, typ reflect.Type, schema any, closed bool) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if d.resolve(schema) == nil {
		t.Errorf("%s: no schema", at)
		return
	}
	types := d.types(schema)
	wantType := func(want string) {
		t.Helper()
		if !slices.Contains(types, want) {
			t.Errorf("%s: schema type %v, want %s (Go %s)", at, types, want, typ)
		}
	}
	switch {
	case typ == rawMessageType:
		// Any JSON value; its shape is described in words and anyOf.
	case typ == timeType:
		wantType("string")
	case typ.Kind() == reflect.Struct:
		wantType("object")
		props := d.properties(schema)
		fields := jsonFields(typ)
		for _, name := range sortedKeys(fields) {
			if _, ok := props[name]; !ok {
				t.Errorf("%s: Go field %q (%s) is not a property of the schema", at, name, typ)
			}
		}
		for _, p := range sortedKeys(props) {
			if _, ok := fields[p]; !ok {
				t.Errorf("%s: property %q is not a JSON field of %s", at, p, typ)
			}
		}
		if closed && !d.closed(schema) {
			t.Errorf("%s: request schema does not forbid other properties (additionalProperties: false)", at)
		}
		for _, name := range sortedKeys(fields) {
			if p, ok := props[name]; ok {
				d.matchSchema(t, at+"."+name, fields[name], p, closed)
			}
		}
	case typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array:
		wantType("array")
		items, ok := d.keyword(schema, "items")
		if !ok {
			t.Errorf("%s: array schema without items", at)
			return
		}
		d.matchSchema(t, at+"[]", typ.Elem(), items, closed)
	case typ.Kind() == reflect.String:
		wantType("string")
	case typ.Kind() == reflect.Bool:
		wantType("boolean")
	case typ.Kind() >= reflect.Int && typ.Kind() <= reflect.Uint64:
		wantType("integer")
	case typ.Kind() == reflect.Float32 || typ.Kind() == reflect.Float64:
		wantType("number")
	case typ.Kind() == reflect.Map:
		wantType("object")
	default:
		t.Errorf("%s: Go type %s not handled by the test", at, typ)
	}
}

// TestOpenAPIRequestBodies checks every request body schema against the Go
// type the handler decodes, so that the two cannot drift.
func TestOpenAPIRequestBodies(t *testing.T) {
	t.Parallel()
	d := loadOpenAPI(t)
	routes := engineRoutes()
	for _, r := range sortedKeys(routes) {
		method, path, _ := strings.Cut(r, " ")
		op, ok := d.operation(method, path)
		if !ok {
			continue // reported by TestOpenAPIRoutes
		}
		typ, hasBody := requestTypes[r]
		_, docBody := op["requestBody"]
		switch {
		case isCommand(r) && !hasBody:
			t.Errorf("%s: no Go request type listed in requestTypes", r)
		case hasBody && !docBody:
			t.Errorf("%s: openapi.json has no requestBody", r)
		case !hasBody && docBody:
			t.Errorf("%s: openapi.json has a requestBody, the handler reads none", r)
		}
		if !hasBody || !docBody {
			continue
		}
		if body := d.resolve(op["requestBody"]); body["required"] != true {
			t.Errorf("%s: requestBody is not required", r)
		}
		schema, ok := d.requestSchema(op)
		if !ok {
			t.Errorf("%s: requestBody has no application/json schema", r)
			continue
		}
		d.matchSchema(t, r, typ, schema, true)
	}
	for r := range requestTypes {
		if !routes[r] {
			t.Errorf("requestTypes lists %s, which Server.Register does not register", r)
		}
	}
}

// TestOpenAPIResponseSchemas checks the response and payload schemas
// against the Go types the server encodes.
func TestOpenAPIResponseSchemas(t *testing.T) {
	t.Parallel()
	d := loadOpenAPI(t)
	ref := func(name string) any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	for name, typ := range map[string]reflect.Type{
		"PartnershipState": reflect.TypeFor[partnership.State](),
		"Envelope":         reflect.TypeFor[eventstore.RecordedEvent](),
		"HistoryEntry":     reflect.TypeFor[history.HistoryEntry](),
		"History":          reflect.TypeFor[historyResponse](),
		"Audit":            reflect.TypeFor[auditResponse](),
		"AuditEntry":       reflect.TypeFor[auditItem](),
		"AuditCorrects":    reflect.TypeFor[auditCorrects](),
		"Author":           reflect.TypeFor[history.Author](),
		"AdminUser":        reflect.TypeFor[userResponse](),
		"AdminUserList":    reflect.TypeFor[usersResponse](),
		"Token":            reflect.TypeFor[tokenResponse](),
		"TokenList":        reflect.TypeFor[tokensResponse](),
		"CreatedToken":     reflect.TypeFor[createdTokenResponse](),
		"Session":          reflect.TypeFor[sessionResponse](),
		"SessionList":      reflect.TypeFor[sessionsResponse](),
		"AuditGrant":       reflect.TypeFor[auditGrant](),
		"AuditLogEntry":    reflect.TypeFor[auditLogEntry](),
		"AuditLog":         reflect.TypeFor[auditLogResponse](),
		"Correction":       reflect.TypeFor[partnership.Correction](),
		"Problem":          reflect.TypeFor[Problem](),
		"FieldError":       reflect.TypeFor[partnership.FieldError](),
		"Partner":          reflect.TypeFor[partnership.Partner](),
		"Role":             reflect.TypeFor[partnership.Role](),
		"Agreement":        reflect.TypeFor[partnership.Agreement](),
		// The answers of the lists, timelines, statistics, feed and
		// operations routes.
		"Feed":                reflect.TypeFor[feedResponse](),
		"PartnershipList":     reflect.TypeFor[summaries.Page[partnership.State]](),
		"MunicipalityList":    reflect.TypeFor[municipalitiesResponse](),
		"MunicipalityCount":   reflect.TypeFor[summaries.MunicipalityCount](),
		"Municipality":        reflect.TypeFor[projections.Municipality](),
		"Timeline":            reflect.TypeFor[timeline.Timeline](),
		"TimelinePartnership": reflect.TypeFor[timeline.Partnership](),
		"TimelineEntry":       reflect.TypeFor[timeline.Entry](),
		"Stats":               reflect.TypeFor[summaries.Stats](),
		"GoalChanges":         reflect.TypeFor[summaries.GoalChanges](),
		"ProjectionList":      reflect.TypeFor[projectionsResponse](),
		"ProjectionStatus":    reflect.TypeFor[projections.Status](),
		"RebuildStatus":       reflect.TypeFor[projections.RebuildStatus](),
		"Ready":               reflect.TypeFor[readyResponse](),
		"ProjectionReadiness": reflect.TypeFor[projectionReadiness](),
		"NotReady":            reflect.TypeFor[notReadyProblem](),
	} {
		d.matchSchema(t, name, typ, ref(name), false)
	}
	// Each event payload has a schema named by its type; replacements in
	// corrections are decoded strictly, so these are closed.
	for _, typ := range partnership.EventTypes() {
		ev, err := partnership.Decode(typ, partnership.SchemaVersion, []byte(`{}`))
		if err != nil {
			t.Fatalf("decode an empty %s: %v", typ, err)
		}
		d.matchSchema(t, typ, reflect.TypeOf(ev), ref(typ), true)
	}
}

// vocabularies maps each enum schema of the document to its closed list.
var vocabularies = map[string][]string{
	"PartnerKind":        partnership.PartnerKinds,
	"ServiceArea":        partnership.ServiceAreas,
	"CollaborationModel": partnership.CollaborationModels,
	"RoleName":           partnership.RoleNames,
	"AgreementType":      partnership.AgreementTypes,
	"AnchoringLevel":     partnership.AnchoringLevels,
	"MilestoneKind":      partnership.MilestoneKinds,
	"EndReason":          partnership.EndReasons,
	"PartnershipStatus":  partnership.Statuses,
	"EventType":          partnership.EventTypes(),
	"ListSort":           summaries.Sorts,
}

// TestOpenAPIEnums checks that every enum of the document is one of the
// named vocabulary schemas and lists exactly the domain's values, in order.
func TestOpenAPIEnums(t *testing.T) {
	t.Parallel()
	d := loadOpenAPI(t)
	found := map[string]bool{}
	eachObject(d.root, "#", func(x map[string]any, at string) {
		if enum, ok := x["enum"]; ok {
			name, isVocab := strings.CutPrefix(at, "#/components/schemas/")
			want, known := vocabularies[name]
			if !isVocab || !known {
				t.Errorf("%s: enum outside a vocabulary schema (use a $ref to one)", at)
			} else {
				found[name] = true
				var got []string
				for _, e := range enum.([]any) {
					s, _ := e.(string)
					got = append(got, s)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: enum %q, want the domain's %q", at, got, want)
				}
			}
		}
	})
	for _, name := range sortedKeys(vocabularies) {
		if !found[name] {
			t.Errorf("schema %s with the enum of its vocabulary is missing", name)
		}
	}
}

// TestOpenAPIOperations checks parameters, headers and responses of each
// operation against what the handlers do.
func TestOpenAPIOperations(t *testing.T) {
	t.Parallel()
	d := loadOpenAPI(t)
	params := func(op map[string]any) map[string]string {
		out := map[string]string{}
		for _, p := range op["parameters"].([]any) {
			m := d.resolve(p)
			out[m["name"].(string)] = m["in"].(string)
		}
		return out
	}
	response := func(r string, op map[string]any, status string) map[string]any {
		t.Helper()
		responses, _ := op["responses"].(map[string]any)
		res := d.resolve(responses[status])
		if res == nil {
			t.Errorf("%s: no %s response", r, status)
		}
		return res
	}
	headers := func(res map[string]any) map[string]bool {
		out := map[string]bool{}
		h, _ := res["headers"].(map[string]any)
		for k := range h {
			out[k] = true
		}
		return out
	}
	schemaRef := func(res map[string]any, media string) string {
		content, _ := res["content"].(map[string]any)
		m, _ := content[media].(map[string]any)
		s, _ := m["schema"].(map[string]any)
		ref, _ := s["$ref"].(string)
		return ref
	}
	wantProblems := func(r string, op map[string]any, statuses ...string) {
		t.Helper()
		for _, st := range statuses {
			if res := response(r, op, st); res != nil && schemaRef(res, problemContentType) != "#/components/schemas/Problem" {
				t.Errorf("%s %s: not application/problem+json with the Problem schema", r, st)
			}
		}
	}
	for _, r := range sortedKeys(engineRoutes()) {
		method, path, _ := strings.Cut(r, " ")
		op, ok := d.operation(method, path)
		if !ok {
			continue
		}
		if op["operationId"] == "" || op["operationId"] == nil {
			t.Errorf("%s: no operationId", r)
		}
		ps := params(opOrEmpty(op))
		for _, m := range regexp.MustCompile(`\{([a-z_]+)\}`).FindAllStringSubmatch(path, -1) {
			if ps[m[1]] != "path" {
				t.Errorf("%s: path parameter %s not declared", r, m[1])
			}
		}
		for name, in := range ps {
			if in == "path" && !strings.Contains(path, "{"+name+"}") {
				t.Errorf("%s: declares path parameter %s that is not in the path", r, name)
			}
		}
		switch {
		case isCommand(r):
			for _, h := range []string{"If-Match", "Idempotency-Key", "X-Request-ID"} {
				if ps[h] != "header" {
					t.Errorf("%s: header parameter %s not declared", r, h)
				}
			}
			success := "200"
			if path == "/api/v1/partnerships" {
				success = "201"
			} else {
				wantProblems(r, op, "404")
			}
			wantProblems(r, op, "400", "409", "412", "413", "422", "503")
			res := response(r, op, success)
			if res == nil {
				continue
			}
			hs := headers(res)
			for _, h := range []string{"ETag", "X-Samspill-Position", "Idempotent-Replayed"} {
				if !hs[h] {
					t.Errorf("%s %s: header %s not declared", r, success, h)
				}
			}
			if success == "201" && !hs["Location"] {
				t.Errorf("%s 201: header Location not declared", r)
			}
			if schemaRef(res, "application/json") != "#/components/schemas/PartnershipState" {
				t.Errorf("%s %s: body is not the PartnershipState schema", r, success)
			}
		case strings.HasPrefix(path, "/api/v1/partnerships/{id}"):
			for _, q := range []string{"as_of", "known_at"} {
				if ps[q] != "query" {
					t.Errorf("%s: query parameter %s not declared", r, q)
				}
			}
			wantProblems(r, op, "400", "404", "503")
			if res := response(r, op, "200"); res != nil && !headers(res)["ETag"] {
				t.Errorf("%s 200: header ETag not declared", r)
			}
		}
	}
	get, _ := d.operation("GET", "/api/v1/partnerships/{id}/history")
	if res := response("history", get, "200"); schemaRef(res, "application/json") != "#/components/schemas/History" {
		t.Errorf("history 200: body is not the History schema")
	}
}

func opOrEmpty(op map[string]any) map[string]any {
	if _, ok := op["parameters"]; !ok {
		return map[string]any{"parameters": []any{}}
	}
	return op
}

// constraintCheck is one request derived from the document: the fixture
// body with one value changed, and whether the document says the server
// accepts it.
type constraintCheck struct {
	desc  string
	body  obj
	ok    bool
	field string // the errors[].field of a refusal
}

// constraintGen derives checks from a request schema and a valid body.
type constraintGen struct {
	d      *openAPI
	t      *testing.T
	base   obj
	checks []constraintCheck
}

func fieldPath(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch x := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(x)
		case int:
			fmt.Fprintf(&b, "[%d]", x)
		}
	}
	return b.String()
}

// setPath returns a copy of body with the value at path set (or removed).
func setPath(body obj, path []any, v any) obj {
	out := deepCopy(body).(obj)
	var cur any = out
	for i, p := range path {
		last := i == len(path)-1
		switch x := p.(type) {
		case string:
			m := cur.(obj)
			if last {
				if v == remove {
					delete(m, x)
				} else {
					m[x] = v
				}
				return out
			}
			cur = m[x]
		case int:
			l := cur.([]any)
			if last {
				l[x] = v
				return out
			}
			cur = l[x]
		}
	}
	return out
}

func (g *constraintGen) accept(desc string, path []any, v any) {
	g.checks = append(g.checks, constraintCheck{desc: fieldPath(path) + ": " + desc, body: setPath(g.base, path, v), ok: true})
}

func (g *constraintGen) refuse(desc string, path []any, v any) {
	g.checks = append(g.checks, constraintCheck{desc: fieldPath(path) + ": " + desc, body: setPath(g.base, path, v), field: fieldPath(path)})
}

func appendPath(path []any, p any) []any { return append(slices.Clip(path), p) }

// pick returns, for a schema with anyOf alternatives and no properties of
// its own, the alternative whose properties and required fields fit v.
func (g *constraintGen) pick(s any, v obj) any {
	if len(g.d.properties(s)) > 0 {
		return s
	}
	alts, ok := g.d.keyword(s, "anyOf")
	if !ok {
		return s
	}
	for _, alt := range alts.([]any) {
		props, req := g.d.properties(alt), g.d.required(alt)
		fits := len(props) > 0
		for k := range v {
			if _, ok := props[k]; !ok {
				fits = false
			}
		}
		for k := range req {
			if _, ok := v[k]; !ok {
				fits = false
			}
		}
		if fits {
			return alt
		}
	}
	return s
}

func (g *constraintGen) walk(s any, v any, path []any) {
	d := g.d
	switch val := v.(type) {
	case obj:
		s = g.pick(s, val)
		props, req := d.properties(s), d.required(s)
		for _, name := range sortedKeys(req) {
			if _, ok := val[name]; !ok {
				g.t.Errorf("the fixture lacks %s, required by the document", fieldPath(appendPath(path, name)))
			}
		}
		for _, name := range sortedKeys(val) {
			p := appendPath(path, name)
			ps, ok := props[name]
			if !ok {
				g.t.Errorf("the fixture has %s, which the document does not describe", fieldPath(p))
				continue
			}
			if req[name] {
				g.refuse("required, removed", p, remove)
			} else {
				g.accept("optional, removed", p, remove)
			}
			g.walk(ps, val[name], p)
		}
	case []any:
		if n, ok := d.number(s, "minItems"); ok && n >= 1 {
			g.refuse(fmt.Sprintf("minItems %d, empty", n), path, []any{})
		}
		items, _ := d.keyword(s, "items")
		if slices.Contains(d.types(items), "string") {
			if n, ok := d.number(s, "maxItems"); ok {
				g.accept(fmt.Sprintf("maxItems %d, full", n), path, distinctStrings(n))
				g.refuse(fmt.Sprintf("maxItems %d, one more", n), path, distinctStrings(n+1))
			}
			if u, _ := d.keyword(s, "uniqueItems"); u == true && len(val) > 0 {
				g.checks = append(g.checks, constraintCheck{desc: fieldPath(path) + ": uniqueItems, repeated", body: setPath(g.base, path, []any{val[0], val[0]}), field: fieldPath(appendPath(path, 1))})
			}
		}
		if len(val) > 0 {
			g.walk(items, val[0], appendPath(path, 0))
		}
	case string:
		if _, ok := d.keyword(s, "enum"); ok {
			g.refuse("outside the enum", path, "no_such_value")
			return
		}
		if g.hasFormat(s) {
			return
		}
		if n, ok := d.number(s, "maxLength"); ok {
			// Characters, not bytes: ø is two bytes in UTF-8.
			g.accept(fmt.Sprintf("maxLength %d, full", n), path, strings.Repeat("ø", n))
			g.refuse(fmt.Sprintf("maxLength %d, one more", n), path, strings.Repeat("ø", n+1))
		}
		if n, ok := d.number(s, "minLength"); ok && n >= 1 {
			g.refuse(fmt.Sprintf("minLength %d, empty", n), path, "")
		}
	case int, int64, float64:
		if n, ok := d.number(s, "minimum"); ok {
			g.accept(fmt.Sprintf("minimum %d", n), path, n)
			g.refuse(fmt.Sprintf("minimum %d, one less", n), path, n-1)
		}
	}
}

// hasFormat reports whether a string schema constrains its form (format,
// pattern, or alternatives that do), which a repeated letter would break.
func (g *constraintGen) hasFormat(s any) bool {
	for _, p := range g.d.parts(s) {
		if _, ok := p["format"]; ok {
			return true
		}
		if _, ok := p["pattern"]; ok {
			return true
		}
		if alts, ok := p["anyOf"].([]any); ok {
			for _, a := range alts {
				if g.hasFormat(a) {
					return true
				}
			}
		}
	}
	return false
}

func distinctStrings(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = fmt.Sprintf("Nr. %d", i+1)
	}
	return out
}

// TestOpenAPIConstraintsMatchServer derives requests from the document's
// schemas (required and optional fields, maxLength, minLength, maxItems,
// minItems, uniqueItems, minimum, enums) and sends them to a real server:
// what the document allows must succeed, what it forbids must be a 400
// naming the field. This keeps the documented limits equal to the domain's.
func TestOpenAPIConstraintsMatchServer(t *testing.T) {
	t.Parallel()
	d := loadOpenAPI(t)
	for _, e := range commandEndpoints() {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			a := newTestAPI(t)
			op, ok := d.operation(e.method, ginParam.ReplaceAllString(e.route, "{$1}"))
			if !ok {
				t.Fatalf("no operation for %s %s", e.method, e.route)
			}
			schema, ok := d.requestSchema(op)
			if !ok {
				t.Fatalf("no request schema")
			}
			g := &constraintGen{d: &openAPI{t: t, root: d.root}, t: t}
			// Bodies refer to fixture values (event ids), so derive the
			// checks from one fixture and re-aim them at fresh ones.
			proto := e.setup(a)
			g.base = e.body(proto)
			g.walk(schema, g.base, nil)
			if len(g.checks) == 0 {
				t.Fatal("no checks derived")
			}
			for _, c := range g.checks {
				t.Run(c.desc, func(t *testing.T) {
					a := a.bind(t)
					fx := e.setup(a)
					body := rebase(c.body, proto, fx)
					before := a.head()
					r := a.do(e.method, e.path(fx), body)
					if c.ok {
						if r.Status != e.status {
							t.Errorf("the document allows it, the server answers %d: %s", r.Status, r.Body)
						}
						return
					}
					p := wantProblem(t, r, http.StatusBadRequest, typeValidation)
					if !p.hasField(c.field, true) {
						t.Errorf("errors %q do not name %q", p.fields(), c.field)
					}
					if a.head() != before {
						t.Errorf("a refused request wrote events")
					}
				})
			}
		})
	}
}

// rebase replaces the prototype fixture's event id in body by fx's.
func rebase(body obj, proto, fx fixture) obj {
	if proto.eventID == "" || body["corrected_event_id"] != proto.eventID {
		return body
	}
	return with(body, "corrected_event_id", fx.eventID)
}
