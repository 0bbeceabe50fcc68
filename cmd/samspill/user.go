package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
)

// userCommand is 'samspill user': the personal users who sign in through
// an identity provider, as an admin on the server's machine sees and
// changes them. Every change is in the audit log as done by "system".
func userCommand(fs *flag.FlagSet, env environment) func(context.Context, []string) error {
	var b backend
	b.dataFlag(fs, "the token store (tokens.db) and the personal-data keys (keys.db)")
	b.sharedFlags(fs)
	query := fs.String("query", "", "list: only users whose name or e-mail contains this (any case), or whose id it is")
	role := fs.String("role", "", "grant: the role, one of "+strings.Join(auth.Roles, ", ")+", or none")
	var municipalities []string
	fs.Func("municipality", "grant: a coordinator's municipality (kommunenummer; repeat the flag, or separate with commas; old codes mean today's)", func(v string) error {
		for _, code := range strings.Split(v, ",") {
			if code = strings.TrimSpace(code); code != "" {
				municipalities = append(municipalities, code)
			}
		}
		return nil
	})
	usageWithEnv(fs, "samspill user list [--query Q] [--data ./samspill-data]\n"+
		"       samspill user grant USER_ID --role ROLE|none [--municipality CODE]...\n"+
		"       samspill user mappings USER_ID\n"+
		"       samspill user disable USER_ID | enable USER_ID | erase USER_ID\n"+
		"       (with --readmodel postgres --postgres URL: the users every instance shares)\n\n"+
		"People sign in to the pages through their identity provider; the first sign-in\n"+
		"makes their user (an id usr-…), its role and municipalities from the provider's\n"+
		"groups through the mappings. list shows them. grant sets a role and\n"+
		"municipalities that hold over later sign-ins; mappings gives the user back to\n"+
		"the mappings (from the next sign-in). disable stops the user signing in and its\n"+
		"tokens working, enable undoes it. erase destroys the user's name and e-mail for\n"+
		"good (its id stays, so the events it caused still name one actor). grant,\n"+
		"mappings, disable and erase end the user's sign-in sessions at once, also for a\n"+
		"running server. Each change is in the audit log ('samspill audit').")
	return func(ctx context.Context, args []string) error {
		usage := func(err error) error { return &usageError{command: "user ", err: err} }
		const subs = "list, grant, mappings, disable, enable or erase"
		if len(args) == 0 {
			return usage(errors.New("want a subcommand: " + subs))
		}
		sub, rest := args[0], args[1:]
		switch sub {
		case "list":
			if len(rest) != 0 {
				return usage(errors.New("list takes no arguments"))
			}
		case "grant", "mappings", "disable", "enable", "erase":
			if len(rest) != 1 {
				return usage(fmt.Errorf("%s wants the user's id", sub))
			}
			if !auth.IsUserID(rest[0]) {
				return usage(fmt.Errorf("%q is no user id (usr-…, see 'samspill user list')", rest[0]))
			}
		default:
			return usage(fmt.Errorf("unknown subcommand %q: want %s", sub, subs))
		}
		if sub != "list" && *query != "" {
			return usage(errors.New("--query applies to list only"))
		}
		if sub != "grant" && (*role != "" || len(municipalities) > 0) {
			return usage(errors.New("--role and --municipality apply to grant only"))
		}
		var grant auth.Grant
		if sub == "grant" {
			g, err := parseGrant(*role, municipalities)
			if err != nil {
				return usage(err)
			}
			grant = g
		}
		if err := b.validate("user "); err != nil {
			return err
		}
		users, closeAll, err := b.openUsers(ctx)
		if err != nil {
			return err
		}
		defer closeAll()
		switch sub {
		case "list":
			list, err := users.Users(ctx, auth.UserFilter{Query: *query})
			if err != nil {
				return err
			}
			return printUsers(env.stdout, list)
		case "grant":
			err = users.SetGrant(ctx, auth.SystemPrincipal, rest[0], grant)
		case "mappings":
			err = users.UseMappings(ctx, auth.SystemPrincipal, rest[0])
		case "disable":
			err = users.Disable(ctx, auth.SystemPrincipal, rest[0])
		case "enable":
			err = users.Enable(ctx, auth.SystemPrincipal, rest[0])
		case "erase":
			err = users.EraseUser(ctx, auth.SystemPrincipal, rest[0])
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "%s: %s\n", rest[0], map[string]string{
			"grant": "granted " + grantText(&grant), "mappings": "back to the mappings from the next sign-in",
			"disable": "disabled", "enable": "enabled", "erase": "erased",
		}[sub])
		return nil
	}
}

