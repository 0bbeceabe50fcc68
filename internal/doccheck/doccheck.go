// Package doccheck reads the project's Markdown reference pages (docs/) so
// that tests can check them against the code: the sections under a heading,
// the headings of a section, whether a section names a token in code
// spans, and the JSON field paths of a Go type that a page must list. It is
// for tests only: it holds no state, does no I/O and is safe for concurrent
// use.
package doccheck

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"
)

// Heading is one ATX heading of a page ("## Text").
type Heading struct {
	// Level is the number of # signs (1 to 6).
	Level int
	// Text is the heading without the # signs and surrounding space.
	Text string
}

// heading returns the heading a line holds, and false when it is none.
func heading(line string) (Heading, bool) {
	level := 0
	for level < len(line) && line[level] == '#' {
		level++
	}
	if level == 0 || level > 6 || level == len(line) || line[level] != ' ' {
		return Heading{}, false
	}
	return Heading{Level: level, Text: strings.TrimSpace(line[level:])}, true
}

// lines splits a page into lines and reports for each whether it is a
// heading. Lines inside fenced code blocks (``` or ~~~) are never headings.
func lines(doc string) ([]string, []*Heading) {
	all := strings.Split(doc, "\n")
	heads := make([]*Heading, len(all))
	fence := ""
	for i, l := range all {
		trimmed := strings.TrimSpace(l)
		switch {
		case fence != "":
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
		case strings.HasPrefix(trimmed, "```"), strings.HasPrefix(trimmed, "~~~"):
			fence = trimmed[:3]
		default:
			if h, ok := heading(l); ok {
				heads[i] = &h
			}
		}
	}
	return all, heads
}

// Section returns the text under the first heading whose text is exactly
// title, up to the next heading of the same or a higher level (the end of
// the page if there is none), and true; or "" and false when no heading has
// that text.
func Section(doc, title string) (string, bool) {
	all, heads := lines(doc)
	for i, h := range heads {
		if h == nil || h.Text != title {
			continue
		}
		end := len(all)
		for j := i + 1; j < len(all); j++ {
			if heads[j] != nil && heads[j].Level <= h.Level {
				end = j
				break
			}
		}
		return strings.Join(all[i+1:end], "\n"), true
	}
	return "", false
}

// Headings returns every heading of doc (or of a section) in order, those
// inside fenced code blocks excluded.
func Headings(doc string) []Heading {
	_, heads := lines(doc)
	var out []Heading
	for _, h := range heads {
		if h != nil {
			out = append(out, *h)
		}
	}
	return out
}

// Names reports whether text holds token as a code span: `token`.
func Names(text, token string) bool {
	return strings.Contains(text, "`"+token+"`")
}

var (
	timeType       = reflect.TypeFor[time.Time]()
	rawMessageType = reflect.TypeFor[json.RawMessage]()
)

// JSONPaths returns the JSON field paths of a struct type as encoding/json
// writes it, depth first in field order: "title" for a field, "partner.name"
// for a field of a nested object, "partners[].name" for a field of the
// objects of an array. Every object or array field is listed itself too
// ("partners" before "partners[].name"). Fields tagged "-", unexported
// fields and the contents of time.Time and json.RawMessage values are
// left out; fields of embedded structs are listed as encoding/json
// promotes them. t must be a struct type or a pointer to one.
func JSONPaths(t reflect.Type) []string {
	var out []string
	appendPaths(&out, t, "")
	return out
}

func appendPaths(out *[]string, t reflect.Type, prefix string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == timeType {
		return
	}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || (f.Anonymous && f.Tag.Get("json") == "") {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		path := prefix + name
		*out = append(*out, path)
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft == rawMessageType:
		case ft.Kind() == reflect.Struct:
			appendPaths(out, ft, path+".")
		case ft.Kind() == reflect.Slice || ft.Kind() == reflect.Array:
			appendPaths(out, ft.Elem(), path+"[].")
		}
	}
}
