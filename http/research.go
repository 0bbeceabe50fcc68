package http

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/research"
)

// Headers of the research exports. The SHA-256 of the body can only be
// known once it has been streamed, so it comes as an HTTP trailer.
const (
	headerPosition = "X-Samspill-Position"
	headerAsOf     = "X-Samspill-As-Of"
	headerKnownAt  = "X-Samspill-Known-At"
	headerProject  = "X-Samspill-Project"
	headerVersion  = "X-Samspill-Version"
	trailerSHA256  = "X-Samspill-Sha256"
)

// exportEvents streams GET /research/events.ndjson.
func (s *Server) exportEvents(c *gin.Context) {
	s.serveResearchFile(c, research.KindEvents, research.FormatNDJSON, s.bearerRecheck(c))
}

// exportSpells streams GET /research/spells.csv, the spec's route: the
// spells export in CSV, as GET /research/{file} serves it.
func (s *Server) exportSpells(c *gin.Context) {
	s.serveResearchFile(c, research.KindSpells, research.FormatCSV, s.bearerRecheck(c))
}

// exportFile streams GET /research/{file}: any export of
// research.Exports() in any of its formats, "spells.dta",
// "panel.parquet", ...
func (s *Server) exportFile(c *gin.Context) {
	export, format := splitFile(c.Param("file"))
	s.serveResearchFile(c, export, format, s.bearerRecheck(c))
}

// splitFile cuts "spells.dta" into the export and the format.
func splitFile(file string) (export, format string) {
	i := strings.LastIndexByte(file, '.')
	if i < 0 {
		return file, ""
	}
	return file[:i], file[i+1:]
}

// ServeResearchFile answers GET of a research file ("spells.dta",
// "events.ndjson"), its "manifest.json" or its "datapackage.json", with
// the API routes' query parameters, to a principal another front door has
// authenticated and set (edge.SetPrincipal): the pages, for a browser's
// sign-in session. again authenticates that credential anew while a file
// streams, so that a session that ends ends the download. The bytes,
// headers and failures are the API's: the same handlers answer.
func (s *Server) ServeResearchFile(c *gin.Context, file string, again func(context.Context) (auth.Principal, error)) {
	if !principal(c).MayExport() {
		s.fail(c, fmt.Errorf("%w: the %s role may not take research exports", auth.ErrForbidden, principal(c).Role))
		return
	}
	switch file {
	case "manifest.json":
		s.exportManifest(c)
	case "datapackage.json":
		s.exportDataPackage(c)
	default:
		export, format := splitFile(file)
		s.serveResearchFile(c, export, format, again)
	}
}

// ResearchHead is the position a research file taken now reads up to.
func (s *Server) ResearchHead(ctx context.Context) (uint64, error) {
	return research.Position(ctx, s.store, 0)
}

// ResearchVersion is the samspill version research files and their
// citations name.
func (s *Server) ResearchVersion() string { return s.version }

// serveResearchFile answers a research file: 404 for an export or format
// samspill does not write, 400 naming every bad parameter, else the file.
func (s *Server) serveResearchFile(c *gin.Context, export, format string, again recheck) {
	if err := (research.File{Export: export, Format: format}).Check(); err != nil {
		writeProblem(c, Problem{Type: typeNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: err.Error()})
		return
	}
	f, _, ok := s.researchFile(c, export, format)
	if !ok {
		return
	}
	s.download(c, f, again)
}

// exportManifest answers GET /research/manifest.json: the ExportManifest
// of the file the query names (export, format and the file's parameters).
// Without at_position it pins the head at the time of the request, and
// the manifest's file name and citation carry that position, so that the
// file it names can be downloaded again byte for byte. The SHA-256 needs
// the file: it is written, to a hash only.
func (s *Server) exportManifest(c *gin.Context) {
	f, by, ok := s.researchFileOfQuery(c)
	if !ok {
		return
	}
	m, ok := s.manifest(c, f, by)
	if !ok {
		return
	}
	c.Header(headerVersion, s.version)
	c.JSON(http.StatusOK, m)
}

// exportDataPackage answers GET /research/datapackage.json: the
// Frictionless Data Package of the file the query names, its codebook
// for machines (research.DataPackage).
func (s *Server) exportDataPackage(c *gin.Context) {
	f, by, ok := s.researchFileOfQuery(c)
	if !ok {
		return
	}
	m, ok := s.manifest(c, f, by)
	if !ok {
		return
	}
	tables, err := f.Tables(c.Request.Context(), s.store)
	if err != nil {
		s.fail(c, err)
		return
	}
	b, err := research.DataPackage(m, tables)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header(headerVersion, s.version)
	c.Data(http.StatusOK, "application/json", b)
}

// manifest writes the file to a hash and describes it.
func (s *Server) manifest(c *gin.Context, f research.File, by research.Citing) (research.ExportManifest, bool) {
	sum, err := f.Write(c.Request.Context(), s.store, io.Discard, s.researchSecret)
	if errors.Is(err, research.ErrFormat) {
		writeProblem(c, Problem{Type: typeNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: err.Error()})
		return research.ExportManifest{}, false
	}
	if err != nil {
		s.fail(c, err)
		return research.ExportManifest{}, false
	}
	return f.Manifest(sum, s.version, by), true
}

// researchFileOfQuery reads the file of a manifest or data package from
// the query: export (required) and format (default: the export's first).
func (s *Server) researchFileOfQuery(c *gin.Context) (research.File, research.Citing, bool) {
	export, format := c.Query("export"), c.Query("format")
	formats := research.FormatsOf(export)
	var bad error
	switch {
	case formats == nil:
		bad = edge.FieldError("export", "must be one of %s", strings.Join(research.ExportNames(), ", "))
	case format == "":
		format = formats[0]
	case !slices.Contains(formats, format):
		bad = edge.FieldError("format", "must be one of %s for %s", strings.Join(formats, ", "), export)
	}
	if bad != nil {
		s.fail(c, bad)
		return research.File{}, research.Citing{}, false
	}
	return s.researchFile(c, export, format)
}

