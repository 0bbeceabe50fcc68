package research

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// The Stata writer writes .dta format 118 (Stata 14 and later), as
// documented in Stata's "help dta": tagged sections in a fixed order, a
// map of their byte offsets near the start, little-endian numbers (LSF)
// and UTF-8 text. Its choices:
//
//   - integer → long, or double when a value is outside long's range
//     (exact up to 2^53; beyond that the cell is refused);
//     number → double; boolean → byte 0/1; date → long days since
//     1960-01-01 with format %td;
//   - a coded column (one with Values) → long coded 1..k in Values
//     order, with a value label set of the same name holding the English
//     labels, so `tab` reads well; the codebook lists the coding;
//   - string → strN with N the longest value in bytes (at least 1), or
//     strL when a value is longer than 2045 bytes;
//   - "" in a numeric column → system missing (.);
//   - variable labels are the columns' English labels (≤ 80 characters),
//     the bokmål label and the descriptions travel as characteristics
//     (`char list`, `notes`): label_nb, note1 (English), note2 (bokmål);
//   - the timestamp is left empty, so the bytes depend on the rows only.
//
// Stata wants the row count and every string's width in the header, so
// the rows are first spooled to a temporary file, then written.

// Stata storage types (variable_types) and limits of format 118.
const (
	dtaStrL   uint16 = 32768
	dtaDouble uint16 = 65526
	dtaLong   uint16 = 65528
	dtaByte   uint16 = 65530

	dtaMaxStrN       = 2045
	dtaMaxVars       = 32767
	dtaMinLong       = -2147483647
	dtaMaxLong       = 2147483620
	dtaMissingByte   = 101
	dtaMissingLong   = 0x7fffffe5
	dtaMissingDouble = 0x7fe0000000000000
	dtaMaxExact      = 1 << 53
	// dtaEpoch is 1960-01-01, Stata's day 0, in days since 1970-01-01.
	dtaEpoch = -3653

	dtaNameLen    = 129 // 32 characters of up to 4 bytes, and a NUL
	dtaFormatLen  = 57
	dtaLabelLen   = 321 // 80 characters of up to 4 bytes, and a NUL
	dtaLabelChars = 80
	dtaGSOHeader  = 3 + 4 + 8 + 1 + 4 // "GSO", v, o, t, len
	dtaGSOText    = 130               // a strL of text with its NUL
)

