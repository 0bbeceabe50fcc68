package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/samspill/samspill/auth"
)

var _ auth.ProjectStore = (*Tokens)(nil)

// WithProjectSealer seals the research projects' keys with s; without it
// the store's project methods fail with auth.ErrNoProjectSealer.
func WithProjectSealer(s *auth.ProjectSealer) Option { return func(t *Tokens) { t.projects = s } }

const projectColumns = `id, name, institution, purpose, starts, ends, municipalities, key_generation, created_at`

// scanProject reads a row of projectColumns.
func scanProject(sc interface{ Scan(...any) error }) (auth.Project, error) {
	var (
		p              auth.Project
		codes, created string
	)
	err := sc.Scan(&p.ID, &p.Name, &p.Institution, &p.Purpose, &p.Starts, &p.Ends, &codes, &p.KeyGeneration, &created)
	p.Municipalities = splitCodes(codes)
	p.CreatedAt = parseTime(created)
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
	p.KeyGeneration, p.CreatedAt, p.Members = 1, t.now().UTC().Truncate(1e9), nil
	sealed, err := t.projects.Seal(p.ID, p.KeyGeneration, auth.NewProjectKey())
	if err != nil {
		return auth.Project{}, err
	}
	err = t.inTx(ctx, func(tx *sql.Conn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO projects (`+projectColumns+`, sealed_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.Name, p.Institution, p.Purpose, p.Starts, p.Ends, joinCodes(p.Municipalities), p.KeyGeneration, formatTime(p.CreatedAt), sealed)
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE constraint failed: projects.id") {
				return fmt.Errorf("%w: %s", auth.ErrProjectExists, p.ID)
			}
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
	return t.listProjects(ctx, `SELECT `+projectColumns+` FROM projects ORDER BY id`)
}

// ProjectsOf lists the projects the principal may export, by id.
func (t *Tokens) ProjectsOf(ctx context.Context, p auth.Principal) ([]auth.Project, error) {
	switch p.Role {
	case auth.RoleAdmin:
		return t.Projects(ctx)
	case auth.RoleResearcher:
		return t.listProjects(ctx, `SELECT `+projectColumns+` FROM projects
			WHERE id IN (SELECT project FROM project_members WHERE subject = ?) ORDER BY id`, p.Subject)
	}
	return nil, nil
}

func (t *Tokens) listProjects(ctx context.Context, query string, args ...any) ([]auth.Project, error) {
	rows, err := t.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	defer rows.Close()
	var out []auth.Project
	byID := map[string]int{}
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, fmt.Errorf("list projects: %w", err)
		}
		byID[p.ID] = len(out)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	members, err := t.db.QueryContext(ctx, `SELECT project, subject FROM project_members ORDER BY project, subject`)
	if err != nil {
		return nil, fmt.Errorf("list project members: %w", err)
	}
	defer members.Close()
	for members.Next() {
		var project, subject string
		if err := members.Scan(&project, &subject); err != nil {
			return nil, fmt.Errorf("list project members: %w", err)
		}
		if i, ok := byID[project]; ok {
			out[i].Members = append(out[i].Members, subject)
		}
	}
	if err := members.Err(); err != nil {
		return nil, fmt.Errorf("list project members: %w", err)
	}
	return out, nil
}

// Project returns one project with its members.
func (t *Tokens) Project(ctx context.Context, id string) (auth.Project, error) {
	p, err := scanProject(t.db.QueryRowContext(ctx, `SELECT `+projectColumns+` FROM projects WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Project{}, fmt.Errorf("%w: %s", auth.ErrProjectNotFound, id)
	}
	if err != nil {
		return auth.Project{}, fmt.Errorf("read project %s: %w", id, err)
	}
	rows, err := t.db.QueryContext(ctx, `SELECT subject FROM project_members WHERE project = ? ORDER BY subject`, id)
	if err != nil {
		return auth.Project{}, fmt.Errorf("read project %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return auth.Project{}, fmt.Errorf("read project %s: %w", id, err)
		}
		p.Members = append(p.Members, s)
	}
	if err := rows.Err(); err != nil {
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
	err := t.db.QueryRowContext(ctx, `SELECT key_generation, sealed_key FROM projects WHERE id = ?`, id).Scan(&gen, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
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
	err = t.inTx(ctx, func(tx *sql.Conn) error {
		return audit(ctx, tx, t.now(), actor, auth.AuditProjectKeyExported, id, nil)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("export the key of project %s: %w", id, err)
	}
	return key, gen, nil
}

// RotateProjectKey overwrites the project's key with a fresh one of the
// next generation, then checkpoints the WAL so that the old sealed key is
// in no file (secure_delete clears the database's old page).
func (t *Tokens) RotateProjectKey(ctx context.Context, actor auth.Principal, id string) (int, error) {
	if t.projects == nil {
		return 0, auth.ErrNoProjectSealer
	}
	var gen int
	err := t.inTx(ctx, func(tx *sql.Conn) error {
		if err := tx.QueryRowContext(ctx, `SELECT key_generation FROM projects WHERE id = ?`, id).Scan(&gen); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", auth.ErrProjectNotFound, id)
		} else if err != nil {
			return err
		}
		gen++
		sealed, err := t.projects.Seal(id, gen, auth.NewProjectKey())
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE projects SET key_generation = ?, sealed_key = ? WHERE id = ?`, gen, sealed, id); err != nil {
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
	if err := t.checkpoint(ctx); err != nil {
		return gen, fmt.Errorf("rotate the key of project %s: %w", id, err)
	}
	return gen, nil
}

// GrantProject makes subject a member; granting a member again changes
// nothing and writes no audit entry.
func (t *Tokens) GrantProject(ctx context.Context, actor auth.Principal, id, subject string) error {
	err := t.inTx(ctx, func(tx *sql.Conn) error {
		if err := projectExists(ctx, tx, id); err != nil {
			return err
		}
		if err := mayBeGranted(ctx, tx, subject); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO project_members (project, subject) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, subject)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
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
	err := t.inTx(ctx, func(tx *sql.Conn) error {
		if err := projectExists(ctx, tx, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM project_members WHERE project = ? AND subject = ?`, id, subject)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s of %s", auth.ErrNotMember, subject, id)
		}
		return audit(ctx, tx, t.now(), actor, auth.AuditProjectRevoked, auth.ProjectMemberTarget(id, subject), nil)
	})
	if err != nil && !errors.Is(err, auth.ErrProjectNotFound) && !errors.Is(err, auth.ErrNotMember) {
		return fmt.Errorf("revoke project %s from %s: %w", id, subject, err)
	}
	return err
}

func projectExists(ctx context.Context, tx *sql.Conn, id string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM projects WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: %s", auth.ErrProjectNotFound, id)
	}
	return nil
}

// mayBeGranted checks that subject is a user or token that is researcher
// or admin.
func mayBeGranted(ctx context.Context, tx *sql.Conn, subject string) error {
	query, kind := `SELECT role FROM tokens WHERE name = ?`, "token"
	if auth.IsUserID(subject) {
		query, kind = `SELECT role FROM users WHERE id = ?`, "user"
	}
	var role string
	err := tx.QueryRowContext(ctx, query, subject).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: no %s is named %q", auth.ErrInvalidMember, kind, subject)
	}
	if err != nil {
		return err
	}
	return auth.MayBeGranted(subject, role)
}
