package research

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzRewriteIDs: rewriting ids keeps any JSON document valid and, with
// a rename that changes nothing, equal in meaning to the input; input
// that is not JSON is an error, never a panic.
func FuzzRewriteIDs(f *testing.F) {
	f.Add([]byte(`{"partnership_id":"p","partners":[{"partner_id":"a","name":"Røde Kors","kind":"voluntary_organisation"}],"goals":["x","y"]}`))
	f.Add([]byte(`{"corrected_event_id":"e1","reason":"r","replacement":{"contact_id":"c","partner_id":"a"}}`))
	f.Add([]byte(`{"amount_nok":1e3,"n":-0.5,"ok":true,"none":null,"nested":[[],{},[1,"a",{"partner_id":"b"}]]}`))
	f.Add([]byte(`{"a":"\u003c\u2028\"\\"}`))
	f.Add([]byte(`{"a":`))
	f.Fuzz(func(t *testing.T, data []byte) {
		same, err := rewriteIDs(data, func(_, v string) string { return v })
		if !json.Valid(data) {
			return // an error or a prefix it could read: either is fine, a panic is not
		}
		if err != nil {
			t.Fatalf("valid JSON %q refused: %v", data, err)
		}
		var a, b any
		if json.Unmarshal(data, &a) != nil {
			return
		}
		if err := json.Unmarshal(same, &b); err != nil {
			t.Fatalf("rewrote %q into invalid JSON %q: %v", data, same, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("rewrote %q into %q", data, same)
		}
		renamed, err := rewriteIDs(data, func(member, v string) string {
			if member == "partner_id" {
				return "X"
			}
			return v
		})
		if err != nil || !json.Valid(renamed) {
			t.Fatalf("rename of %q gave %q, %v", data, renamed, err)
		}
	})
}
