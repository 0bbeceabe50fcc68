package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/samspill/samspill/auth"
)

var _ auth.ProjectStore = (*Tokens)(nil)

// WithProjectSealer seals the research projects' keys with s; without it
// the store's project methods fail with auth.ErrNoProjectSealer.
func WithProjectSealer(s *auth.ProjectSealer) Option { return func(t *Tokens) { t.projects = s } }

// projectColumns reads the days as text in the form the contract has.
const projectColumns = `p.id, p.name, p.institution, p.purpose, to_char(p.starts, 'YYYY-MM-DD'), coalesce(to_char(p.ends, 'YYYY-MM-DD'), ''),
	p.municipalities, p.key_generation, p.created_at,
	coalesce((SELECT array_agg(m.subject ORDER BY m.subject) FROM auth_project_members m WHERE m.project = p.id), '{}')`

// scanProject reads a row of projectColumns.
func scanProject(row pgx.Row) (auth.Project, error) {
	var (
		p              auth.Project
		codes, members []string
	)
	err := row.Scan(&p.ID, &p.Name, &p.Institution, &p.Purpose, &p.Starts, &p.Ends, &codes, &p.KeyGeneration, &p.CreatedAt, &members)
	p.Municipalities = kommuneCodes(codes)
	p.CreatedAt = p.CreatedAt.UTC()
	if len(members) > 0 {
		p.Members = members
	}
	return p, err
}

// CreateProject stores a new project with a fresh key, and its audit
// entry, in one transaction.
func (t *Tokens) CreateProject(ctx context.Context, actor auth.Principal, p auth.Project) (auth.Project, error) {
	if t.projects == nil {
		return auth.Project{}, auth.ErrNoProjectSealer
	}
	p, err := p.Validate()
	if err != nil {
		return auth.Project{}, err
	}
	p.KeyGeneration, p.CreatedAt, p.Members = 1, t.now().UTC().Truncate(time.Second), nil
	sealed, err := t.projects.Seal(p.ID, p.KeyGeneration, auth.NewProjectKey())
	if err != nil {
		return auth.Project{}, err
	}
	err = pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO auth_projects (id, name, institution, purpose, starts, ends, municipalities, key_generation, sealed_key, created_at)
			VALUES ($1, $2, $3, $4, $5::date, NULLIF($6, '')::date, $7, $8, $9, $10)`,
			p.ID, p.Name, p.Institution, p.Purpose, p.Starts, p.Ends, codeStrings(p.Municipalities), p.KeyGeneration, sealed, p.CreatedAt)
		var pg *pgconn.PgError
		if errors.As(err, &pg) && pg.Code == uniqueViolation {
			return fmt.Errorf("%w: %s", auth.ErrProjectExists, p.ID)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, p.CreatedAt, actor, auth.AuditProjectCreated, p.ID, nil)
	})
	if err != nil {
		if errors.Is(err, auth.ErrProjectExists) {
			return auth.Project{}, err
		}
		return auth.Project{}, fmt.Errorf("create project %s: %w", p.ID, err)
	}
	return p, nil
}

// Projects lists every project with its members, by id.
func (t *Tokens) Projects(ctx context.Context) ([]auth.Project, error) {
	return t.listProjects(ctx, `SELECT `+projectColumns+` FROM auth_projects p ORDER BY p.id`)
}

// ProjectsOf lists the projects the principal may export, by id.
func (t *Tokens) ProjectsOf(ctx context.Context, p auth.Principal) ([]auth.Project, error) {
	switch p.Role {
	case auth.RoleAdmin:
		return t.Projects(ctx)
	case auth.RoleResearcher:
		return t.listProjects(ctx, `SELECT `+projectColumns+` FROM auth_projects p
			WHERE p.id IN (SELECT project FROM auth_project_members WHERE subject = $1) ORDER BY p.id`, p.Subject)
	}
	return nil, nil
}

func (t *Tokens) listProjects(ctx context.Context, query string, args ...any) ([]auth.Project, error) {
	rows, err := t.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	defer rows.Close()
	var out []auth.Project
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, fmt.Errorf("list projects: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return out, nil
}

// Project returns one project with its members.
func (t *Tokens) Project(ctx context.Context, id string) (auth.Project, error) {
	p, err := scanProject(t.pool.QueryRow(ctx, `SELECT `+projectColumns+` FROM auth_projects p WHERE p.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Project{}, fmt.Errorf("%w: %s", auth.ErrProjectNotFound, id)
	}
	if err != nil {
		return auth.Project{}, fmt.Errorf("read project %s: %w", id, err)
	}
	return p, nil
}

