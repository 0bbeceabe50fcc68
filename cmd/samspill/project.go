package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/personal"
)

// projectCommand is 'samspill project': the research projects, each with
// its own pseudonymisation key, as an admin on the server's machine makes
// and grants them. Every change is in the audit log as done by "system".
func projectCommand(fs *flag.FlagSet, env environment) func(context.Context, []string) error {
	var b backend
	b.dataFlag(fs, "the token store (tokens.db), the personal-data keys (keys.db) and the installation secret")
	b.sharedFlags(fs)
	var p auth.Project
	fs.StringVar(&p.Name, "name", "", "create: the project's name")
	fs.StringVar(&p.Institution, "institution", "", "create: the responsible institution")
	fs.StringVar(&p.Purpose, "purpose", "", "create: what the project studies")
	fs.StringVar(&p.Starts, "starts", "", "create: the first day, YYYY-MM-DD")
	fs.StringVar(&p.Ends, "ends", "", "create: the last day, YYYY-MM-DD (optional)")
	fs.Func("municipalities", "create: today's kommunenummer of the municipalities the project's exports hold, comma-separated (default: all)", func(v string) error {
		for _, code := range strings.Split(v, ",") {
			if code = strings.TrimSpace(code); code != "" {
				p.Municipalities = append(p.Municipalities, kommune.Code(code))
			}
		}
		return nil
	})
	recipient := fs.String("recipient", "", "export-key: the trusted third party's age public key (age1…)")
	out := fs.String("out", "", "export-key: write the sealed key to this file (default: stdout)")
	usageWithEnv(fs, "samspill project create ID --name N --institution I --purpose P --starts DATE [--ends DATE] [--municipalities 4203,5006]\n"+
		"       samspill project list | show ID\n"+
		"       samspill project grant ID SUBJECT | revoke ID SUBJECT\n"+
		"       samspill project rotate-key ID\n"+
		"       samspill project export-key ID --recipient age1… [--out FILE]\n"+
		"       (with --readmodel postgres --postgres URL: the projects every instance shares)\n\n"+
		"A research project has its own pseudonymisation key: its exports carry the same\n"+
		"pseudonyms every time and cannot be linked with another project's. ID is a slug\n"+
		"(2 to 40 lower-case letters, digits or '-'). grant lets a researcher or admin\n"+
		"(a user id usr-… or a token's name) take the project's exports; revoke stops it.\n"+
		"rotate-key makes a new key and destroys the old one: the project's exports from\n"+
		"then on carry new pseudonyms, which do not join earlier ones. export-key writes\n"+
		"the key sealed to a trusted third party's age key, who opens it with\n"+
		"'age -d -i key.txt'. Each change is in the audit log ('samspill audit').")
	return func(ctx context.Context, args []string) error {
		usage := func(err error) error { return &usageError{command: "project ", err: err} }
		const subs = "create, list, show, grant, revoke, rotate-key or export-key"
		if len(args) == 0 {
			return usage(errors.New("want a subcommand: " + subs))
		}
		sub, rest := args[0], args[1:]
		want := map[string]int{"create": 1, "list": 0, "show": 1, "grant": 2, "revoke": 2, "rotate-key": 1, "export-key": 1}
		n, known := want[sub]
		switch {
		case !known:
			return usage(fmt.Errorf("unknown subcommand %q: want %s", sub, subs))
		case len(rest) != n && n == 2:
			return usage(fmt.Errorf("%s wants the project's id and the subject (a user id or a token's name)", sub))
		case len(rest) != n && n == 1:
			return usage(fmt.Errorf("%s wants the project's id", sub))
		case len(rest) != n:
			return usage(fmt.Errorf("%s takes no arguments", sub))
		}
		if n > 0 && !auth.ValidProjectID(rest[0]) {
			return usage(fmt.Errorf("%q is no project id: 2 to 40 lower-case letters, digits or '-'", rest[0]))
		}
		createFlags := p.Name != "" || p.Institution != "" || p.Purpose != "" || p.Starts != "" || p.Ends != "" || len(p.Municipalities) > 0
		if sub != "create" && createFlags {
			return usage(errors.New("--name, --institution, --purpose, --starts, --ends and --municipalities apply to create only"))
		}
		if sub != "export-key" && (*recipient != "" || *out != "") {
			return usage(errors.New("--recipient and --out apply to export-key only"))
		}
		if sub == "export-key" && *recipient == "" {
			return usage(errors.New("export-key wants --recipient (the third party's age public key, age1…)"))
		}
		if sub == "create" {
			p.ID = rest[0]
			if _, err := p.Validate(); err != nil {
				return usage(err)
			}
		}
		if err := b.validate("project "); err != nil {
			return err
		}
		store, closeAll, err := b.openProjects(ctx)
		if err != nil {
			return err
		}
		defer closeAll()
		switch sub {
		case "create":
			created, err := store.CreateProject(ctx, auth.SystemPrincipal, p)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "%s: created with its own key (generation %d)\n", created.ID, created.KeyGeneration)
		case "list":
			list, err := store.Projects(ctx)
			if err != nil {
				return err
			}
			return printProjects(env.stdout, list)
		case "show":
			pr, err := store.Project(ctx, rest[0])
			if err != nil {
				return err
			}
			return printProject(env.stdout, pr)
		case "grant":
			if err := store.GrantProject(ctx, auth.SystemPrincipal, rest[0], rest[1]); err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "%s: granted to %s\n", rest[0], rest[1])
		case "revoke":
			if err := store.RevokeProject(ctx, auth.SystemPrincipal, rest[0], rest[1]); err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "%s: revoked from %s\n", rest[0], rest[1])
		case "rotate-key":
			gen, err := store.RotateProjectKey(ctx, auth.SystemPrincipal, rest[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "%s: new key, generation %d; the project's exports from now on carry new pseudonyms, which do not join earlier exports'\n", rest[0], gen)
		case "export-key":
			return exportProjectKey(ctx, store, rest[0], *recipient, *out, env.stdout)
		}
		return nil
	}
}

