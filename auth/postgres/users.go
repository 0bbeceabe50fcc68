package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/samspill/samspill/auth"
)

// audit writes an audit entry in tx.
func audit(ctx context.Context, tx pgx.Tx, at time.Time, actor auth.Principal, action, target string, g *auth.Grant) error {
	var grant *string
	if b := auth.EncodeGrant(g); b != nil {
		s := string(b)
		grant = &s
	}
	_, err := tx.Exec(ctx, `INSERT INTO auth_audit (at, actor, action, target, grant_json) VALUES ($1, $2, $3, $4, $5::jsonb)`,
		at.UTC().Truncate(time.Second), auth.ActorOf(actor), action, target, grant)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// userRow is a user's row as stored, its profile still sealed.
type userRow struct {
	auth.User
	profile []byte
}

const userColumns = `id, provider, profile, role, municipalities, granted_by_admin, disabled, erased, created_at, last_sign_in_at`

// scanUser reads a row of userColumns.
func scanUser(row pgx.Row) (userRow, error) {
	var (
		u     userRow
		codes []string
	)
	err := row.Scan(&u.ID, &u.Provider, &u.profile, &u.Grant.Role, &codes, &u.GrantedByAdmin, &u.Disabled, &u.Erased, &u.CreatedAt, &u.LastSignInAt)
	u.Grant.Municipalities = kommuneCodes(codes)
	u.CreatedAt, u.LastSignInAt = u.CreatedAt.UTC(), u.LastSignInAt.UTC()
	return u, err
}

// open opens the row's profile.
func (t *Tokens) open(ctx context.Context, r userRow) (auth.User, error) {
	u := r.User
	var err error
	u.Name, u.Email, err = auth.OpenProfile(ctx, t.sealer, u.ID, r.profile)
	return u, err
}

// errRaced means another sign-in made the user between SignIn's read and
// its transaction.
var errRaced = errors.New("the user was made meanwhile")

// SignIn finds or makes the identity's user and starts a session for it.
func (t *Tokens) SignIn(ctx context.Context, id auth.Identity, mapped auth.Grant, now time.Time) (string, auth.User, error) {
	if t.sealer == nil {
		return "", auth.User{}, auth.ErrNoSealer
	}
	mapped, err := mapped.Validate()
	if err != nil {
		return "", auth.User{}, err
	}
	now = now.UTC().Truncate(time.Second)
	subject := auth.SubjectHash(id.Provider, id.Subject)
	// The user's id, found or new, is needed to seal the profile, and
	// sealing (which may make a key) is done outside the transaction.
	var userID string
	err = t.pool.QueryRow(ctx, `SELECT id FROM auth_users WHERE subject_hash = $1`, subject[:]).Scan(&userID)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		userID = auth.NewUserID()
	case err != nil:
		return "", auth.User{}, fmt.Errorf("sign in: %w", err)
	}
	sealed, err := auth.SealProfile(ctx, t.sealer, userID, id.Name, id.Email)
	if err != nil {
		return "", auth.User{}, fmt.Errorf("sign in: %w", err)
	}
	sessionID, hash := auth.NewSessionID()
	var (
		u       userRow
		refused error // the refusal of a disabled user, whose audit entry is committed
	)
	err = pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM auth_sessions WHERE expires_at <= $1`, now); err != nil {
			return fmt.Errorf("delete expired sessions: %w", err)
		}
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM auth_users WHERE subject_hash = $1 FOR UPDATE`, subject[:]))
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			_, err := tx.Exec(ctx, `INSERT INTO auth_users (id, provider, subject_hash, profile, role, municipalities, created_at, last_sign_in_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, userID, id.Provider, subject[:], sealed, mapped.Role, codeStrings(mapped.Municipalities), now)
			var pg *pgconn.PgError
			if errors.As(err, &pg) && pg.Code == uniqueViolation && pg.ConstraintName == "auth_users_subject_hash_key" {
				return errRaced // another instance's first sign-in won
			}
			if err != nil {
				return err
			}
			if err := audit(ctx, tx, now, auth.SystemPrincipal, auth.AuditUserCreated, userID, nil); err != nil {
				return err
			}
			u = userRow{User: auth.User{ID: userID, Provider: id.Provider, Grant: mapped, CreatedAt: now}}
		case err != nil:
			return err
		case u.ID != userID:
			return errRaced
		case u.Erased:
			// Never found (erasing drops the subject's hash); kept so
			// that a store that did find one refuses it.
			refused = auth.ErrUserErased
			return audit(ctx, tx, now, auth.SystemPrincipal, auth.AuditUserSignInRefused, u.ID, nil)
		case u.Disabled:
			refused = auth.ErrUserDisabled
			return audit(ctx, tx, now, auth.SystemPrincipal, auth.AuditUserSignInRefused, u.ID, nil)
		default:
			if !u.GrantedByAdmin {
				u.Grant = mapped
			}
			if _, err := tx.Exec(ctx, `UPDATE auth_users SET profile = $1, role = $2, municipalities = $3, last_sign_in_at = $4 WHERE id = $5`,
				sealed, u.Grant.Role, codeStrings(u.Grant.Municipalities), now, u.ID); err != nil {
				return err
			}
		}
		u.LastSignInAt = now
		g := u.Grant
		if err := audit(ctx, tx, now, auth.SystemPrincipal, auth.AuditUserSignedIn, u.ID, &g); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO auth_sessions (hash, principal_kind, principal_ref, created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)`,
			hash[:], auth.PrincipalUser, []byte(u.ID), now, auth.SessionExpiry(now, now))
		return err
	})
	if errors.Is(err, errRaced) {
		return t.SignIn(ctx, id, mapped, now)
	}
	if err != nil {
		return "", auth.User{}, fmt.Errorf("sign in: %w", err)
	}
	if refused != nil {
		return "", auth.User{}, fmt.Errorf("sign in %s: %w", u.ID, refused)
	}
	u.Name, u.Email = id.Name, id.Email
	return sessionID, u.User, nil
}

