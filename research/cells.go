package research

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// ErrCell means a row holds a cell that its column's type cannot hold (a
// word in an integer column, a code outside a coded column's Values, a
// missing value in a Required column): the typed formats (Stata, Parquet)
// refuse to write it rather than guess.
var ErrCell = errors.New("cell does not fit its column")

// cellError says which cell of which row (1-based) is wrong and why.
func cellError(row int, c Column, value, why string) error {
	if len(value) > 40 {
		value = value[:40] + "…"
	}
	return fmt.Errorf("%w: row %d, column %s (%s): %q %s", ErrCell, row, c.Name, c.Type, value, why)
}

// missing reports whether a cell is a missing value, and fails for a
// missing value in a Required column.
func missing(row int, c Column, v string) (bool, error) {
	if v != "" {
		return false, nil
	}
	if c.Required {
		return true, cellError(row, c, v, "is missing in a required column")
	}
	return true, nil
}

// parseInteger reads an integer cell (base 10).
func parseInteger(row int, c Column, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, cellError(row, c, v, "is not a whole number")
	}
	return n, nil
}

// parseNumber reads a number cell ('.' as the decimal point); NaN and
// infinities are refused, as no format of a research file writes them
// the same way.
func parseNumber(row int, c Column, v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, cellError(row, c, v, "is not a finite number")
	}
	return f, nil
}

// parseBoolean reads a boolean cell: "1" or "0".
func parseBoolean(row int, c Column, v string) (bool, error) {
	switch v {
	case "1":
		return true, nil
	case "0":
		return false, nil
	}
	return false, cellError(row, c, v, `is not "1" or "0"`)
}

// parseDate reads a date cell (YYYY-MM-DD) as days since 1970-01-01.
func parseDate(row int, c Column, v string) (int64, error) {
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return 0, cellError(row, c, v, "is not a date YYYY-MM-DD")
	}
	return d.Unix() / 86400, nil
}

// checkText refuses text that is not UTF-8.
func checkText(row int, c Column, v string) error {
	if !utf8.ValidString(v) {
		return cellError(row, c, v, "is not UTF-8 text")
	}
	return nil
}

// codeIndex numbers a coded column's Values 1..k in their order: the
// Stata codes of the column.
func codeIndex(c Column) map[string]int32 {
	m := make(map[string]int32, len(c.Values))
	for i, v := range c.Values {
		m[v.Code] = int32(i + 1)
	}
	return m
}

// scaleCodes reports whether an integer column's Values are exactly
// "1".."k" in order, so that each number is its own code (a Likert
// scale's labelled points).
func scaleCodes(c Column) bool {
	for i, v := range c.Values {
		if v.Code != strconv.Itoa(i+1) {
			return false
		}
	}
	return len(c.Values) > 0
}
