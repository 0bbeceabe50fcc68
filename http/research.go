package http

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/research"
)

// Headers of the research exports. The SHA-256 of the body can only be
// known once it has been streamed, so it comes as an HTTP trailer.
const (
	headerPosition = "X-Samspill-Position"
	headerAsOf     = "X-Samspill-As-Of"
	headerVersion  = "X-Samspill-Version"
	trailerSHA256  = "X-Samspill-Sha256"
)

// exportEvents streams GET /research/events.ndjson.
func (s *Server) exportEvents(c *gin.Context) {
	q := queryParams{c: c}
	at := q.position("at_position")
	if err := q.err(); err != nil {
		s.fail(c, err)
		return
	}
	position, ok := s.exportPosition(c, at)
	if !ok {
		return
	}
	s.download(c, "application/x-ndjson", "events.ndjson", position, "", func(ctx context.Context, w io.Writer) (research.Summary, error) {
		return research.WriteEvents(ctx, s.store, w, research.EventsOptions{Position: position, Secret: s.researchSecret})
	})
}

// exportSpells streams GET /research/spells.csv.
func (s *Server) exportSpells(c *gin.Context) {
	q := queryParams{c: c}
	at := q.position("at_position")
	asOf := q.instant("as_of", func(v string) (time.Time, error) {
		return time.ParseInLocation(time.DateOnly, v, calendar.Oslo)
	})
	if err := q.err(); err != nil {
		s.fail(c, err)
		return
	}
	today := calendar.Day(s.now())
	day := today
	if asOf != nil {
		day = calendar.Day(*asOf)
	}
	if err := research.CheckAsOf(day, today); err != nil {
		s.fail(c, edge.FieldError("as_of", "must not be after today (%s, Europe/Oslo): days not yet observed cannot count as survival", today))
		return
	}
	position, ok := s.exportPosition(c, at)
	if !ok {
		return
	}
	s.download(c, "text/csv; charset=utf-8", "spells-"+day+".csv", position, day, func(ctx context.Context, w io.Writer) (research.Summary, error) {
		return research.WriteSpells(ctx, s.store, w, research.SpellsOptions{Position: position, AsOf: day, Secret: s.researchSecret})
	})
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

// download answers with an export written by write, gzip-compressed when the
// client accepts it. The headers name what the body is reproducible from;
// the trailer carries the SHA-256 of the uncompressed body. An export that
// fails once its first bytes are out aborts the connection, so that a
// client never takes a truncated file for a whole one; so does one whose
// credential is revoked while it runs (watchCredential).
func (s *Server) download(c *gin.Context, contentType, filename string, position uint64, asOf string, write func(context.Context, io.Writer) (research.Summary, error)) {
	ctx, stop := s.watchCredential(c)
	defer stop()
	h := c.Writer.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	h.Set(headerPosition, strconv.FormatUint(position, 10))
	if asOf != "" {
		h.Set(headerAsOf, asOf)
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
	sum, err := write(ctx, w)
	if err == nil && gz != nil {
		err = gz.Close()
	}
	if err != nil {
		if !errors.Is(context.Cause(ctx), errCredentialChanged) {
			s.log.ErrorContext(ctx, "research export failed", "path", c.FullPath(), "position", position, "err", err)
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