// parseGrant reads --role (none for no role) and --municipality.
func parseGrant(role string, municipalities []string) (auth.Grant, error) {
	switch role {
	case "":
		return auth.Grant{}, errors.New("grant wants --role (one of " + strings.Join(auth.Roles, ", ") + ", or none)")
	case "none":
		role = ""
	}
	g := auth.Grant{Role: role}
	for _, m := range municipalities {
		c, err := kommune.Parse(m)
		if err != nil {
			return auth.Grant{}, fmt.Errorf("municipality %q: %w", m, err)
		}
		g.Municipalities = append(g.Municipalities, c)
	}
	return g.Validate()
}

// openUsers opens the personal-data keys and the token store with the
// users' sealer over them; closeAll closes both.
func (b backend) openUsers(ctx context.Context) (users tokenStore, closeAll func(), err error) {
	keys, err := b.openKeys(ctx)
	if err != nil {
		return nil, nil, err
	}
	users, err = b.openTokens(ctx, keys)
	if err != nil {
		_ = keys.Close()
		return nil, nil, err
	}
	return users, func() { _ = users.Close(); _ = keys.Close() }, nil
}

// grantText is a grant as the CLI shows it: the role and its
// municipalities, or "no role".
func grantText(g *auth.Grant) string {
	if g == nil {
		return ""
	}
	if g.Role == "" {
		return "no role"
	}
	if len(g.Municipalities) == 0 {
		return g.Role
	}
	return g.Role + " of " + codeList(g.Municipalities)
}

func printUsers(out io.Writer, list []auth.User) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tE-MAIL\tPROVIDER\tGRANT\tGRANTED BY\tSTATE\tCREATED\tLAST SIGN-IN")
	for _, u := range list {
		by, state := "mappings", "active"
		if u.GrantedByAdmin {
			by = "admin"
		}
		switch {
		case u.Erased:
			state = "erased"
		case u.Disabled:
			state = "disabled"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, dash(u.Name), dash(u.Email), u.Provider, grantText(&u.Grant), by, state,
			u.CreatedAt.Format(time.RFC3339), u.LastSignInAt.Format(time.RFC3339))
	}
	return w.Flush()
}

// dash shows an empty field (an erased user's name) as "-".
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// auditCommand is 'samspill audit': the audit log, newest first.
func auditCommand(fs *flag.FlagSet, env environment) func(context.Context, []string) error {
	var b backend
	b.dataFlag(fs, "the token store (tokens.db)")
	b.sharedFlags(fs)
	var f auth.AuditFilter
	fs.StringVar(&f.Actor, "actor", "", "only changes by this actor: a user id, a token's name, or system (the CLI and sign-ins)")
	fs.StringVar(&f.Action, "action", "", "only this action, such as user.granted, user.disabled, token.created, session.ended, project.granted, project.key_exported")
	fs.StringVar(&f.Target, "target", "", "only changes to this user id, token name, session handle, project id, or project/subject (a project's grants)")
	fs.IntVar(&f.Limit, "limit", 100, "at most this many entries (up to 1000)")
	usageWithEnv(fs, "samspill audit [--actor A] [--action A] [--target T] [--limit 100] [--data ./samspill-data]\n\n"+
		"The audit log: every change to who may do what (users made, signed in, granted,\n"+
		"given back to the mappings, disabled, enabled, erased; tokens made and revoked;\n"+
		"sessions ended by an admin; sign-ins refused; research projects made, granted,\n"+
		"revoked, their keys rotated and exported), newest first. It names users by\n"+
		"id and tokens by name, never a person's name.")
	return func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return &usageError{command: "audit ", err: fmt.Errorf("unexpected argument %q", args[0])}
		}
		if f.Limit < 1 || f.Limit > 1000 {
			return &usageError{command: "audit ", err: fmt.Errorf("--limit %d: want 1 to 1000", f.Limit)}
		}
		if err := b.validate("audit "); err != nil {
			return err
		}
		tokens, err := b.openTokens(ctx)
		if err != nil {
			return err
		}
		defer tokens.Close()
		entries, err := tokens.Audit(ctx, f)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "SEQ\tAT\tACTOR\tACTION\tTARGET\tGRANT")
		for _, e := range entries {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.At.Format(time.RFC3339), e.Actor, e.Action, e.Target, dash(grantText(e.Grant)))
		}
		return w.Flush()
	}
}
