package http

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/research"
)

// The responses export (GET /research/responses.{csv,dta,parquet}, its
// manifest and data package) is the research files' route with a survey
// wave: research.File names it, so the download, its manifest, its
// codebook and its citation are the other exports'. Only under a research
// project, and only the project's own waves: these are the query's extra
// parameters and the check of the wave.

// responsesParams reads wave and free_text: required and optional for the
// responses export, refused for every other one (they would change
// nothing, and a file's parameters are what it is reproducible from).
func responsesParams(q *queryParams, f *research.File) {
	wave, withWave := q.c.GetQuery("wave")
	freeText, withFreeText := q.c.GetQuery("free_text")
	if f.Export != research.KindResponses {
		if withWave {
			q.invalid("wave", "applies to the responses export only")
		}
		if withFreeText {
			q.invalid("free_text", "applies to the responses export only")
		}
		return
	}
	if _, ok := q.c.GetQuery("project"); !ok {
		q.invalid("project", "is required: survey responses are exported under their research project only, with its pseudonyms")
	}
	if wave == "" {
		q.invalid("wave", "is required: the id of one of the project's survey waves")
	}
	f.Wave = wave
	switch freeText {
	case "0":
		f.WithoutFreeText = true
	case "1":
	default:
		if withFreeText {
			q.invalid("free_text", `must be 0 (leave free-text items out: free text can identify a person) or 1`)
		}
	}
}

// checkWave answers 404 for a wave that is not the project's at the
// file's position, the same for one that does not exist: a project's
// readers learn nothing of other projects' waves. On false the answer is
// written.
func (s *Server) checkWave(c *gin.Context, f research.File) bool {
	if f.Export != research.KindResponses {
		return true
	}
	_, _, err := research.ReadWave(c.Request.Context(), s.store, f.Keys.Project, f.Wave, f.Position)
	if errors.Is(err, research.ErrWaveNotFound) {
		writeProblem(c, Problem{Type: typeNotFound, Title: "Not found", Status: http.StatusNotFound,
			Detail: "the research project has no survey wave with this id at this position"})
		return false
	}
	if err != nil {
		s.fail(c, err)
		return false
	}
	return true
}
