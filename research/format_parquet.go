package research

import (
	"context"
	"fmt"
	"io"
	"reflect"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
)

// The Parquet writer types each column from the Table: string →
// BYTE_ARRAY with the STRING logical type (a coded column dictionary-
// encoded), integer → INT64, number → DOUBLE, boolean → BOOLEAN, date →
// INT32 DATE. Required columns are REQUIRED, every other one OPTIONAL
// with null for "". Columns keep the Table's order. The file's key/value
// metadata names the table and its codebook (datapackage.json, which
// holds the descriptions). Rows go out in row groups of at most
// parquetRowGroup rows, so memory stays flat, and nothing in the file
// depends on the clock: the same rows give the same bytes.

// parquetRowGroup bounds the rows a row group (and so memory) holds.
const parquetRowGroup = 50_000

// Keys of the file's key/value metadata.
const (
	ParquetTableKey    = "samspill.table"
	ParquetCodebookKey = "samspill.codebook"
)

// parquetColumn is one column as the writer stores it.
type parquetColumn struct {
	col   Column
	index int // leaf column index
	codes map[string]int32
}

// writeParquet writes the rows to w as they come.
func writeParquet(ctx context.Context, w io.Writer, t Table, rows Rows) (int, error) {
	schema, cols, err := parquetSchema(t)
	if err != nil {
		return 0, err
	}
	pw := parquet.NewWriter(w, schema,
		parquet.MaxRowsPerRowGroup(parquetRowGroup),
		parquet.Compression(&parquet.Snappy),
		parquet.KeyValueMetadata(ParquetTableKey, t.Name),
		parquet.KeyValueMetadata(ParquetCodebookKey, "datapackage.json"),
	)
	// Rows go to the writer in batches; each batch's Row slices are
	// reused, as WriteRows copies the values into its column buffers.
	batch := make([]parquet.Row, 256)
	k := 0
	flush := func() error {
		if k == 0 {
			return nil
		}
		if _, err := pw.WriteRows(batch[:k]); err != nil {
			return fmt.Errorf("write parquet rows: %w", err)
		}
		k = 0
		return nil
	}
	n := 0
	err = rows(ctx, func(row []string) error {
		n++
		if len(row) != len(cols) {
			return fmt.Errorf("%w: row %d has %d cells, the table %d columns", ErrCell, n, len(row), len(cols))
		}
		r := batch[k][:0]
		for _, c := range cols {
			v, err := c.value(n, row[c.index])
			if err != nil {
				return err
			}
			r = append(r, v)
		}
		batch[k] = r
		if k++; k == len(batch) {
			return flush()
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := flush(); err != nil {
		return 0, err
	}
	if err := pw.Close(); err != nil {
		return 0, fmt.Errorf("close the parquet file: %w", err)
	}
	return n, nil
}

// value is a cell as a Parquet value of its leaf column.
func (c parquetColumn) value(row int, s string) (parquet.Value, error) {
	def := 0
	if !c.col.Required {
		def = 1
	}
	m, err := missing(row, c.col, s)
	if err != nil {
		return parquet.Value{}, err
	}
	if m {
		return parquet.NullValue().Level(0, 0, c.index), nil
	}
	var v parquet.Value
	switch {
	case c.codes != nil && c.col.Type == TypeInteger:
		if c.codes[s] == 0 {
			return v, cellError(row, c.col, s, "is not one of the column's codes")
		}
		v = parquet.Int64Value(int64(c.codes[s])) // a scale's codes are its numbers
	case c.codes != nil:
		if c.codes[s] == 0 {
			return v, cellError(row, c.col, s, "is not one of the column's codes")
		}
		v = parquet.ByteArrayValue([]byte(s))
	case c.col.Type == TypeString:
		if err := checkText(row, c.col, s); err != nil {
			return v, err
		}
		v = parquet.ByteArrayValue([]byte(s))
	case c.col.Type == TypeInteger:
		n, err := parseInteger(row, c.col, s)
		if err != nil {
			return v, err
		}
		v = parquet.Int64Value(n)
	case c.col.Type == TypeNumber:
		f, err := parseNumber(row, c.col, s)
		if err != nil {
			return v, err
		}
		v = parquet.DoubleValue(f)
	case c.col.Type == TypeBoolean:
		b, err := parseBoolean(row, c.col, s)
		if err != nil {
			return v, err
		}
		v = parquet.BooleanValue(b)
	case c.col.Type == TypeDate:
		d, err := parseDate(row, c.col, s)
		if err != nil {
			return v, err
		}
		v = parquet.Int32Value(int32(d))
	}
	return v.Level(0, def, c.index), nil
}

// parquetSchema is the table's schema with its columns in file order.
func parquetSchema(t Table) (*parquet.Schema, []parquetColumn, error) {
	fields := make([]parquet.Field, len(t.Columns))
	cols := make([]parquetColumn, len(t.Columns))
	seen := map[string]bool{}
	for i, c := range t.Columns {
		if c.Name == "" || seen[c.Name] {
			return nil, nil, fmt.Errorf("column %d: name %q is empty or used twice", i+1, c.Name)
		}
		seen[c.Name] = true
		var node parquet.Node
		switch c.Type {
		case TypeString:
			node = parquet.String()
			if len(c.Values) > 0 {
				node = parquet.Encoded(node, &parquet.RLEDictionary)
			}
		case TypeInteger:
			node = parquet.Int(64)
		case TypeNumber:
			node = parquet.Leaf(parquet.DoubleType)
		case TypeBoolean:
			node = parquet.Leaf(parquet.BooleanType)
		case TypeDate:
			node = parquet.Date()
		default:
			return nil, nil, fmt.Errorf("column %s: unknown type %q", c.Name, c.Type)
		}
		if c.Required {
			node = parquet.Required(node)
		} else {
			node = parquet.Optional(node)
		}
		fields[i] = orderedField{Node: node, name: c.Name}
		cols[i] = parquetColumn{col: c, index: i}
		if len(c.Values) > 0 {
			if c.Type != TypeString && !(c.Type == TypeInteger && scaleCodes(c)) {
				return nil, nil, fmt.Errorf("column %s: only string columns, and integer columns coded 1..k, can be coded", c.Name)
			}
			cols[i].codes = codeIndex(c)
		}
	}
	return parquet.NewSchema(t.Name, orderedGroup(fields)), cols, nil
}

// orderedGroup is a Parquet group whose fields keep the order given:
// parquet.Group is a map and sorts its fields by name, which would
// scramble a table's columns.
type orderedGroup []parquet.Field

func (g orderedGroup) ID() int                         { return 0 }
func (g orderedGroup) String() string                  { return parquet.Group(g.byName()).String() }
func (g orderedGroup) Type() parquet.Type              { return parquet.Group{}.Type() }
func (g orderedGroup) Optional() bool                  { return false }
func (g orderedGroup) Repeated() bool                  { return false }
func (g orderedGroup) Required() bool                  { return true }
func (g orderedGroup) Leaf() bool                      { return false }
func (g orderedGroup) Fields() []parquet.Field         { return g }
func (g orderedGroup) Encoding() encoding.Encoding     { return nil }
func (g orderedGroup) Compression() compress.Codec     { return nil }
func (g orderedGroup) GoType() reflect.Type            { return parquet.Group(g.byName()).GoType() }
func (g orderedGroup) byName() map[string]parquet.Node { return groupOf(g) }

func groupOf(fields []parquet.Field) map[string]parquet.Node {
	m := make(map[string]parquet.Node, len(fields))
	for _, f := range fields {
		m[f.Name()] = f
	}
	return m
}

// orderedField names a column of an orderedGroup. Rows are written as
// parquet.Row values, never from Go structs, so Value is not used; it
// answers as a map-backed group would.
type orderedField struct {
	parquet.Node
	name string
}

func (f orderedField) Name() string { return f.name }

func (f orderedField) Value(base reflect.Value) reflect.Value {
	if base.Kind() == reflect.Map {
		return base.MapIndex(reflect.ValueOf(f.name))
	}
	return reflect.Value{}
}
