package survey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// MaxDefinitionBytes bounds a definition that Parse reads, so that a
// hostile upload cannot eat memory (the demo questionnaires are ~20 KiB).
const MaxDefinitionBytes = 1 << 20

// Parse reads a definition in JSON or YAML (YAML unless the first
// non-space byte is '{'), unknown fields refused, and validates it: a
// *ValidationError names every problem, syntax errors with their line.
//
// YAML is read as YAML 1.1 (sigs.k8s.io/yaml): a bare number where the
// format wants text ("in: [4, 5]", "code: 1") is taken as that text, but a
// bare yes/no/on/off is a boolean and refused where text is wanted, with
// a message that says to quote it.
func Parse(data []byte) (Questionnaire, error) {
	if len(data) > MaxDefinitionBytes {
		return Questionnaire{}, definitionError(Problem{Path: "", Code: ProblemTooLong,
			Message: fmt.Sprintf("the definition is %d bytes; at most %d are read", len(data), MaxDefinitionBytes)})
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	jsonData := trimmed
	if len(trimmed) == 0 || trimmed[0] != '{' {
		converted, err := yaml.YAMLToJSONStrict(data)
		if err != nil {
			// The library's message names the line ("yaml: line 3: ...").
			return Questionnaire{}, definitionError(Problem{Path: "", Code: ProblemInvalid,
				Message: "not valid YAML: " + strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")})
		}
		jsonData = converted
	}

	dec := json.NewDecoder(bytes.NewReader(jsonData))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return Questionnaire{}, definitionError(Problem{Path: "", Code: ProblemInvalid, Message: jsonSyntaxMessage(jsonData, err)})
	}
	if _, err := dec.Token(); err == nil {
		return Questionnaire{}, definitionError(Problem{Path: "", Code: ProblemInvalid,
			Message: "not valid JSON: more data after the definition's closing brace"})
	}
	if tree == nil {
		return Questionnaire{}, definitionError(Problem{Path: "", Code: ProblemRequired, Message: "the definition is empty"})
	}

	// The shape check names every unknown field and every value of the
	// wrong type with its path, which encoding/json's first-error-only
	// messages do not; it also turns bare YAML numbers into text where
	// text is wanted. It drops what does not fit, so that Validate can
	// still name every other problem.
	var shape problems
	tree = shape.conform(tree, reflect.TypeFor[Questionnaire](), "")
	if _, ok := tree.(map[string]any); !ok {
		return Questionnaire{}, &ValidationError{Problems: shape}
	}
	normalised, err := json.Marshal(tree)
	if err != nil {
		return Questionnaire{}, fmt.Errorf("parse questionnaire: re-encode: %w", err)
	}
	strict := json.NewDecoder(bytes.NewReader(normalised))
	strict.DisallowUnknownFields()
	var q Questionnaire
	if err := strict.Decode(&q); err != nil {
		// conform leaves only what decodes; this is a safety net.
		return Questionnaire{}, definitionError(Problem{Path: "", Code: ProblemInvalid, Message: err.Error()})
	}
	err = q.Validate()
	if len(shape) == 0 {
		if err != nil {
			return Questionnaire{}, err
		}
		return q, nil
	}
	// The shape's problems first, then Validate's, less those about a
	// place whose value the shape check already refused and dropped.
	var ve *ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			if !under(p.Path, shape) {
				shape = append(shape, p)
			}
		}
	}
	return Questionnaire{}, &ValidationError{Problems: shape}
}

// under says whether path is at or inside the path of one of ps.
func under(path string, ps problems) bool {
	for _, p := range ps {
		if path == p.Path || strings.HasPrefix(path, p.Path+".") || strings.HasPrefix(path, p.Path+"[") {
			return true
		}
	}
	return false
}

func definitionError(p Problem) *ValidationError {
	return &ValidationError{Problems: []Problem{p}}
}

// jsonSyntaxMessage words a JSON decoding error with its line and column.
func jsonSyntaxMessage(data []byte, err error) string {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		line, col := lineCol(data, syntax.Offset)
		return fmt.Sprintf("not valid JSON: line %d, column %d: %s", line, col, syntax.Error())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "not valid JSON: the definition ends too early"
	}
	return "not valid JSON: " + err.Error()
}

func lineCol(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// problems collects Problems in document order.
type problems []Problem

func (ps *problems) add(path, code, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Code: code, Message: fmt.Sprintf(format, args...)})
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// conform checks that a decoded JSON value (json.Number for numbers) fits
// the Go type t as encoding/json would fill it, with exact field names,
// and returns it with numbers turned into text where t wants a string.
// A null fits everything (it leaves the zero value, which Validate judges).
func (ps *problems) conform(v any, t reflect.Type, path string) any {
	if v == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			ps.add(path, ProblemInvalid, "must be an object (fields and values), not %s", jsonKind(v))
			return nil
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return fieldOrder(fields, keys[i]) < fieldOrder(fields, keys[j]) })
		for _, k := range keys {
			f, ok := fields[k]
			if !ok {
				ps.add(join(path, k), ProblemUnknown, "unknown field %q", k)
				delete(obj, k)
				continue
			}
			obj[k] = ps.conform(obj[k], f.typ, join(path, k))
		}
		return obj
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			ps.add(path, ProblemInvalid, "must be an object (fields and values), not %s", jsonKind(v))
			return nil
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			obj[k] = ps.conform(obj[k], t.Elem(), join(path, k))
		}
		return obj
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			ps.add(path, ProblemInvalid, "must be a list, not %s", jsonKind(v))
			return nil
		}
		for i := range arr {
			arr[i] = ps.conform(arr[i], t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
		return arr
	case reflect.String:
		switch v := v.(type) {
		case string:
			return v
		case json.Number:
			return v.String()
		case bool:
			ps.add(path, ProblemInvalid, "must be text, not %t (in YAML, quote yes, no, on, off, true and false)", v)
		default:
			ps.add(path, ProblemInvalid, "must be text, not %s", jsonKind(v))
		}
		return nil
	case reflect.Int:
		n, ok := v.(json.Number)
		if !ok {
			ps.add(path, ProblemInvalid, "must be a whole number, not %s", jsonKind(v))
			return nil
		}
		if _, err := n.Int64(); err != nil || len(n) > 9 {
			ps.add(path, ProblemInvalid, "must be a whole number of at most 9 digits, not %s", n)
			return nil
		}
		return v
	case reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			ps.add(path, ProblemInvalid, "must be a number, not %s", jsonKind(v))
			return nil
		}
		if _, err := n.Float64(); err != nil {
			ps.add(path, ProblemInvalid, "must be a finite number, not %s", n)
			return nil
		}
		return v
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			ps.add(path, ProblemInvalid, "must be true or false, not %s", jsonKind(v))
			return nil
		}
		return v
	}
	ps.add(path, ProblemInvalid, "cannot be read")
	return nil
}

type jsonField struct {
	typ   reflect.Type
	order int
}

func jsonFields(t reflect.Type) map[string]jsonField {
	out := map[string]jsonField{}
	for i, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = jsonField{typ: f.Type, order: i}
	}
	return out
}

// fieldOrder sorts known fields in their declaration order, unknown ones
// after them by name.
func fieldOrder(fields map[string]jsonField, key string) string {
	if f, ok := fields[key]; ok {
		return fmt.Sprintf("0%04d", f.order)
	}
	return "1" + key
}

func jsonKind(v any) string {
	switch v := v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "text"
	case json.Number:
		return "the number " + v.String()
	case bool:
		return fmt.Sprintf("%t", v)
	}
	return "null"
}
