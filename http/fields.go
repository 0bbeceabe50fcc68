package http

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/samspill/samspill/edge"
)

// encoding/json matches object keys to struct fields case-insensitively and
// names an unknown key without its path. The API promises exact field
// names and errors that point at the field, so bodies are first checked
// against the target type here: every key must be the exact JSON name of a
// field (promoted fields of embedded structs included), at every depth.

// checkFields returns a 400 naming the first key of body that dst's type does
// not have, with its full path (e.g. "partners[1].bogus"). Values of the
// wrong type are left to the decoder.
func checkFields(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil // the decoder reports malformed JSON with its offset
	}
	if path := unknownField(v, reflect.TypeOf(dst), ""); path != "" {
		return edge.FieldError(path, "is not a known field")
	}
	return nil
}

var rawMessage = reflect.TypeFor[json.RawMessage]()

func unknownField(v any, t reflect.Type, path string) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == rawMessage:
		return "" // checked where it is decoded (correction replacements)
	case t.Kind() == reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		fields := jsonFields(t)
		for _, key := range slices.Sorted(maps.Keys(obj)) {
			child := obj[key]
			ft, ok := fields[key]
			if !ok {
				return joinPath(path, key)
			}
			if p := unknownField(child, ft, joinPath(path, key)); p != "" {
				return p
			}
		}
	case t.Kind() == reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return ""
		}
		for i, child := range list {
			if p := unknownField(child, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// jsonFields maps the exact JSON names of a struct's fields, promoted ones
// included, to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case f.Anonymous && name == "":
			// promoted: its fields are listed by VisibleFields
		case name != "":
			m[name] = f.Type
		default:
			m[f.Name] = f.Type
		}
	}
	fieldCache.Store(t, m)
	return m
}

// jsonPath turns the Go path of a json.UnmarshalTypeError into the JSON
// path: the decoder names fields promoted from embedded structs through the
// embedded field's Go name ("when.occurred_at"), which no client sent, and
// (since Go 1.27) array elements by a bare index ("partners.1.org_no"),
// which the API writes as partners[1].org_no.
func jsonPath(t reflect.Type, goPath string) string {
	var kept []string
	for _, seg := range strings.Split(goPath, ".") {
		if _, err := strconv.Atoi(seg); err == nil && len(kept) > 0 {
			kept[len(kept)-1] += "[" + seg + "]"
			continue
		}
		t = elem(t)
		if t.Kind() != reflect.Struct {
			kept = append(kept, seg)
			continue
		}
		if f, ok := t.FieldByName(seg); ok && f.Anonymous {
			t = f.Type
			continue
		}
		kept = append(kept, seg)
		if ft, ok := jsonFields(t)[seg]; ok {
			t = ft
		}
	}
	return strings.Join(kept, ".")
}

// elem strips pointers, slices and arrays down to the element type.
func elem(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	return t
}