// researchFile reads a file's parameters from the query (at_position,
// as_of, known_at, project) and fixes them: the position (the head if
// not given), the censoring date (today if not given), the keys (the
// project's, or one-off). It answers the problem itself and reports false
// on bad input or a project the principal is not granted.
func (s *Server) researchFile(c *gin.Context, export, format string) (research.File, research.Citing, bool) {
	q := queryParams{c: c}
	at := q.position("at_position")
	asOf := q.instant("as_of", func(v string) (time.Time, error) {
		return time.ParseInLocation(time.DateOnly, v, calendar.Oslo)
	})
	knownAt := q.instant("known_at", calendar.ParseCutoff)
	project, withProject := c.GetQuery("project")
	if withProject && project == "" {
		q.invalid("project", "must name a research project; leave it out for one-off pseudonyms")
	}
	if asOf != nil && export == research.KindEvents {
		q.invalid("as_of", "applies to the tabular exports only; events are every event up to the position")
	}
	f := research.File{Export: export, Format: format, KnownAt: knownAt}
	responsesParams(&q, &f)
	if err := q.err(); err != nil {
		s.fail(c, err)
		return research.File{}, research.Citing{}, false
	}
	now := s.now()
	if export != research.KindEvents {
		today := calendar.Day(now)
		f.AsOf = today
		if asOf != nil {
			f.AsOf = calendar.Day(*asOf)
		}
		if err := research.CheckAsOf(f.AsOf, today); err != nil {
			s.fail(c, edge.FieldError("as_of", "must not be after today (%s, Europe/Oslo): days not yet observed cannot count as survival", today))
			return research.File{}, research.Citing{}, false
		}
	}
	if knownAt != nil {
		if err := research.CheckKnownAt(*knownAt, now); err != nil {
			s.fail(c, edge.FieldError("known_at", "must not be after now (%s): what will be recorded later is not known yet", now.UTC().Format(time.RFC3339)))
			return research.File{}, research.Citing{}, false
		}
	}
	var by research.Citing
	if withProject {
		keys, municipalities, p, ok := s.projectScope(c, project)
		if !ok {
			return research.File{}, research.Citing{}, false
		}
		f.Keys, f.Municipalities = keys, municipalities
		by.Institution, by.ProjectName = p.Institution, p.Name
	}
	position, ok := s.exportPosition(c, at)
	if !ok {
		return research.File{}, research.Citing{}, false
	}
	f.Position = position
	if !withProject {
		f.Keys = f.OneOffKeys(s.researchSecret)
	}
	if !s.checkWave(c, f) {
		return research.File{}, research.Citing{}, false
	}
	by.BaseURL = edge.BaseURL(c)
	return f, by, true
}

// exportPosition fixes the position an export reads up to: at_position, or
// the head now.
func (s *Server) exportPosition(c *gin.Context, at uint64) (uint64, bool) {
	position, err := research.Position(c.Request.Context(), s.store, at)
	if errors.Is(err, research.ErrPositionAhead) {
		err = edge.FieldError("at_position", "is beyond the newest event; an export of the future could still change")
	}
	if err != nil {
		s.fail(c, err)
		return 0, false
	}
	return position, true
}

// download answers with the file, gzip-compressed when the client accepts
// it. The headers name what the body is reproducible from; the trailer
// carries the SHA-256 of the uncompressed body. An export that fails once
// its first bytes are out aborts the connection, so that a client never
// takes a truncated file for a whole one; so does one whose credential is
// revoked while it runs (watchCredential).
func (s *Server) download(c *gin.Context, f research.File, again recheck) {
	ctx, stop := s.watchCredential(c, again)
	defer stop()
	h := c.Writer.Header()
	h.Set("Content-Type", research.MediaType(f.Format))
	h.Set("Content-Disposition", `attachment; filename="`+f.Name()+`"`)
	h.Set(headerPosition, strconv.FormatUint(f.Position, 10))
	if f.AsOf != "" {
		h.Set(headerAsOf, f.AsOf)
	}
	if f.KnownAt != nil {
		h.Set(headerKnownAt, f.KnownAt.UTC().Format(time.RFC3339Nano))
	}
	if f.Keys.Project != "" {
		h.Set(headerProject, f.Keys.Project)
	}
	h.Set(headerVersion, s.version)
	h.Set("Trailer", trailerSHA256)
	h.Add("Vary", "Accept-Encoding")
	var w io.Writer = c.Writer
	var gz *gzip.Writer
	if acceptsGzip(c.Request) {
		h.Set("Content-Encoding", "gzip")
		gz, _ = gzip.NewWriterLevel(c.Writer, gzip.BestSpeed)
		w = gz
	}
	c.Status(http.StatusOK)
	sum, err := f.Write(ctx, s.store, w, s.researchSecret)
	if err == nil && gz != nil {
		err = gz.Close()
	}
	if err != nil {
		if !errors.Is(context.Cause(ctx), errCredentialChanged) {
			s.log.ErrorContext(ctx, "research export failed", "path", c.FullPath(), "position", f.Position, "err", err)
		}
		panic(http.ErrAbortHandler)
	}
	h.Set(trailerSHA256, sum.SHA256)
}

// acceptsGzip reports whether the request accepts a gzip body.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0" {
			return true
		}
	}
	return false
}
