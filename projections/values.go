package projections

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/samspill/samspill/domain/kommune"
)

// What the read models store and hand out alike: times in a form whose
// text order is time order, opaque cursors into their lists, and the
// municipality named in their answers.

// SortableTime is the layout read models store times in: text order is
// time order (UTC, nanoseconds always written).
const SortableTime = "2006-01-02T15:04:05.000000000Z"

// Sortable formats t in SortableTime.
func Sortable(t time.Time) string { return t.UTC().Format(SortableTime) }

// SortableOrNull formats t in SortableTime, or returns nil (SQL NULL) for
// a nil t.
func SortableOrNull(t *time.Time) any {
	if t == nil {
		return nil
	}
	return Sortable(*t)
}

// IsSortable reports whether s is a time as the read models store it.
func IsSortable(s string) bool {
	_, err := time.Parse(SortableTime, s)
	return err == nil
}

// ParseSpan reads a stored start and optional end.
func ParseSpan(started string, ended sql.NullString) (time.Time, *time.Time, error) {
	from, err := time.Parse(SortableTime, started)
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("stored started_at %q: %w", started, err)
	}
	if !ended.Valid {
		return from, nil, nil
	}
	to, err := time.Parse(SortableTime, ended.String)
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("stored ended_at %q: %w", ended.String, err)
	}
	return from, &to, nil
}

// ErrBadCursor means a list cursor was not made by this server.
var ErrBadCursor = errors.New("malformed cursor")

// EncodeCursor makes an opaque cursor of a position in a list: c is a
// struct of strings and numbers.
func EncodeCursor(c any) string {
	raw, _ := json.Marshal(c) // cursors are structs of strings and numbers
	return base64.RawURLEncoding.EncodeToString(raw)
}

// DecodeCursor reads a cursor made by EncodeCursor into c; anything else is
// ErrBadCursor.
func DecodeCursor(s string, c any) error {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(raw, c)
	}
	if err != nil {
		return ErrBadCursor
	}
	return nil
}

// Municipality names a municipality by today's code in an answer.
type Municipality struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// MunicipalityOf returns the municipality with today's code code.
func MunicipalityOf(code string) Municipality {
	return Municipality{Code: code, Name: kommune.Code(code).Name()}
}
