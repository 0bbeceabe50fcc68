package research

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// spool keeps a table's rows in a temporary file, so that a writer that
// must know every row before its first byte (Stata's header holds the
// row count and each string's width) can read them again without holding
// an export in memory. Cells are stored as a length (uvarint) and the
// bytes, so any text survives unchanged, line breaks and all. Not safe
// for concurrent use.
type spool struct {
	f    *os.File
	w    *bufio.Writer
	r    *bufio.Reader
	cols int
	rows int
	buf  []byte
}

// newSpool creates the temporary file of rows of cols cells.
func newSpool(cols int) (*spool, error) {
	f, err := os.CreateTemp("", "samspill-export-*.rows")
	if err != nil {
		return nil, fmt.Errorf("create the rows' temporary file: %w", err)
	}
	return &spool{f: f, w: bufio.NewWriterSize(f, 64<<10), cols: cols}, nil
}

// add appends a row.
func (s *spool) add(row []string) error {
	if len(row) != s.cols {
		return fmt.Errorf("row %d has %d cells, the table %d columns", s.rows+1, len(row), s.cols)
	}
	s.buf = s.buf[:0]
	for _, c := range row {
		s.buf = binary.AppendUvarint(s.buf, uint64(len(c)))
		s.buf = append(s.buf, c...)
	}
	s.rows++
	_, err := s.w.Write(s.buf)
	return err
}

// each calls fn with every row in the order they were added (row is
// reused between calls), from the start of the file each time it is
// called.
func (s *spool) each(fn func(i int, row []string) error) error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("write the rows' temporary file: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind the rows' temporary file: %w", err)
	}
	if s.r == nil {
		s.r = bufio.NewReaderSize(s.f, 64<<10)
	} else {
		s.r.Reset(s.f)
	}
	row := make([]string, s.cols)
	for i := range s.rows {
		for c := range row {
			n, err := binary.ReadUvarint(s.r)
			if err != nil {
				return fmt.Errorf("read the rows' temporary file: %w", unexpected(err))
			}
			if cap(s.buf) < int(n) {
				s.buf = make([]byte, n)
			}
			b := s.buf[:n]
			if _, err := io.ReadFull(s.r, b); err != nil {
				return fmt.Errorf("read the rows' temporary file: %w", unexpected(err))
			}
			row[c] = string(b)
		}
		if err := fn(i, row); err != nil {
			return err
		}
	}
	return nil
}

// close removes the temporary file.
func (s *spool) close() error {
	return errors.Join(s.f.Close(), os.Remove(s.f.Name()))
}

// unexpected turns io.EOF in the middle of a row into ErrUnexpectedEOF.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
