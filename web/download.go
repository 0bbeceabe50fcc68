package web

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/unicode/norm"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/locale"
	"github.com/samspill/samspill/projections/summaries"
)

// A list's downloads: every partnership its form selects (all pages, in
// its order), as CSV or as an Excel workbook, named after the
// municipalities and the day. Both are written from one entry per
// partnership (listEntry) through one table of columns (downloadColumns),
// headed in the reader's language, with vocabulary values as the reader's
// labels. Contact persons are never in them: a summary's state holds none.
//
// The CSV is for a municipal employee who opens it in Excel, and for
// machines: UTF-8 with a byte order mark (without it Excel reads æ, ø and å
// as Windows-1252), fields separated by ";" (Norwegian Excel's list
// separator, since "," is its decimal comma: with "," it would put each row
// in one cell), CRLF line ends, days as YYYY-MM-DD (which Excel reads as
// dates in every locale) and kroner as plain whole numbers. A text cell
// that begins with =, +, - or @ gets a leading apostrophe, so that Excel
// shows it rather than run it as a formula. It is streamed from one query
// of the read model.
//
// The workbook has real cells: days as dates and kroner as numbers, shown
// in the reader's formats (07.12.2026, 290 000 kr), the municipality
// number as text (0301 keeps its zero), a frozen heading and a filter on
// every column. It is built in memory before it is sent, so it holds at
// most maxWorkbookRows partnerships; the page offers it only below that.

// maxWorkbookRows bounds the Excel download: ten thousand partnerships,
// far more than a municipality has (measured: a workbook of 0.47 MB, made
// in 0.2 s with 54 MB allocated along the way).
const maxWorkbookRows = 10_000

// cell is a value of a download.
type cell struct {
	kind cellKind
	text string
	// day is a calendar day (its date in Europe/Oslo).
	day    time.Time
	kroner int64
}

type cellKind int

const (
	cellText cellKind = iota
	cellDay
	cellKroner
)

func textCell(s string) cell { return cell{kind: cellText, text: s} }

// downloadColumn is a column of the downloads: its heading's message id,
// its width in the workbook (in characters) and its cell.
type downloadColumn struct {
	heading string
	width   float64
	cell    func(listEntry) cell
}

// downloadColumns are the downloads' columns, in order.
var downloadColumns = []downloadColumn{
	{"list.col.title", 40, func(e listEntry) cell { return textCell(e.Title) }},
	{"list.col.municipality", 16, func(e listEntry) cell { return textCell(kommune.Code(e.Code).Name()) }},
	{"list.col.municipality_code", 10, func(e listEntry) cell { return textCell(e.Code) }},
	{"list.col.partners", 40, func(e listEntry) cell { return textCell(strings.Join(e.Partners, "; ")) }},
	{"list.col.org_numbers", 22, func(e listEntry) cell { return textCell(strings.Join(e.OrgNumbers, "; ")) }},
	{"list.col.status", 12, func(e listEntry) cell { return textCell(e.StatusLabel) }},
	{"list.col.service_area", 22, func(e listEntry) cell { return textCell(e.ServiceArea) }},
	{"list.col.collaboration_model", 22, func(e listEntry) cell { return textCell(e.CollaborationModel) }},
	{"list.col.started", 12, func(e listEntry) cell { return cell{kind: cellDay, day: e.Started} }},
	{"list.col.ended", 12, func(e listEntry) cell {
		if e.Ended == nil {
			return textCell("")
		}
		return cell{kind: cellDay, day: *e.Ended}
	}},
	{"list.col.last_entry", 12, func(e listEntry) cell { return cell{kind: cellDay, day: e.LastEntry} }},
	{"list.col.funding_kr", 16, func(e listEntry) cell { return cell{kind: cellKroner, kroner: e.FundingNOK} }},
	{"list.col.id", 38, func(e listEntry) cell { return textCell(e.ID) }},
}

// downloadHeadings are the columns' headings in l's language.
func downloadHeadings(l *locale.Localizer) []string {
	out := make([]string, len(downloadColumns))
	for i, col := range downloadColumns {
		out[i] = l.T(col.heading)
	}
	return out
}

