package surveys_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/samspill/samspill/surveys"
	"github.com/samspill/samspill/surveys/mail/mailpittest"
)

// BenchmarkMailingRound measures a round that mails 60 invitations (one
// minute at the default rate) to a local Mailpit: the re-key, the SMTP
// transaction and the recorded outcome per link, over one connection.
func BenchmarkMailingRound(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b, surveys.WithPublicURL(publicURL))
	w := e.fielded(b)
	mp := mailpittest.Start(b)
	m := mailer(b, e, mp.SMTPAddr, 60)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		addrs := make([]string, 60)
		for j := range addrs {
			addrs[j] = fmt.Sprintf("r%d-%d@kommune.example", i, j)
		}
		if _, err := e.svc.Invite(ctx, researcher, w.ID, surveys.InviteRequest{Municipality: "5006", Language: "nn", Addresses: addrs}); err != nil {
			b.Fatal(err)
		}
		e.setNow(day10.Add(time.Duration(i+1) * time.Minute)) // a fresh minute of the rate
		b.StartTimer()
		res, err := m.Round(ctx)
		if err != nil || res.Sent != 60 {
			b.Fatalf("round %+v, %v", res, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*60), "µs/message")
}
