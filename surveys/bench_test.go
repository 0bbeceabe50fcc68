package surveys_test

import (
	"context"
	"testing"

	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/surveys"
)

// BenchmarkRespond measures one respondent's path on SQLite files: open
// the link, save once, submit (links issued beforehand, in one request).
// Run: go test -run '^$' -bench Respond -benchtime 300x ./surveys/
func BenchmarkRespond(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b)
	p := e.partnership(b, "5006", "Frivilligsentralen")
	w := e.fielded(b)
	links, err := e.svc.IssueLinks(ctx, researcher, w.ID, surveys.LinkRequest{Municipality: "5006", PartnershipID: p, Count: b.N})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		tok := links[i].Token
		if _, err := e.svc.Open(ctx, tok); err != nil {
			b.Fatal(err)
		}
		if _, err := e.svc.Save(ctx, tok, "nn", survey.Answers{"lead_support": {"4"}}, nil, "a"); err != nil {
			b.Fatal(err)
		}
		if err := e.svc.Submit(ctx, tok, "nn", survey.Answers{"comment": {"Fint"}}, nil, "b"); err != nil {
			b.Fatal(err)
		}
	}
}