// User returns the user.
func (t *Tokens) User(ctx context.Context, id string) (auth.User, error) {
	r, err := scanUser(t.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM auth_users WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.User{}, fmt.Errorf("%w: %s", auth.ErrUserNotFound, id)
	}
	if err != nil {
		return auth.User{}, fmt.Errorf("user %s: %w", id, err)
	}
	return t.open(ctx, r)
}

// Users lists the users that match, by name. The names and e-mails are
// sealed, so the query is matched here, after opening them.
func (t *Tokens) Users(ctx context.Context, f auth.UserFilter) ([]auth.User, error) {
	rows, err := t.pool.Query(ctx, `SELECT `+userColumns+` FROM auth_users`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	stored, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (userRow, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := []auth.User{}
	for _, r := range stored {
		u, err := t.open(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		if f.Match(u) {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, auth.CompareUsers)
	return out, nil
}

// change runs an admin's change to a user: update (a statement on the
// user's row, with the id as its last parameter) unless the user is
// erased, its sessions ended when endSessions, and the audit entry.
func (t *Tokens) change(ctx context.Context, actor auth.Principal, userID, action string, g *auth.Grant, endSessions bool, update string, args ...any) error {
	err := pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		var erased bool
		err := tx.QueryRow(ctx, `SELECT erased FROM auth_users WHERE id = $1 FOR UPDATE`, userID).Scan(&erased)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %s", auth.ErrUserNotFound, userID)
		}
		if err != nil {
			return err
		}
		if erased {
			return fmt.Errorf("%w: %s", auth.ErrUserErased, userID)
		}
		if _, err := tx.Exec(ctx, update, append(args, userID)...); err != nil {
			return err
		}
		if endSessions {
			if _, err := tx.Exec(ctx, `DELETE FROM auth_sessions WHERE principal_kind = $1 AND principal_ref = $2`, auth.PrincipalUser, []byte(userID)); err != nil {
				return fmt.Errorf("end the user's sessions: %w", err)
			}
		}
		return audit(ctx, tx, t.now(), actor, action, userID, g)
	})
	if err != nil {
		return fmt.Errorf("%s %s: %w", action, userID, err)
	}
	return nil
}

// SetGrant is an admin's grant; it ends the user's sessions.
func (t *Tokens) SetGrant(ctx context.Context, actor auth.Principal, userID string, g auth.Grant) error {
	g, err := g.Validate()
	if err != nil {
		return err
	}
	return t.change(ctx, actor, userID, auth.AuditUserGranted, &g, true,
		`UPDATE auth_users SET role = $1, municipalities = $2, granted_by_admin = true WHERE id = $3`, g.Role, codeStrings(g.Municipalities))
}

// UseMappings gives the user back to the mappings; it ends its sessions.
func (t *Tokens) UseMappings(ctx context.Context, actor auth.Principal, userID string) error {
	return t.change(ctx, actor, userID, auth.AuditUserToMappings, nil, true, `UPDATE auth_users SET granted_by_admin = false WHERE id = $1`)
}

// Disable stops the user: its sessions end, its tokens stop.
func (t *Tokens) Disable(ctx context.Context, actor auth.Principal, userID string) error {
	return t.change(ctx, actor, userID, auth.AuditUserDisabled, nil, true, `UPDATE auth_users SET disabled = true WHERE id = $1`)
}

// Enable undoes Disable; an erased user stays erased (auth.ErrUserErased).
func (t *Tokens) Enable(ctx context.Context, actor auth.Principal, userID string) error {
	return t.change(ctx, actor, userID, auth.AuditUserEnabled, nil, false, `UPDATE auth_users SET disabled = false WHERE id = $1`)
}

// EraseUser drops the user's profile and subject, disables it and ends
// its sessions, then destroys its key. Erasing an erased user destroys the
// key again (a failed destruction can be retried) and writes nothing.
func (t *Tokens) EraseUser(ctx context.Context, actor auth.Principal, userID string) error {
	if t.sealer == nil {
		return auth.ErrNoSealer
	}
	err := t.change(ctx, actor, userID, auth.AuditUserErased, nil, true,
		`UPDATE auth_users SET profile = NULL, subject_hash = NULL, disabled = true, erased = true WHERE id = $1`)
	if err != nil && !errors.Is(err, auth.ErrUserErased) {
		return err
	}
	if err := t.sealer.Erase(ctx, userID); err != nil {
		return fmt.Errorf("erase user %s: destroy its key: %w", userID, err)
	}
	return nil
}

// Sessions lists the live sessions, newest first.
func (t *Tokens) Sessions(ctx context.Context, now time.Time) ([]auth.SessionInfo, error) {
	rows, err := t.pool.Query(ctx, `SELECT s.hash, s.principal_kind, COALESCE(t.name, u.id, ''), s.created_at, s.last_used_at, s.expires_at
		FROM auth_sessions s
		LEFT JOIN auth_tokens t ON s.principal_kind = $1 AND t.hash = s.principal_ref
		LEFT JOIN auth_users u ON u.id = CASE WHEN s.principal_kind = $2 THEN convert_from(s.principal_ref, 'UTF8') END
		WHERE s.expires_at > $3 AND (t.name IS NOT NULL OR u.id IS NOT NULL)
		ORDER BY s.created_at DESC, s.hash`, auth.PrincipalToken, auth.PrincipalUser, now)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.SessionInfo, error) {
		var (
			s    auth.SessionInfo
			hash []byte
		)
		err := r.Scan(&hash, &s.Kind, &s.Subject, &s.Created, &s.LastUsed, &s.Expires)
		s.Handle = auth.SessionHandle(hash)
		s.Created, s.LastUsed, s.Expires = s.Created.UTC(), s.LastUsed.UTC(), s.Expires.UTC()
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	if out == nil {
		out = []auth.SessionInfo{}
	}
	return out, nil
}

// EndSessionByHandle ends the session whose hash begins with the handle's
// bytes.
func (t *Tokens) EndSessionByHandle(ctx context.Context, actor auth.Principal, handle string) error {
	prefix, err := auth.ParseSessionHandle(handle)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM auth_sessions WHERE substring(hash from 1 for $1) = $2`, len(prefix), prefix)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: %s", auth.ErrSessionNotFound, handle)
		}
		return audit(ctx, tx, t.now(), actor, auth.AuditSessionEnded, auth.SessionHandle(prefix), nil)
	})
	if err != nil && !errors.Is(err, auth.ErrSessionNotFound) {
		return fmt.Errorf("end session %s: %w", handle, err)
	}
	return err
}

// Audit returns the entries that match, newest first.
func (t *Tokens) Audit(ctx context.Context, f auth.AuditFilter) ([]auth.AuditEntry, error) {
	q := `SELECT seq, at, actor, action, target, grant_json::text FROM auth_audit WHERE true`
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		q += fmt.Sprintf(cond, len(args))
	}
	if f.Actor != "" {
		add(" AND actor = $%d", f.Actor)
	}
	if f.Action != "" {
		add(" AND action = $%d", f.Action)
	}
	if f.Target != "" {
		add(" AND target = $%d", f.Target)
	}
	if !f.From.IsZero() {
		add(" AND at >= $%d", f.From)
	}
	if !f.To.IsZero() {
		add(" AND at < $%d", f.To)
	}
	if f.Before > 0 {
		add(" AND seq < $%d", f.Before)
	}
	add(" ORDER BY seq DESC LIMIT $%d", f.AuditLimit())
	rows, err := t.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.AuditEntry, error) {
		var (
			e     auth.AuditEntry
			grant *string
		)
		if err := r.Scan(&e.Seq, &e.At, &e.Actor, &e.Action, &e.Target, &grant); err != nil {
			return e, err
		}
		e.At = e.At.UTC()
		if grant != nil {
			g, err := auth.DecodeGrant([]byte(*grant))
			if err != nil {
				return e, fmt.Errorf("audit entry %d: %w", e.Seq, err)
			}
			e.Grant = g
		}
		return e, nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if out == nil {
		out = []auth.AuditEntry{}
	}
	return out, nil
}
