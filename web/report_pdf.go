package web

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/internal/pdfprint"
)

// reportPDF renders the report page's own content, in a document of its
// own with the style sheet inline and no script (report_doc.html), to PDF
// through headless Chromium. Without Chromium, or with every rendering
// slot taken, the answer is a 503 page that says to print the page from
// the browser, which gives the same A4 layout.
func (p *Pages) reportPDF(c *gin.Context, page *reportPage) {
	l := loc(c)
	back := reportPath(page.Project.ID, page.Code) + "?audience=" + page.Audience
	if !p.reports.Printer.Available() {
		p.errorPageBack(c, http.StatusServiceUnavailable, l.T("report.pdf.unavailable"), back)
		return
	}
	page.Print = true
	page.L = l
	page.StyleSheet = template.CSS(assets["style.css"].body)
	var doc bytes.Buffer
	if err := pageTemplates["report_doc"].ExecuteTemplate(&doc, "layout", page); err != nil {
		p.fail(c, err)
		return
	}
	pdf, err := p.reports.Printer.Print(c.Request.Context(), doc.Bytes())
	switch {
	case errors.Is(err, pdfprint.ErrBusy), errors.Is(err, pdfprint.ErrNoChromium):
		c.Header("Retry-After", "30")
		p.errorPageBack(c, http.StatusServiceUnavailable, l.T("report.pdf.busy"), back)
		return
	case err != nil:
		p.log.ErrorContext(c.Request.Context(), "report PDF", "project", page.Project.ID, "err", err)
		p.errorPageBack(c, http.StatusInternalServerError, l.T("report.pdf.failed"), back)
		return
	}
	c.Header("Cache-Control", "no-store")
	// The project id is a slug and the code digits: nothing to quote.
	c.Header("Content-Disposition", `attachment; filename="samspill-`+page.Project.ID+"-"+page.Code+"-"+page.Audience+`.pdf"`)
	c.Data(http.StatusOK, "application/pdf", pdf)
}
