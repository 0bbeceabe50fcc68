package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// RowsPerStatement is how many rows one multi-row statement writes: enough
// to spread a statement's fixed cost (binding, a round trip through
// database/sql and the driver) over many rows, few enough to stay far
// below both databases' limits on parameters (SQLite 32,766, PostgreSQL
// 65,535) with the widest table (12 columns).
const RowsPerStatement = 128

// MultiRow writes rows with statements of many rows each (an INSERT with
// a VALUES list): what writers use for every table they fill.
type MultiRow struct {
	t          Tables
	head, tail string
	columns    int
	// stmts[i] writes RowsPerStatement>>i rows, prepared once: any number
	// of rows is written by full statements and at most one of each
	// smaller size, never by a statement prepared for the call (which
	// costs as much as writing its rows).
	stmts []*sql.Stmt
}

// NewMultiRow prepares on db the statements of RowsPerStatement rows and
// each smaller power of two for the generation's tables t: head is the
// statement up to VALUES, tail what follows the rows (an ON CONFLICT
// clause, or ""), columns the number of values per row.
func NewMultiRow(ctx context.Context, db *sql.DB, t Tables, head, tail string, columns int) (*MultiRow, error) {
	m := &MultiRow{t: t, head: head, tail: tail, columns: columns}
	for n := RowsPerStatement; n > 0; n /= 2 {
		stmt, err := db.PrepareContext(ctx, m.sql(n))
		if err != nil {
			_ = m.Close()
			return nil, fmt.Errorf("prepare %q: %w", head, err)
		}
		m.stmts = append(m.stmts, stmt)
	}
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
	for i, stmt := range m.stmts {
		n := (RowsPerStatement >> i) * m.columns
		if len(args) < n {
			continue
		}
		inTx := tx.StmtContext(ctx, stmt)
		for len(args) >= n {
			if _, err := inTx.ExecContext(ctx, args[:n]...); err != nil {
				return err
			}
			args = args[n:]
		}
	}
	return nil
}

// Close releases the prepared statements.
func (m *MultiRow) Close() error {
	var errs []error
	for _, stmt := range m.stmts {
		errs = append(errs, stmt.Close())
	}
	return errors.Join(errs...)
}

// InList returns "?, ?, …" with n placeholders, for an IN (…) list.
func InList(n int) string {
	return strings.Repeat("?, ", n-1) + "?"
}
