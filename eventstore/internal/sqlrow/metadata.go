package sqlrow

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/samspill/samspill/eventstore"
)

// decodeMetadata reads a metadata column. The stores write the column
// with json.Marshal(eventstore.Metadata), so nearly every value has one
// shape: the fields in declaration order, the optional ones left out when
// empty, no spaces, and strings that need no escapes. decodeMetadata reads
// that shape by hand, its strings sharing the column's memory (a scan of
// the log decodes one per event, and json.Unmarshal was an eighth of its
// CPU); anything else (an escape, another order, a value stored by hand)
// goes to json.Unmarshal, so both give the same Metadata for every input.
func decodeMetadata(s string) (eventstore.Metadata, error) {
	if m, ok := decodeCanonical(s); ok {
		return m, nil
	}
	var m eventstore.Metadata
	err := json.Unmarshal([]byte(s), &m)
	return m, err
}

// decodeCanonical reads s if it has the shape json.Marshal gives an
// eventstore.Metadata whose strings need no escaping, and reports whether
// it had.
func decodeCanonical(s string) (eventstore.Metadata, bool) {
	var m eventstore.Metadata
	rest, ok := strings.CutPrefix(s, `{"actor":{"subject":`)
	if !ok {
		return m, false
	}
	if m.Actor.Subject, rest, ok = plainString(rest); !ok {
		return m, false
	}
	if rest, ok = strings.CutPrefix(rest, `,"role":`); !ok {
		return m, false
	}
	if m.Actor.Role, rest, ok = plainString(rest); !ok {
		return m, false
	}
	if rest, ok = strings.CutPrefix(rest, `}`); !ok {
		return m, false
	}
	for _, f := range []struct {
		key string
		dst *string
	}{
		{`,"correlation_id":`, &m.CorrelationID},
		{`,"causation_id":`, &m.CausationID},
		{`,"idempotency_key":`, &m.IdempotencyKey},
	} {
		after, found := strings.CutPrefix(rest, f.key)
		if !found {
			continue
		}
		if *f.dst, rest, ok = plainString(after); !ok {
			return m, false
		}
	}
	return m, rest == "}"
}

// plainString reads the JSON string at the start of s if it holds no
// escape, no control character and only valid UTF-8 (so that its text is
// its value, as json.Unmarshal would decode it), and returns its value and
// what follows it.
func plainString(s string) (value, rest string, ok bool) {
	if len(s) == 0 || s[0] != '"' {
		return "", s, false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			value = s[1:i]
			return value, s[i+1:], utf8.ValidString(value)
		case c == '\\' || c < 0x20:
			return "", s, false
		}
	}
	return "", s, false
}