// fileName names a download of the scope made on day now: the word for
// partnerships, each municipality's name and code, and the day, in
// lower-case ASCII (samarbeid-arendal-4203-2026-11-26.csv).
func (s listScope) fileName(l *locale.Localizer, now time.Time, ext string) string {
	parts := []string{l.T("list.file")}
	for _, code := range s.codes {
		parts = append(parts, kommune.Code(code).Name(), code)
	}
	parts = append(parts, calendar.Day(now))
	return fileSlug(strings.Join(parts, "-")) + "." + ext
}

// fileSlug writes s in lower-case ASCII letters, digits and single dashes:
// æ as ae, ø as o, å as a, other letters without their accents.
func fileSlug(s string) string {
	s = strings.NewReplacer("æ", "ae", "Æ", "ae", "ø", "o", "Ø", "o", "å", "a", "Å", "a").Replace(s)
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case r < 0x80 && !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// attach sets the headers of a download called name.
func attach(c *gin.Context, contentType, name string) {
	h := c.Writer.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
}

// csvRecord is e's row of the CSV.
func csvRecord(e listEntry) []string {
	out := make([]string, len(downloadColumns))
	for i, col := range downloadColumns {
		switch c := col.cell(e); c.kind {
		case cellDay:
			out[i] = calendar.Day(c.day)
		case cellKroner:
			out[i] = strconv.FormatInt(c.kroner, 10)
		default:
			out[i] = inertText(c.text)
		}
	}
	return out
}

// inertText is text a spreadsheet shows as it is: one that begins as a
// formula would (=, +, - or @, or a tab or carriage return before one)
// gets a leading apostrophe.
func inertText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvFlushEvery is how many rows the CSV writes between flushes to the
// client.
const csvFlushEvery = 500

// downloadCSV streams the list as CSV. An error before the first byte is
// an error page; after it the download is cut off (the client sees it
// fail, never a short file that looks whole).
func (p *Pages) downloadCSV(c *gin.Context, s listScope, _ listForm, filter summaries.ListFilter) {
	ctx := c.Request.Context()
	l := loc(c)
	var w *csv.Writer
	begin := func() error {
		attach(c, "text/csv; charset=utf-8", s.fileName(l, p.now(), "csv"))
		c.Status(http.StatusOK)
		if _, err := io.WriteString(c.Writer, "\ufeff"); err != nil {
			return err
		}
		w = csv.NewWriter(c.Writer)
		w.Comma, w.UseCRLF = ';', true
		return w.Write(downloadHeadings(l))
	}
	rows := 0
	err := p.sums.Each(ctx, filter, func(st partnership.State) error {
		if w == nil {
			if err := begin(); err != nil {
				return err
			}
		}
		if err := w.Write(csvRecord(newListEntry(l, st))); err != nil {
			return err
		}
		if rows++; rows%csvFlushEvery == 0 {
			w.Flush()
			return w.Error()
		}
		return nil
	})
	if err == nil && w == nil {
		err = begin()
	}
	if err == nil {
		w.Flush()
		err = w.Error()
	}
	switch {
	case err != nil && w == nil:
		p.fail(c, err)
	case err != nil:
		p.log.ErrorContext(ctx, "list download failed", "path", c.FullPath(), "rows", rows, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// errTooManyRows stops a workbook at its bound.
var errTooManyRows = errors.New("too many rows for a workbook")

// downloadXLSX sends the list as an Excel workbook, or, when the form
// selects more than Pages.workbookRows partnerships, a 400 page that says
// so.
func (p *Pages) downloadXLSX(c *gin.Context, s listScope, f listForm, filter summaries.ListFilter) {
	ctx := c.Request.Context()
	l := loc(c)
	book, err := newWorkbook(l)
	if err != nil {
		p.fail(c, err)
		return
	}
	defer book.file.Close()
	filter.Limit = p.workbookRows + 1
	err = p.sums.Each(ctx, filter, func(st partnership.State) error {
		if book.rows == p.workbookRows {
			return errTooManyRows
		}
		return book.add(newListEntry(l, st))
	})
	if errors.Is(err, errTooManyRows) {
		count, cerr := p.sums.Count(ctx, filter)
		if cerr != nil {
			p.fail(c, cerr)
			return
		}
		p.errorPageBack(c, http.StatusBadRequest, l.T("list.download.too_many_page", "Count", l.Number(int64(count)), "Max", l.Number(int64(p.workbookRows))), f.link(s.path, ""))
		return
	}
	if err == nil {
		err = book.finish(l)
	}
	if err != nil {
		p.fail(c, err)
		return
	}
	attach(c, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", s.fileName(l, p.now(), "xlsx"))
	c.Status(http.StatusOK)
	if err := book.file.Write(c.Writer); err != nil {
		p.log.ErrorContext(ctx, "list download failed", "path", c.FullPath(), "rows", book.rows, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// workbook is an Excel workbook of one sheet being written: the heading,
// then a row per add.
type workbook struct {
	file  *excelize.File
	sheet *excelize.StreamWriter
	// Style ids of the heading, of days and of kroner.
	heading, day, kroner int
	rows                 int
}

// newWorkbook starts a workbook with its sheet named, its columns sized,
// its heading written and frozen, in l's language and formats.
func newWorkbook(l *locale.Localizer) (*workbook, error) {
	f := excelize.NewFile()
	b := &workbook{file: f}
	name := l.T("list.sheet")
	err := f.SetSheetName(f.GetSheetName(0), name)
	if err == nil {
		b.sheet, err = f.NewStreamWriter(name)
	}
	dayFormat, kronerFormat := l.T("list.xlsx.date_format"), l.T("list.xlsx.kroner_format")
	if err == nil {
		b.heading, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	}
	if err == nil {
		b.day, err = f.NewStyle(&excelize.Style{CustomNumFmt: &dayFormat})
	}
	if err == nil {
		b.kroner, err = f.NewStyle(&excelize.Style{CustomNumFmt: &kronerFormat})
	}
	for i, col := range downloadColumns {
		if err == nil {
			err = b.sheet.SetColWidth(i+1, i+1, col.width)
		}
	}
	if err == nil {
		err = b.sheet.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
	}
	if err == nil {
		headings := downloadHeadings(l)
		row := make([]any, len(headings))
		for i, h := range headings {
			row[i] = excelize.Cell{StyleID: b.heading, Value: h}
		}
		err = b.sheet.SetRow("A1", row)
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("start workbook: %w", err)
	}
	return b, nil
}

// add writes e's row.
func (b *workbook) add(e listEntry) error {
	row := make([]any, len(downloadColumns))
	for i, col := range downloadColumns {
		switch c := col.cell(e); c.kind {
		case cellDay:
			// A date cell holds a day, without a time zone: the day in
			// Europe/Oslo, as midnight.
			y, m, d := c.day.In(calendar.Oslo).Date()
			row[i] = excelize.Cell{StyleID: b.day, Value: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
		case cellKroner:
			row[i] = excelize.Cell{StyleID: b.kroner, Value: c.kroner}
		default:
			if c.text != "" {
				row[i] = c.text
			}
		}
	}
	b.rows++
	cellName, err := excelize.CoordinatesToCellName(1, b.rows+1)
	if err == nil {
		err = b.sheet.SetRow(cellName, row)
	}
	if err != nil {
		return fmt.Errorf("workbook row %d: %w", b.rows, err)
	}
	return nil
}

// finish puts a filter on every column and ends the sheet.
func (b *workbook) finish(l *locale.Localizer) error {
	last, err := excelize.CoordinatesToCellName(len(downloadColumns), b.rows+1)
	if err == nil && b.rows > 0 {
		err = b.sheet.AddTable(&excelize.Table{Range: "A1:" + last, Name: strings.ReplaceAll(l.T("list.sheet"), " ", "_"), StyleName: "TableStyleLight1"})
	}
	if err == nil {
		err = b.sheet.Flush()
	}
	if err != nil {
		return fmt.Errorf("finish workbook: %w", err)
	}
	return nil
}
