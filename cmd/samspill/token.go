package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/calendar"
)

func tokenCommand(fs *flag.FlagSet, env environment) func(context.Context, []string) error {
	var b backend
	b.dataFlag(fs, "the token store (tokens.db)")
	b.sharedFlags(fs)
	role := fs.String("role", "", "create: the role, one of "+strings.Join(auth.Roles, ", "))
	name := fs.String("name", "", "create: a name for the token, shown as the actor of what it writes (default ROLE-<random>)")
	var municipalities []string
	fs.Func("municipality", "create: a coordinator's municipality (kommunenummer; repeat the flag, or separate with commas; old codes mean today's)", func(v string) error {
		for _, code := range strings.Split(v, ",") {
			if code = strings.TrimSpace(code); code != "" {
				municipalities = append(municipalities, code)
			}
		}
		return nil
	})
	owner := fs.String("owner", "", "create: the user id (usr-…, see 'samspill user list') of the person who answers for the token; its token stops when the user is disabled or erased (default none: a service account's)")
	expires := fs.String("expires", "", "create: when the token stops working: a number of days (90d) or a date (2027-03-01: through that day in Norway) (default never)")
	usageWithEnv(fs, "samspill token create --role ROLE [--municipality CODE]... [--name NAME] [--owner USER_ID] [--expires 90d|2027-03-01] [--data ./samspill-data]\n"+
		"       samspill token list [--data ./samspill-data]\n"+
		"       samspill token revoke NAME [--data ./samspill-data]\n"+
		"       (with --readmodel postgres --postgres URL: the tokens every instance shares)\n\n"+
		"create prints the new token alone on the last line of stdout; it is shown only\n"+
		"then (the store keeps its SHA-256). list shows names, roles, municipalities,\n"+
		"when each token was made and last used, its owner and when it expires, never a\n"+
		"token. revoke deletes one and ends the pages' sign-in sessions made with it, at\n"+
		"once, also for a running server. create and revoke are in the audit log\n"+
		"('samspill audit') as done by \"system\".")
	return func(ctx context.Context, args []string) error {
		usage := func(err error) error { return &usageError{command: "token ", err: err} }
		if len(args) == 0 {
			return usage(errors.New("want a subcommand: create, list or revoke"))
		}
		sub, rest := args[0], args[1:]
		switch {
		case sub == "create" && len(rest) == 0:
		case sub == "list" && len(rest) == 0:
		case sub == "revoke" && len(rest) == 1:
		case sub == "revoke":
			return usage(errors.New("revoke wants the token's name"))
		case sub == "create" || sub == "list":
			return usage(fmt.Errorf("%s takes no arguments", sub))
		default:
			return usage(fmt.Errorf("unknown subcommand %q: want create, list or revoke", sub))
		}
		if sub != "create" && (*role != "" || *name != "" || len(municipalities) > 0 || *owner != "" || *expires != "") {
			return usage(errors.New("--role, --name, --municipality, --owner and --expires apply to create only"))
		}
		// A create the store would refuse anyway is refused before the
		// store is opened (or made).
		spec := auth.Spec{Name: *name, Role: *role, Municipalities: municipalities, Owner: *owner}
		if sub == "create" {
			if *expires != "" {
				at, err := parseExpiry(*expires, time.Now())
				if err != nil {
					return usage(err)
				}
				spec.ExpiresAt = at
			}
			if spec.Name == "" {
				spec.Name = *role + "-" + randomSuffix()
			}
			if _, err := spec.Validate(); err != nil {
				return usage(err)
			}
		}
		if err := b.validate("token "); err != nil {
			return err
		}
		tokens, err := b.openTokens(ctx)
		if err != nil {
			return err
		}
		defer tokens.Close()
		switch sub {
		case "create":
			token, err := tokens.Create(ctx, spec)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "Made the %s token %q. It is shown only now:\n%s\n", spec.Role, spec.Name, token)
		case "list":
			list, err := tokens.List(ctx)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tROLE\tMUNICIPALITIES\tCREATED\tLAST USED\tOWNER\tEXPIRES")
			for _, t := range list {
				codes := make([]string, len(t.Municipalities))
				for i, c := range t.Municipalities {
					codes[i] = string(c)
				}
				used := "never"
				if t.LastUsedAt != nil {
					used = t.LastUsedAt.Format(time.RFC3339)
				}
				owner, expires := "-", "never"
				if t.Owner != "" {
					owner = t.Owner
				}
				if !t.ExpiresAt.IsZero() {
					expires = t.ExpiresAt.Format(time.RFC3339)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.Role, strings.Join(codes, ","), t.CreatedAt.Format(time.RFC3339), used, owner, expires)
			}
			return w.Flush()
		case "revoke":
			if err := tokens.Revoke(ctx, rest[0]); err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "revoked %s\n", rest[0])
		}
		return nil
	}
}

// parseExpiry reads --expires: a number of days from now ("90d") or a
// date ("2027-03-01": the token works through that day in Norway, as on
// the admin page and in the API). It must be in the future.
func parseExpiry(v string, now time.Time) (time.Time, error) {
	var at time.Time
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 36500 {
			return time.Time{}, fmt.Errorf("--expires %q: want a number of days such as 90d, or a date such as 2027-03-01", v)
		}
		at = now.UTC().Truncate(time.Second).AddDate(0, 0, n)
	} else {
		var err error
		if at, err = calendar.ParseCutoff(v); err != nil {
			return time.Time{}, fmt.Errorf("--expires %q: want a number of days such as 90d, or a date such as 2027-03-01", v)
		}
	}
	if !at.After(now) {
		return time.Time{}, fmt.Errorf("--expires %q is not in the future", v)
	}
	return at, nil
}

func randomSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
