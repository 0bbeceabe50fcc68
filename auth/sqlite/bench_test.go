package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
)

// BenchmarkSession is a page request's look-up of its session: a token's
// (joined with the token and its owner) and a user's (joined with the
// user). Each use is recorded at most once a minute, so most are reads.
func BenchmarkSession(b *testing.B) {
	for _, kind := range []string{auth.PrincipalToken, auth.PrincipalUser} {
		b.Run(kind, func(b *testing.B) {
			s := benchStore(b)
			now := time.Now()
			var sid string
			if kind == auth.PrincipalToken {
				tok, err := s.Create(b.Context(), auth.Spec{Name: "admin", Role: auth.RoleAdmin})
				if err != nil {
					b.Fatal(err)
				}
				if sid, _, err = s.StartSession(b.Context(), tok, now); err != nil {
					b.Fatal(err)
				}
			} else {
				var err error
				if sid, _, err = s.SignIn(b.Context(), auth.Identity{Provider: "p", Subject: "s", Name: "N", Email: "e"}, auth.Grant{Role: auth.RoleAdmin}, now); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.Session(b.Context(), sid, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignIn is a returning user's sign-in: seal the profile, update
// the user, write the audit entry and the session in one transaction.
func BenchmarkSignIn(b *testing.B) {
	s := benchStore(b)
	now := time.Now()
	i := 0
	for b.Loop() {
		id := auth.Identity{Provider: "p", Subject: fmt.Sprint("s", i%50), Name: "N", Email: "e"}
		if _, _, err := s.SignIn(b.Context(), id, auth.Grant{Role: auth.RoleViewer}, now); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