// dtaName is a Stata variable name: a letter or _, then letters, digits
// or _, at most 32 characters.
var dtaName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,31}$`)

// dtaReserved are the words Stata refuses as variable names.
var dtaReserved = map[string]bool{
	"_all": true, "_b": true, "byte": true, "_coef": true, "_cons": true, "double": true, "float": true,
	"if": true, "in": true, "int": true, "long": true, "_n": true, "_N": true, "_pi": true, "_pred": true,
	"_rc": true, "_skip": true, "strL": true, "using": true, "with": true,
}

var dtaStrNName = regexp.MustCompile(`^str[0-9]+$`)

// dtaVar is one column as Stata stores it.
type dtaVar struct {
	col   Column
	codes map[string]int32 // coded columns: code → 1..k
	// Measured while spooling.
	maxLen     int   // longest string in bytes
	strlBytes  int64 // the strls section's bytes if the column is strL
	minI, maxI int64 // range of an integer column
	seenI      bool
	// Decided after spooling.
	typ   uint16
	width int // bytes in a row
}

func (v *dtaVar) coded() bool { return len(v.col.Values) > 0 }

// writeDTA spools the rows, then writes the .dta to w.
func writeDTA(ctx context.Context, w io.Writer, t Table, rows Rows) (int, error) {
	vars, err := dtaVars(t)
	if err != nil {
		return 0, err
	}
	sp, err := newSpool(len(vars))
	if err != nil {
		return 0, err
	}
	defer sp.close()
	n := 0
	err = rows(ctx, func(row []string) error {
		n++
		if len(row) != len(vars) {
			return fmt.Errorf("%w: row %d has %d cells, the table %d columns", ErrCell, n, len(row), len(vars))
		}
		for i, v := range vars {
			if err := v.measure(n, row[i]); err != nil {
				return err
			}
		}
		return sp.add(row)
	})
	if err != nil {
		return 0, err
	}
	for _, v := range vars {
		if err := v.decide(); err != nil {
			return 0, err
		}
	}
	return n, writeDTAFile(ctx, w, t, vars, sp)
}

// dtaVars checks the column names and numbers the codes.
func dtaVars(t Table) ([]*dtaVar, error) {
	if len(t.Columns) > dtaMaxVars {
		return nil, fmt.Errorf("stata holds at most %d variables, the table has %d", dtaMaxVars, len(t.Columns))
	}
	vars := make([]*dtaVar, len(t.Columns))
	for i, c := range t.Columns {
		if !dtaName.MatchString(c.Name) || dtaReserved[c.Name] || dtaStrNName.MatchString(c.Name) {
			return nil, fmt.Errorf("column %q is not a Stata variable name (a letter or _, then letters, digits or _, at most 32, no reserved word)", c.Name)
		}
		v := &dtaVar{col: c}
		if len(c.Values) > 0 {
			if c.Type != TypeString && !(c.Type == TypeInteger && scaleCodes(c)) {
				return nil, fmt.Errorf("column %s: only string columns, and integer columns coded 1..k, can be coded", c.Name)
			}
			v.codes = codeIndex(c)
		}
		vars[i] = v
	}
	return vars, nil
}

// measure checks a cell (row is 1-based) and records what the header
// will need.
func (v *dtaVar) measure(row int, s string) error {
	if m, err := missing(row, v.col, s); m || err != nil {
		return err
	}
	switch {
	case v.coded():
		if v.codes[s] == 0 {
			return cellError(row, v.col, s, "is not one of the column's codes")
		}
	case v.col.Type == TypeString:
		if err := checkText(row, v.col, s); err != nil {
			return err
		}
		if strings.IndexByte(s, 0) >= 0 {
			return cellError(row, v.col, s, "holds a NUL character, which Stata strings cannot")
		}
		v.maxLen = max(v.maxLen, len(s))
		v.strlBytes += int64(dtaGSOHeader + len(s) + 1)
	case v.col.Type == TypeInteger:
		i, err := parseInteger(row, v.col, s)
		if err != nil {
			return err
		}
		if !v.seenI {
			v.minI, v.maxI, v.seenI = i, i, true
		}
		v.minI, v.maxI = min(v.minI, i), max(v.maxI, i)
	case v.col.Type == TypeNumber:
		if _, err := parseNumber(row, v.col, s); err != nil {
			return err
		}
	case v.col.Type == TypeBoolean:
		if _, err := parseBoolean(row, v.col, s); err != nil {
			return err
		}
	case v.col.Type == TypeDate:
		if _, err := parseDate(row, v.col, s); err != nil {
			return err
		}
	default:
		return fmt.Errorf("column %s: unknown type %q", v.col.Name, v.col.Type)
	}
	return nil
}

// decide chooses the storage type once every value has been seen.
func (v *dtaVar) decide() error {
	switch {
	case v.coded(), v.col.Type == TypeDate:
		v.typ, v.width = dtaLong, 4
	case v.col.Type == TypeString && v.maxLen > dtaMaxStrN:
		v.typ, v.width = dtaStrL, 8
	case v.col.Type == TypeString:
		v.typ = uint16(max(v.maxLen, 1))
		v.width = int(v.typ)
	case v.col.Type == TypeInteger && (v.minI < dtaMinLong || v.maxI > dtaMaxLong):
		if v.minI < -dtaMaxExact || v.maxI > dtaMaxExact {
			return fmt.Errorf("%w: column %s holds %d to %d, beyond what Stata stores exactly (±2^53)", ErrCell, v.col.Name, v.minI, v.maxI)
		}
		v.typ, v.width = dtaDouble, 8
	case v.col.Type == TypeInteger:
		v.typ, v.width = dtaLong, 4
	case v.col.Type == TypeNumber:
		v.typ, v.width = dtaDouble, 8
	case v.col.Type == TypeBoolean:
		v.typ, v.width = dtaByte, 1
	}
	return nil
}

// format is the variable's display format.
func (v *dtaVar) format() string {
	switch {
	case v.col.Type == TypeDate:
		return "%td"
	case v.coded():
		return "%12.0g"
	case v.typ == dtaStrL:
		return "%9s"
	case v.col.Type == TypeString:
		return "%" + strconv.Itoa(min(v.width, 244)) + "s"
	case v.typ == dtaByte:
		return "%8.0g"
	case v.typ == dtaLong:
		return "%12.0g"
	}
	return "%10.0g"
}
