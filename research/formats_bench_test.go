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
	areas, models := table.Columns[2].Values, table.Columns[3].Values
	rows := func(ctx context.Context, emit func([]string) error) error {
		row := make([]string, len(table.Columns))
		for i := range n {
			ended := i%7 == 0
			row[0] = strconv.FormatInt(int64(i/3)*7919+1_000_000_007, 16) + "0123456789abcdef0123"
			row[1] = []string{"0301", "4203", "5006", "1103"}[i%4]
			row[2], row[3] = areas[i%len(areas)].Code, models[i%len(models)].Code
			row[4] = "2019-05-02"
			row[5], row[6] = strconv.Itoa(i%3*100), strconv.Itoa(i%3*100+100)
			row[7], row[8] = "0", ""
			if ended {
				row[7], row[8] = "1", "completed"
			}
			row[9], row[10] = strconv.Itoa(1+i%5), strconv.Itoa(i%4)
			row[11], row[12] = "none", strconv.Itoa(i%2)
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