// exportProjectKey writes the project's key sealed to recipient to the
// file out (stdout if "").
func exportProjectKey(ctx context.Context, store auth.ProjectStore, id, recipient, out string, stdout io.Writer) error {
	sealed, gen, err := auth.ExportSealedProjectKey(ctx, store, auth.SystemPrincipal, id, recipient, time.Now())
	if errors.Is(err, auth.ErrInvalidRecipient) {
		return &usageError{command: "project ", err: err}
	}
	if err != nil {
		return err
	}
	if out == "" {
		_, err := stdout.Write(sealed)
		return err
	}
	if err := os.WriteFile(out, sealed, 0o600); err != nil {
		return fmt.Errorf("write the sealed key: %w", err)
	}
	fmt.Fprintf(stdout, "%s: key of generation %d sealed to %s in %s\n", id, gen, recipient, out)
	return nil
}

// openProjects opens the personal-data keys, the installation secret and
// the token store with the users' and the projects' sealers; closeAll
// closes both stores.
func (b backend) openProjects(ctx context.Context) (store tokenStore, closeAll func(), err error) {
	keys, err := b.openKeys(ctx)
	if err != nil {
		return nil, nil, err
	}
	secret, err := b.secret(ctx, keys)
	if err == nil {
		var sealer *auth.ProjectSealer
		if sealer, err = projectSealer(secret); err == nil {
			store, err = b.openAuth(ctx, personal.UserSealer{Keys: keys}, sealer)
		}
	}
	if err != nil {
		_ = keys.Close()
		return nil, nil, err
	}
	return store, func() { _ = store.Close(); _ = keys.Close() }, nil
}

func printProjects(out io.Writer, list []auth.Project) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tINSTITUTION\tSTARTS\tENDS\tMUNICIPALITIES\tKEY\tMEMBERS")
	for _, p := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", p.ID, p.Name, p.Institution, p.Starts, dash(p.Ends), dash(codeList(p.Municipalities)),
			p.KeyGeneration, dash(strings.Join(p.Members, ",")))
	}
	return w.Flush()
}

func printProject(out io.Writer, p auth.Project) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	municipalities := codeList(p.Municipalities)
	if municipalities == "" {
		municipalities = "all"
	}
	for _, row := range [][2]string{
		{"id", p.ID}, {"name", p.Name}, {"institution", p.Institution}, {"purpose", p.Purpose},
		{"starts", p.Starts}, {"ends", dash(p.Ends)}, {"municipalities", municipalities},
		{"key generation", fmt.Sprint(p.KeyGeneration)}, {"created", p.CreatedAt.Format(time.RFC3339)},
		{"members", dash(strings.Join(p.Members, ", "))},
	} {
		fmt.Fprintf(w, "%s:\t%s\n", row[0], row[1])
	}
	return w.Flush()
}

// codeList is municipalities as the CLI shows them: comma-separated.
func codeList(codes []kommune.Code) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}
