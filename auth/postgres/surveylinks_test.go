package postgres

import (
	"testing"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/auth/authtest"
	"github.com/samspill/samspill/internal/pgtest"
)

func TestSurveyLinkContract(t *testing.T) {
	authtest.RunSurveyLinks(t, func(t *testing.T) auth.SurveyLinkStore { return openAt(t, pgtest.URL(t)) })
}
