package summaries

import (
	"slices"
	"strings"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/samspill/samspill/projections"
)

// The list's orders and where a page of it ends.

// The orders of the list (ListFilter.Sort): a column, ascending, or with
// a leading "-" descending. Ties are broken by id in the same direction,
// so every order is total and a cursor names one place in it.
const (
	SortStartedAt     = "started_at"
	SortTitle         = "title"
	SortLastOccurred  = "last_occurred_at"
	DefaultSort       = "-" + SortStartedAt
	descendingPrefix  = "-"
	titleKeyCollation = "nn" // Norwegian; see titleKeys
)

// Sorts lists every order the list knows, the default first.
var Sorts = []string{
	DefaultSort, SortStartedAt,
	SortTitle, "-" + SortTitle,
	"-" + SortLastOccurred, SortLastOccurred,
}

// order is a parsed Sort: the column the list sorts by and its direction.
type order struct {
	name       string // as in Sorts, without the direction
	column     string
	descending bool
}

// parseOrder reads a Sort ("" is DefaultSort); false for one not in Sorts.
func parseOrder(s string) (order, bool) {
	if s == "" {
		s = DefaultSort
	}
	if !slices.Contains(Sorts, s) {
		return order{}, false
	}
	o := order{name: strings.TrimPrefix(s, descendingPrefix), descending: strings.HasPrefix(s, descendingPrefix)}
	switch o.name {
	case SortTitle:
		o.column = "title_key"
	case SortLastOccurred:
		o.column = "last_occurred_at"
	default:
		o.column = "started_at"
	}
	return o, true
}

// String is the order as a Sort.
func (o order) String() string {
	if o.descending {
		return descendingPrefix + o.name
	}
	return o.name
}

// listCursor is where a page of the list ends (or, with Before, where the
// page before it begins): the order it was made in, the sort column's
// value of the row there and its id. A cursor of the default order made
// before the list had orders ({"s", "i"}) reads as one of the default
// order.
type listCursor struct {
	Sort string `json:"o,omitempty"`
	// Time is a stored time (SortableTime) for the time orders; Title
	// the title's key for the title's.
	Time   string `json:"s,omitempty"`
	Title  []byte `json:"t,omitempty"`
	ID     string `json:"i"`
	Before bool   `json:"b,omitempty"`
}

// cursorAt is the cursor of the row with key (the sort column's value as
// scanned) and id, in order o.
func cursorAt(o order, key []byte, id string, before bool) string {
	c := listCursor{ID: id, Before: before}
	if s := o.String(); s != DefaultSort {
		c.Sort = s
	}
	if o.name == SortTitle {
		c.Title = key
	} else {
		c.Time = string(key)
	}
	return projections.EncodeCursor(c)
}

// decodeListCursor reads a cursor made in order o; a cursor of another
// order, or not made by the list, is projections.ErrBadCursor.
func decodeListCursor(s string, o order) (listCursor, error) {
	var c listCursor
	if projections.DecodeCursor(s, &c) != nil || c.ID == "" || (c.Sort == "" && o.String() != DefaultSort) || (c.Sort != "" && c.Sort != o.String()) {
		return listCursor{}, projections.ErrBadCursor
	}
	if o.name == SortTitle && (len(c.Title) == 0 || c.Time != "") || o.name != SortTitle && (c.Title != nil || !projections.IsSortable(c.Time)) {
		return listCursor{}, projections.ErrBadCursor
	}
	return c, nil
}

// key is the cursor's value of the sort column, as the query binds it.
func (c listCursor) key() any {
	if c.Title != nil {
		return c.Title
	}
	return c.Time
}

// titleKeys makes the keys the list sorts titles by: collation keys of the
// Norwegian alphabet (æ, ø and å after z; "aa" as å), ignoring case and
// accents, so that bytewise order (SQLite's BLOB, PostgreSQL's bytea) is
// the order a Norwegian reader expects, in every language of the pages.
// x/text's "nb" lacks the Norwegian tailoring (it inherits from "no",
// which x/text does not resolve); "nn" has it, and CLDR's rules are the
// same for both. A titleKeys is not safe for concurrent use: each writer
// has its own (a writer writes one page at a time).
type titleKeys struct {
	collator *collate.Collator
	buf      collate.Buffer
}

func newTitleKeys() *titleKeys {
	return &titleKeys{collator: collate.New(language.MustParse(titleKeyCollation), collate.Loose)}
}

// of returns the key of title: a byte 1, so that no key is empty (a title
// of characters the collation ignores has an empty collation key, and a
// cursor an empty key), then the collation key.
func (k *titleKeys) of(title string) []byte {
	k.buf.Reset()
	return append([]byte{1}, k.collator.KeyFromString(&k.buf, title)...)
}
