package projections

import (
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/samspill/samspill/internal/pgdb"
	"github.com/samspill/samspill/internal/sqlitedb"
)

// dialect is what differs between the SQL of the two read-model databases.
// Statements are written once, with ? placeholders, in the SQL both
// understand; only the table definitions (see definition.Schema) and the
// few expressions named here are written per dialect.
type dialect struct {
	name string
	// numbered means the driver wants $1, $2, … instead of ?.
	numbered bool
	// substring is the function that finds a needle in a haystack,
	// called as f(haystack, needle) > 0.
	substring string
	// entriesFirst joins a timeline's lanes to its entries so that the
	// entries stay the outer loop: SQLite's CROSS JOIN (a planner rule);
	// PostgreSQL plans a plain join well on its own.
	entriesFirst string
	// undefinedTable recognises the error of a statement on a table that
	// does not exist (any more): another instance dropped a replaced
	// generation.
	undefinedTable func(error) bool
	// diskFull recognises a write refused for lack of space.
	diskFull func(error) bool
}

var (
	sqliteDialect = dialect{
		name:         "sqlite",
		substring:    "instr",
		entriesFirst: "CROSS JOIN",
		undefinedTable: func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "no such table")
		},
		diskFull: sqlitedb.DiskFull,
	}
	postgresDialect = dialect{
		name:         "postgres",
		numbered:     true,
		substring:    "strpos",
		entriesFirst: "JOIN",
		undefinedTable: func(err error) bool {
			var pg *pgconn.PgError
			return errors.As(err, &pg) && pg.Code == "42P01" // undefined_table
		},
		diskFull: pgdb.DiskFull,
	}
)

// bind rewrites a statement's ? placeholders for the driver. The statements
// of this package never hold a ? inside a string literal.
func (d dialect) bind(stmt string) string {
	if !d.numbered || !strings.Contains(stmt, "?") {
		return stmt
	}
	var b strings.Builder
	b.Grow(len(stmt) + 16)
	n := 0
	for _, r := range stmt {
		if r != '?' {
			b.WriteRune(r)
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}
