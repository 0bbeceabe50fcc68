package research

// The layout of a .dta file of format 118: its sections, byte for byte,
// from the variables that format_dta.go measured and decided.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

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