// ProjectKey opens the project's current key.
func (t *Tokens) ProjectKey(ctx context.Context, id string) ([]byte, int, error) {
	if t.projects == nil {
		return nil, 0, auth.ErrNoProjectSealer
	}
	var (
		gen    int
		sealed []byte
	)
	err := t.pool.QueryRow(ctx, `SELECT key_generation, sealed_key FROM auth_projects WHERE id = $1`, id).Scan(&gen, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, fmt.Errorf("%w: %s", auth.ErrProjectNotFound, id)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read the key of project %s: %w", id, err)
	}
	key, err := t.projects.Open(id, gen, sealed)
	return key, gen, err
}

// ExportProjectKey opens the project's current key and writes its audit
// entry.
func (t *Tokens) ExportProjectKey(ctx context.Context, actor auth.Principal, id string) ([]byte, int, error) {
	key, gen, err := t.ProjectKey(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	err = pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		return audit(ctx, tx, t.now(), actor, auth.AuditProjectKeyExported, id, nil)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("export the key of project %s: %w", id, err)
	}
	return key, gen, nil
}

// RotateProjectKey overwrites the project's key with a fresh one of the
// next generation. (The old row version stays in the table's pages until
// vacuum: docs/operations.md says so.)
func (t *Tokens) RotateProjectKey(ctx context.Context, actor auth.Principal, id string) (int, error) {
	if t.projects == nil {
		return 0, auth.ErrNoProjectSealer
	}
	var gen int
	err := pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT key_generation FROM auth_projects WHERE id = $1 FOR UPDATE`, id).Scan(&gen)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %s", auth.ErrProjectNotFound, id)
		}
		if err != nil {
			return err
		}
		gen++
		sealed, err := t.projects.Seal(id, gen, auth.NewProjectKey())
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE auth_projects SET key_generation = $1, sealed_key = $2 WHERE id = $3`, gen, sealed, id); err != nil {
			return err
		}
		return audit(ctx, tx, t.now(), actor, auth.AuditProjectKeyRotated, id, nil)
	})
	if errors.Is(err, auth.ErrProjectNotFound) {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("rotate the key of project %s: %w", id, err)
	}
	return gen, nil
}

// GrantProject makes subject a member; granting a member again changes
// nothing and writes no audit entry.
func (t *Tokens) GrantProject(ctx context.Context, actor auth.Principal, id, subject string) error {
	err := pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		if err := lockProject(ctx, tx, id); err != nil {
			return err
		}
		if err := mayBeGranted(ctx, tx, subject); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO auth_project_members (project, subject) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, subject)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		return audit(ctx, tx, t.now(), actor, auth.AuditProjectGranted, auth.ProjectMemberTarget(id, subject), nil)
	})
	if err != nil && !errors.Is(err, auth.ErrProjectNotFound) && !errors.Is(err, auth.ErrInvalidMember) {
		return fmt.Errorf("grant project %s to %s: %w", id, subject, err)
	}
	return err
}

// RevokeProject removes a member, or returns auth.ErrNotMember.
func (t *Tokens) RevokeProject(ctx context.Context, actor auth.Principal, id, subject string) error {
	err := pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		if err := lockProject(ctx, tx, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM auth_project_members WHERE project = $1 AND subject = $2`, id, subject)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: %s of %s", auth.ErrNotMember, subject, id)
		}
		return audit(ctx, tx, t.now(), actor, auth.AuditProjectRevoked, auth.ProjectMemberTarget(id, subject), nil)
	})
	if err != nil && !errors.Is(err, auth.ErrProjectNotFound) && !errors.Is(err, auth.ErrNotMember) {
		return fmt.Errorf("revoke project %s from %s: %w", id, subject, err)
	}
	return err
}

// lockProject locks the project's row for the transaction, or returns
// auth.ErrProjectNotFound.
func lockProject(ctx context.Context, tx pgx.Tx, id string) error {
	var found string
	err := tx.QueryRow(ctx, `SELECT id FROM auth_projects WHERE id = $1 FOR UPDATE`, id).Scan(&found)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %s", auth.ErrProjectNotFound, id)
	}
	return err
}

// mayBeGranted checks that subject is a user or token that is researcher
// or admin.
func mayBeGranted(ctx context.Context, tx pgx.Tx, subject string) error {
	query, kind := `SELECT role FROM auth_tokens WHERE name = $1`, "token"
	if auth.IsUserID(subject) {
		query, kind = `SELECT role FROM auth_users WHERE id = $1`, "user"
	}
	var role string
	err := tx.QueryRow(ctx, query, subject).Scan(&role)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: no %s is named %q", auth.ErrInvalidMember, kind, subject)
	}
	if err != nil {
		return err
	}
	return auth.MayBeGranted(subject, role)
}
