package doccheck

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"
)

const page = "# Title\nintro\n## A\na text `x`\n### A1\nsub\n```\n## not a heading\n```\nstill A1\n## B\nb text\n#no heading\n"

func TestSection(t *testing.T) {
	for _, c := range []struct {
		title, want string
		ok          bool
	}{
		{"A", "a text `x`\n### A1\nsub\n```\n## not a heading\n```\nstill A1", true},
		{"A1", "sub\n```\n## not a heading\n```\nstill A1", true},
		{"B", "b text\n#no heading\n", true},
		{"not a heading", "", false},
		{"C", "", false},
	} {
		got, ok := Section(page, c.title)
		if got != c.want || ok != c.ok {
			t.Errorf("Section(%q) = %q, %v; want %q, %v", c.title, got, ok, c.want, c.ok)
		}
	}
}

func TestHeadings(t *testing.T) {
	want := []Heading{{1, "Title"}, {2, "A"}, {3, "A1"}, {2, "B"}}
	if got := Headings(page); !slices.Equal(got, want) {
		t.Errorf("Headings = %v, want %v", got, want)
	}
}

func TestNames(t *testing.T) {
	if !Names(page, "x") || Names(page, "a") {
		t.Error("Names must find `x` and only code spans")
	}
}

func TestJSONPaths(t *testing.T) {
	type inner struct {
		Name string `json:"name"`
		Skip string `json:"-"`
	}
	type Embedded struct {
		Promoted string `json:"promoted"`
	}
	type outer struct {
		Embedded
		Title    string          `json:"title,omitempty"`
		One      inner           `json:"one"`
		Many     []inner         `json:"many"`
		Ptr      *inner          `json:"ptr"`
		Tags     []string        `json:"tags"`
		At       time.Time       `json:"at"`
		Raw      json.RawMessage `json:"raw"`
		Untagged string
		hidden   string
	}
	_ = outer{}.hidden
	want := []string{"promoted", "title", "one", "one.name", "many", "many[].name", "ptr", "ptr.name", "tags", "at", "raw", "Untagged"}
	if got := JSONPaths(reflect.TypeFor[outer]()); !slices.Equal(got, want) {
		t.Errorf("JSONPaths = %q, want %q", got, want)
	}
}
