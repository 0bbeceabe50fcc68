package research

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
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
			if c.Type != TypeString {
				return nil, fmt.Errorf("column %s: only string columns can be coded", c.Name)
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

// writeDTAFile writes the sections in their order. Every section before
// the data is built in memory first, so the map of offsets can be
// written ahead of them; the data and strls sections stream from the
// spool.
func writeDTAFile(ctx context.Context, w io.Writer, t Table, vars []*dtaVar, sp *spool) error {
	var rowWidth, strls int64
	for _, v := range vars {
		rowWidth += int64(v.width)
		if v.typ == dtaStrL {
			strls += v.strlBytes
		}
	}
	header := dtaHeader(t, len(vars), sp.rows)
	mapLen := int64(len("<map>") + 14*8 + len("</map>"))
	sections := [][]byte{
		dtaTypes(vars), dtaFixed("varnames", vars, dtaNameLen, func(v *dtaVar) string { return v.col.Name }),
		dtaSortlist(len(vars)), dtaFixed("formats", vars, dtaFormatLen, (*dtaVar).format),
		dtaFixed("value_label_names", vars, dtaNameLen, func(v *dtaVar) string {
			if v.coded() {
				return v.col.Name
			}
			return ""
		}),
		dtaFixed("variable_labels", vars, dtaLabelLen, func(v *dtaVar) string { return truncateRunes(v.col.Label, dtaLabelChars) }),
		dtaCharacteristics(t),
	}
	labels := dtaValueLabels(vars)

	// The map: <stata_dta>, <map>, the seven sections, <data>, <strls>,
	// <value_labels>, </stata_dta>, end of file.
	offsets := make([]int64, 0, 14)
	at := int64(len(header))
	offsets = append(offsets, 0, at)
	at += mapLen
	for _, s := range sections {
		offsets = append(offsets, at)
		at += int64(len(s))
	}
	offsets = append(offsets, at) // <data>
	at += int64(len("<data></data>")) + rowWidth*int64(sp.rows)
	offsets = append(offsets, at) // <strls>
	at += int64(len("<strls></strls>")) + strls
	offsets = append(offsets, at) // <value_labels>
	at += int64(len(labels))
	offsets = append(offsets, at) // </stata_dta>
	at += int64(len("</stata_dta>"))
	offsets = append(offsets, at)

	cw := &countingWriter{w: w}
	bw := bufio.NewWriterSize(cw, 64<<10)
	bw.Write(header)
	bw.WriteString("<map>")
	for _, o := range offsets {
		bw.Write(binary.LittleEndian.AppendUint64(nil, uint64(o)))
	}
	bw.WriteString("</map>")
	for _, s := range sections {
		bw.Write(s)
	}
	bw.WriteString("<data>")
	if err := dtaData(ctx, bw, vars, sp, int(rowWidth)); err != nil {
		return err
	}
	bw.WriteString("</data><strls>")
	if strls > 0 {
		if err := dtaStrLs(ctx, bw, vars, sp); err != nil {
			return err
		}
	}
	bw.WriteString("</strls>")
	bw.Write(labels)
	bw.WriteString("</stata_dta>")
	if err := bw.Flush(); err != nil {
		return err
	}
	if cw.n != at {
		return fmt.Errorf("stata writer: wrote %d bytes where the map says %d", cw.n, at)
	}
	return nil
}

// dtaHeader is <stata_dta><header>…</header>.
func dtaHeader(t Table, k, n int) []byte {
	var b bytes.Buffer
	b.WriteString("<stata_dta><header><release>118</release><byteorder>LSF</byteorder><K>")
	b.Write(binary.LittleEndian.AppendUint16(nil, uint16(k)))
	b.WriteString("</K><N>")
	b.Write(binary.LittleEndian.AppendUint64(nil, uint64(n)))
	b.WriteString("</N><label>")
	label := truncateRunes(t.Title, dtaLabelChars)
	b.Write(binary.LittleEndian.AppendUint16(nil, uint16(len(label))))
	b.WriteString(label)
	// An empty timestamp (length 0): the same rows give the same bytes.
	b.WriteString("</label><timestamp>\x00</timestamp></header>")
	return b.Bytes()
}

func dtaTypes(vars []*dtaVar) []byte {
	b := []byte("<variable_types>")
	for _, v := range vars {
		b = binary.LittleEndian.AppendUint16(b, v.typ)
	}
	return append(b, "</variable_types>"...)
}

// dtaSortlist says the data are sorted by nothing: K+1 zeros.
func dtaSortlist(k int) []byte {
	b := []byte("<sortlist>")
	b = append(b, make([]byte, 2*(k+1))...)
	return append(b, "</sortlist>"...)
}

// dtaFixed is a section of one NUL-padded text of size bytes per
// variable.
func dtaFixed(tag string, vars []*dtaVar, size int, text func(*dtaVar) string) []byte {
	b := []byte("<" + tag + ">")
	for _, v := range vars {
		b = appendFixed(b, text(v), size)
	}
	return append(b, "</"+tag+">"...)
}

// appendFixed appends s cut to size-1 bytes (at a character boundary)
// and NUL-padded to size bytes.
func appendFixed(b []byte, s string, size int) []byte {
	s = truncateBytes(s, size-1)
	b = append(b, s...)
	return append(b, make([]byte, size-len(s))...)
}

// dtaCharacteristics carries what variable labels cannot hold: the
// bokmål labels and the descriptions, as Stata's notes (note0 = their
// count, note1 English, note2 bokmål) and a label_nb characteristic.
func dtaCharacteristics(t Table) []byte {
	b := []byte("<characteristics>")
	ch := func(varname, name, contents string) {
		if contents == "" {
			return
		}
		contents = truncateBytes(contents, 67783)
		b = append(b, "<ch>"...)
		b = binary.LittleEndian.AppendUint32(b, uint32(2*dtaNameLen+len(contents)+1))
		b = appendFixed(b, varname, dtaNameLen)
		b = appendFixed(b, name, dtaNameLen)
		b = append(b, contents...)
		b = append(b, 0)
		b = append(b, "</ch>"...)
	}
	notes := func(varname, en, nb string) {
		var n []string
		for _, s := range []string{en, nb} {
			if s != "" {
				n = append(n, s)
			}
		}
		if len(n) == 0 {
			return
		}
		ch(varname, "note0", strconv.Itoa(len(n)))
		for i, s := range n {
			ch(varname, "note"+strconv.Itoa(i+1), s)
		}
	}
	notes("_dta", t.Description, t.DescriptionNB)
	ch("_dta", "title_nb", t.TitleNB)
	for _, c := range t.Columns {
		notes(c.Name, c.Description, c.DescriptionNB)
		ch(c.Name, "label_nb", c.LabelNB)
		if c.Unit != "" {
			ch(c.Name, "unit", c.Unit)
		}
	}
	return append(b, "</characteristics>"...)
}

// dtaValueLabels is the value label set of each coded column, named
// after it: 1..k to the English labels of its Values.
func dtaValueLabels(vars []*dtaVar) []byte {
	b := []byte("<value_labels>")
	for _, v := range vars {
		if !v.coded() {
			continue
		}
		var txt []byte
		offs := make([]uint32, len(v.col.Values))
		for i, val := range v.col.Values {
			offs[i] = uint32(len(txt))
			label := val.Label
			if label == "" {
				label = val.Code
			}
			txt = append(txt, truncateBytes(label, 32000)...)
			txt = append(txt, 0)
		}
		n := len(v.col.Values)
		b = append(b, "<lbl>"...)
		b = binary.LittleEndian.AppendUint32(b, uint32(8+8*n+len(txt)))
		b = appendFixed(b, v.col.Name, dtaNameLen)
		b = append(b, 0, 0, 0) // padding
		b = binary.LittleEndian.AppendUint32(b, uint32(n))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(txt)))
		for _, o := range offs {
			b = binary.LittleEndian.AppendUint32(b, o)
		}
		for i := range n {
			b = binary.LittleEndian.AppendUint32(b, uint32(i+1))
		}
		b = append(b, txt...)
		b = append(b, "</lbl>"...)
	}
	return append(b, "</value_labels>"...)
}

