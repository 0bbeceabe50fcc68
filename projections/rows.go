package projections

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// RowsPerStatement is how many rows one multi-row statement writes: enough
// to spread a statement's fixed cost (binding, a round trip through
// database/sql and the driver) over many rows, few enough to stay far
// below both databases' limits on parameters (SQLite 32,766, PostgreSQL
// 65,535) with the widest table (10 columns).
const RowsPerStatement = 128

// MultiRow writes rows with statements of many rows each (an INSERT with
// a VALUES list): what writers use for every table they fill.
type MultiRow struct {
	t          Tables
	head, tail string
	columns    int
	full       *sql.Stmt // RowsPerStatement rows, prepared once
}

// NewMultiRow prepares on db the statement of RowsPerStatement rows for
// the generation's tables t: head is the statement up to VALUES, tail what
// follows the rows (an ON CONFLICT clause, or ""), columns the number of
// values per row.
func NewMultiRow(ctx context.Context, db *sql.DB, t Tables, head, tail string, columns int) (*MultiRow, error) {
	m := &MultiRow{t: t, head: head, tail: tail, columns: columns}
	full, err := db.PrepareContext(ctx, m.sql(RowsPerStatement))
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", head, err)
	}
	m.full = full
	return m, nil
}

// sql returns the statement for n rows, bound for the dialect.
func (m *MultiRow) sql(n int) string {
	row := "(" + strings.Repeat("?, ", m.columns-1) + "?)"
	var b strings.Builder
	b.Grow(len(m.head) + len(m.tail) + n*(len(row)+2))
	b.WriteString(m.head)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(m.tail)
	return m.t.SQL(b.String())
}

// Exec writes the rows whose values args holds, columns values per row in
// order, inside tx.
func (m *MultiRow) Exec(ctx context.Context, tx *sql.Tx, args []any) error {
	if len(args)%m.columns != 0 {
		return fmt.Errorf("%d values for rows of %d columns", len(args), m.columns)
	}
	chunk := RowsPerStatement * m.columns
	var full *sql.Stmt
	for len(args) > 0 {
		n := min(len(args), chunk)
		var err error
		if n == chunk {
			if full == nil {
				full = tx.StmtContext(ctx, m.full)
			}
			_, err = full.ExecContext(ctx, args[:n]...)
		} else {
			_, err = tx.ExecContext(ctx, m.sql(n/m.columns), args[:n]...)
		}
		if err != nil {
			return err
		}
		args = args[n:]
	}
	return nil
}

// Close releases the prepared statement.
func (m *MultiRow) Close() error { return m.full.Close() }

// InList returns "?, ?, …" with n placeholders, for an IN (…) list.
func InList(n int) string {
	return strings.Repeat("?, ", n-1) + "?"
}
