package research

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// File formats of a Table.
const (
	FormatCSV     = "csv"     // RFC 4180, UTF-8, header row; text/csv
	FormatStata   = "dta"     // Stata 14+ (format 118) with variable and value labels
	FormatParquet = "parquet" // Apache Parquet with typed columns
)

// Formats lists the formats in the order pages offer them.
var Formats = []string{FormatCSV, FormatStata, FormatParquet}

// ErrFormat means a format samspill does not write.
var ErrFormat = errors.New("unknown export format")

// WriteTable writes the table's rows to w in the format and returns what
// was written (Kind is the table's name; Position and AsOf are the
// caller's to fill in). The bytes depend only on the table and its rows.
func WriteTable(ctx context.Context, w io.Writer, format string, t Table, rows Rows) (Summary, error) {
	d := newDigest(w)
	var (
		n   int
		err error
	)
	switch format {
	case FormatCSV:
		n, err = writeCSV(ctx, d, t, rows)
	case FormatStata:
		n, err = writeDTA(ctx, d, t, rows)
	case FormatParquet:
		n, err = writeParquet(ctx, d, t, rows)
	default:
		return Summary{}, fmt.Errorf("%w %q (one of csv, dta, parquet)", ErrFormat, format)
	}
	if err != nil {
		return Summary{}, fmt.Errorf("write %s.%s: %w", t.Name, format, err)
	}
	return Summary{Kind: t.Name, Rows: n, Bytes: d.bytes, SHA256: d.sum()}, nil
}

// writeCSV writes a header row of the column names and the rows.
func writeCSV(ctx context.Context, w io.Writer, t Table, rows Rows) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	header := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = c.Name
	}
	if err := cw.Write(header); err != nil {
		return 0, err
	}
	n := 0
	err := rows(ctx, func(row []string) error {
		n++
		return cw.Write(row)
	})
	if err != nil {
		return 0, err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return 0, err
	}
	return n, bw.Flush()
}

// writeDTA is written in format_dta.go and writeParquet in
// format_parquet.go.