// dtaData writes the rows. The cells were checked while spooling.
func dtaData(ctx context.Context, w io.Writer, vars []*dtaVar, sp *spool, width int) error {
	rec := make([]byte, width)
	return sp.each(func(i int, row []string) error {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		b := rec[:0]
		for c, v := range vars {
			b = v.appendCell(b, row[c], c, i)
		}
		_, err := w.Write(b)
		return err
	})
}

// appendCell appends the stored form of a cell of variable number c
// (0-based) in row i (0-based).
func (v *dtaVar) appendCell(b []byte, s string, c, i int) []byte {
	le := binary.LittleEndian
	switch {
	case v.typ == dtaStrL:
		if s == "" {
			return append(b, make([]byte, 8)...) // (v, o) = (0, 0): ""
		}
		// (v, o): the variable (2 bytes) and observation (6 bytes), 1-based.
		return le.AppendUint64(b, uint64(c+1)|uint64(i+1)<<16)
	case v.col.Type == TypeString && !v.coded():
		b = append(b, s...)
		return append(b, make([]byte, v.width-len(s))...)
	case s == "":
		switch v.typ {
		case dtaByte:
			return append(b, dtaMissingByte)
		case dtaLong:
			return le.AppendUint32(b, dtaMissingLong)
		}
		return le.AppendUint64(b, dtaMissingDouble)
	case v.coded():
		return le.AppendUint32(b, uint32(v.codes[s]))
	case v.col.Type == TypeBoolean:
		if s == "1" {
			return append(b, 1)
		}
		return append(b, 0)
	case v.col.Type == TypeDate:
		d, _ := parseDate(0, v.col, s)
		return le.AppendUint32(b, uint32(int32(d-dtaEpoch)))
	case v.col.Type == TypeInteger && v.typ == dtaLong:
		n, _ := strconv.ParseInt(s, 10, 64)
		return le.AppendUint32(b, uint32(int32(n)))
	case v.col.Type == TypeInteger:
		n, _ := strconv.ParseInt(s, 10, 64)
		return le.AppendUint64(b, math.Float64bits(float64(n)))
	}
	f, _ := strconv.ParseFloat(s, 64)
	return le.AppendUint64(b, math.Float64bits(f))
}

// dtaStrLs writes one GSO entry per non-empty strL cell, in the order of
// the data: "GSO", v, o, type 130 (text), length with the NUL, text, NUL.
func dtaStrLs(ctx context.Context, w io.Writer, vars []*dtaVar, sp *spool) error {
	var head []byte
	le := binary.LittleEndian
	return sp.each(func(i int, row []string) error {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		for c, v := range vars {
			if v.typ != dtaStrL || row[c] == "" {
				continue
			}
			head = append(head[:0], "GSO"...)
			head = le.AppendUint32(head, uint32(c+1))
			head = le.AppendUint64(head, uint64(i+1))
			head = append(head, dtaGSOText)
			head = le.AppendUint32(head, uint32(len(row[c])+1))
			if _, err := w.Write(head); err != nil {
				return err
			}
			if _, err := io.WriteString(w, row[c]); err != nil {
				return err
			}
			if _, err := w.Write([]byte{0}); err != nil {
				return err
			}
		}
		return nil
	})
}

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// truncateBytes cuts s to at most n bytes without splitting a character.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
