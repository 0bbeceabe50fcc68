package projections

import (
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/samspill/samspill/internal/pgdb"
	"github.com/samspill/samspill/internal/sqlitedb"
)

// Dialect is which of the two read-model databases a statement is for.
// Statements are written once, with ? placeholders, in the SQL both
// understand; only the table definitions (Definition.Schema) and the few
// expressions named here are written per dialect.
type Dialect int

// The read-model databases.
const (
	// SQLite is the embedded database (OpenSQLite).
	SQLite Dialect = iota
	// Postgres is PostgreSQL (OpenPostgres).
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// Contains returns the condition that text needle occurs in haystack (two
// SQL expressions).
func (d Dialect) Contains(haystack, needle string) string {
	if d == Postgres {
		return "strpos(" + haystack + ", " + needle + ") > 0"
	}
	return "instr(" + haystack + ", " + needle + ") > 0"
}

// OuterJoin is the join keyword that keeps its left table the outer loop
// of the plan, so that an index on it yields rows in order and a LIMIT
// stops early: SQLite's CROSS JOIN (a planner rule); PostgreSQL plans a
// plain join well on its own.
func (d Dialect) OuterJoin() string {
	if d == Postgres {
		return "JOIN"
	}
	return "CROSS JOIN"
}

// undefinedTable recognises the error of a statement on a table that does
// not exist (any more): another instance dropped a replaced generation.
func (d Dialect) undefinedTable(err error) bool {
	if d == Postgres {
		var pg *pgconn.PgError
		return errors.As(err, &pg) && pg.Code == "42P01" // undefined_table
	}
	return err != nil && strings.Contains(err.Error(), "no such table")
}

// diskFull recognises a write refused for lack of space.
func (d Dialect) diskFull(err error) bool {
	if d == Postgres {
		return pgdb.DiskFull(err)
	}
	return sqlitedb.DiskFull(err)
}

// bind rewrites a statement's ? placeholders for the driver. The statements
// of the read models never hold a ? inside a string literal.
func (d Dialect) bind(stmt string) string {
	if d != Postgres || !strings.Contains(stmt, "?") {
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
