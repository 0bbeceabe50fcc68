package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/edge"
)

// maxBody is the largest request body accepted (docs/api.md: over 1 MiB is
// 413).
const maxBody = 1 << 20

// readBody reads the whole request body, at most maxBody bytes.
func readBody(c *gin.Context) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, edge.TooLarge(fmt.Sprintf("the body exceeds %d bytes", maxBody))
	case err != nil:
		return nil, edge.BadRequest("the body could not be read")
	}
	return body, nil
}

// maxDepth bounds the nesting of a request body. The deepest command
// (roles[].responsibilities[]) needs 3; decoders recurse per level, so an
// attacker's 1 MiB of brackets must not reach them.
const maxDepth = 16

// jsonDepth returns the deepest nesting of objects and arrays in data
// (outside strings), without decoding it.
func jsonDepth(data []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, b := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			depth++
			deepest = max(deepest, depth)
		case b == '}' || b == ']':
			depth--
		}
	}
	return deepest
}

// decodeStrict decodes one JSON object into dst, rejecting unknown fields,
// wrong types and trailing data, with the offending field named.
func decodeStrict(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return edge.BadRequest("the body must be a JSON object")
	}
	if jsonDepth(body) > maxDepth {
		return edge.BadRequest(fmt.Sprintf("the body nests deeper than %d levels", maxDepth))
	}
	if path, bad := invalidUTF8(body); bad {
		if path == "" {
			return edge.BadRequest("the body is not valid UTF-8")
		}
		return edge.FieldError(path, "must be valid UTF-8 text")
	}
	if err := checkFields(body, dst); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, reflect.TypeOf(dst))
	}
	if _, err := dec.Token(); err != io.EOF {
		return edge.BadRequest("the body must hold exactly one JSON object")
	}
	return nil
}

// invalidUTF8 returns the path ("partners[1].name") of the first string of
// the JSON body, key or value, that is not valid UTF-8, and true; "" and
// true when the bytes outside strings are at fault or the body is not
// JSON; false when the body is valid UTF-8. encoding/json would replace
// such bytes with U+FFFD without a word, and a name stored mangled is
// worse than a request refused.
func invalidUTF8(body []byte) (string, bool) {
	if utf8.Valid(body) {
		return "", false
	}
	type frame struct {
		object  bool
		key     string
		index   int
		wantKey bool
	}
	var stack []frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.object {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			} else {
				fmt.Fprintf(&b, "[%d]", f.index)
			}
		}
		return b.String()
	}
	// next moves the innermost container past a value it just held.
	next := func() {
		if len(stack) == 0 {
			return
		}
		top := &stack[len(stack)-1]
		if top.object {
			top.wantKey = true
		} else {
			top.index++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return "", true
		}
		raw := body[start:dec.InputOffset()]
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, frame{object: t == '{', wantKey: t == '{'})
			default:
				stack = stack[:len(stack)-1]
				next()
			}
			continue
		case string:
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
				stack[n-1].key, stack[n-1].wantKey = t, false
				if !utf8.Valid(raw) {
					return path(), true
				}
				continue
			}
		}
		if !utf8.Valid(raw) {
			return path(), true
		}
		next()
	}
}

func jsonError(err error, target reflect.Type) error {
	var (
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return edge.BadRequest(fmt.Sprintf("malformed JSON at byte %d: %v", syntax.Offset, syntax))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return edge.BadRequest("malformed JSON: the body ends too early")
	case errors.As(err, &typeErr):
		field := jsonPath(target, typeErr.Field)
		if field == "" {
			return edge.BadRequest(fmt.Sprintf("the body must be a JSON object, not %s", typeErr.Value))
		}
		return edge.FieldError(field, "must be %s, not %s", jsonTypeName(typeErr.Type.Kind().String()), typeErr.Value)
	}
	return edge.BadRequest("malformed JSON: " + err.Error())
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint", "uint64":
		return "a whole number"
	case "float64", "float32":
		return "a number"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "of another type"
}
