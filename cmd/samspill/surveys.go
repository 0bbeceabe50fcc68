package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/surveys"
)

// surveyDirectory answers the survey respondents' partnership choices from
// the summaries read model: the municipality's partnerships that have not
// ended, by title.
type surveyDirectory struct{ queries *summaries.Queries }

// directoryPage is how many summaries one read of the directory takes.
const directoryPage = 500

func (d surveyDirectory) Partnerships(ctx context.Context, municipality string) ([]surveys.Choice, error) {
	f := summaries.ListFilter{Municipalities: []string{municipality}, Sort: summaries.SortTitle, Limit: directoryPage}
	var out []surveys.Choice
	for {
		page, err := d.queries.Partnerships(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("partnerships of %s: %w", municipality, err)
		}
		for _, p := range page.Items {
			if p.Status != partnership.StatusEnded {
				out = append(out, surveys.Choice{ID: p.ID, Name: p.Title})
			}
		}
		if page.NextCursor == nil {
			return out, nil
		}
		f.Cursor = *page.NextCursor
	}
}

// checkPublicURL checks --public-url: an absolute http or https URL of a
// host, with no query or fragment ("" is none: links then start with the
// scheme and host of the request that made them).
func checkPublicURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("--public-url: %w", err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return errors.New("--public-url: an absolute http:// or https:// URL of the site is required, e.g. https://samspill.example.no")
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return errors.New("--public-url: no query, fragment or credentials")
	}
	return nil
}
