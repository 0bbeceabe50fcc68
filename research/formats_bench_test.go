package research_test

import (
	"context"
	"io"
	"strconv"
	"testing"

	"github.com/samspill/samspill/research"
)

// BenchmarkWriteTable writes 200,000 rows shaped like spells (every
// column type, coded columns, missing values) in each format and
// reports rows per second and bytes per row; the rows are made as they
// are written, so allocations are the writer's own.
func BenchmarkWriteTable(b *testing.B) {
	const n = 200_000
	table := research.SpellsTable()
	// Every cell fits its column, whatever columns the table has: codes
	// cycle through their lists, numbers and flags vary by row.
	rows := func(ctx context.Context, emit func([]string) error) error {
		row := make([]string, len(table.Columns))
		for i := range n {
			for j, c := range table.Columns {
				switch {
				case len(c.Values) > 0:
					row[j] = c.Values[(i+j)%len(c.Values)].Code
				case c.Type == research.TypeInteger || c.Type == research.TypeNumber:
					row[j] = strconv.Itoa((i*(j+1))%1000 + 1)
				case c.Type == research.TypeBoolean:
					row[j] = strconv.Itoa((i + j) % 2)
				case c.Type == research.TypeDate:
					row[j] = "2019-05-02"
				case c.Name == "municipality":
					row[j] = []string{"0301", "4203", "5006", "1103"}[i%4]
				default:
					row[j] = strconv.FormatInt(int64(i/3)*7919+1_000_000_007, 16) + "0123456789abcdef0123"
				}
			}
			if err := emit(row); err != nil {
				return err
			}
		}
		return nil
	}
	for _, format := range research.Formats {
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			var bytes int64
			for range b.N {
				sum, err := research.WriteTable(context.Background(), io.Discard, format, table, rows)
				if err != nil {
					b.Fatal(err)
				}
				bytes = sum.Bytes
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(bytes)/n, "bytes/row")
		})
	}
}
