package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/samspill/samspill/auth"
)

// inTx runs f in a transaction that takes the write lock at once (BEGIN
// IMMEDIATE): a deferred one that reads first could not upgrade its lock
// while another connection writes, and would fail instead of waiting out
// the busy timeout.
func (t *Tokens) inTx(ctx context.Context, f func(tx *sql.Conn) error) (err error) {
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			// A context cancelled mid-way must not leave the connection
			// in a transaction when it goes back to the pool.
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		}
	}()
	if err := f(conn); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, `COMMIT`)
	return err
}

// audit writes an audit entry in tx.
func audit(ctx context.Context, tx *sql.Conn, at time.Time, actor auth.Principal, action, target string, g *auth.Grant) error {
	var grant sql.NullString
	if b := auth.EncodeGrant(g); b != nil {
		grant = sql.NullString{String: string(b), Valid: true}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit (at, actor, action, target, grant_json) VALUES (?, ?, ?, ?, ?)`,
		formatTime(at), auth.ActorOf(actor), action, target, grant)
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
func scanUser(sc interface{ Scan(...any) error }) (userRow, error) {
	var (
		u                    userRow
		codes, created, last string
		byAdmin, dis, erased int
	)
	err := sc.Scan(&u.ID, &u.Provider, &u.profile, &u.Grant.Role, &codes, &byAdmin, &dis, &erased, &created, &last)
	u.Grant.Municipalities = splitCodes(codes)
	u.GrantedByAdmin, u.Disabled, u.Erased = byAdmin != 0, dis != 0, erased != 0
	u.CreatedAt, u.LastSignInAt = parseTime(created), parseTime(last)
	return u, err
}

// open opens the row's profile.
func (t *Tokens) open(ctx context.Context, r userRow) (auth.User, error) {
	u := r.User
	var err error
	u.Name, u.Email, err = auth.OpenProfile(ctx, t.sealer, u.ID, r.profile)
	return u, err
}

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
	err = t.db.QueryRowContext(ctx, `SELECT id FROM users WHERE subject_hash = ?`, subject[:]).Scan(&userID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
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
	err = t.inTx(ctx, func(tx *sql.Conn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, formatTime(now)); err != nil {
			return fmt.Errorf("delete expired sessions: %w", err)
		}
		u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE subject_hash = ?`, subject[:]))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// Another sign-in may have made the user since the read
			// above; then its id is the one found here, and the profile
			// sealed for a new id is not used: sign in again.
			if _, err := tx.ExecContext(ctx, `INSERT INTO users (id, provider, subject_hash, profile, role, municipalities, created_at, last_sign_in_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, userID, id.Provider, subject[:], sealed, mapped.Role, joinCodes(mapped.Municipalities),
				formatTime(now), formatTime(now)); err != nil {
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
			if _, err := tx.ExecContext(ctx, `UPDATE users SET profile = ?, role = ?, municipalities = ?, last_sign_in_at = ? WHERE id = ?`,
				sealed, u.Grant.Role, joinCodes(u.Grant.Municipalities), formatTime(now), u.ID); err != nil {
				return err
			}
		}
		u.LastSignInAt = now
		g := u.Grant
		if err := audit(ctx, tx, now, auth.SystemPrincipal, auth.AuditUserSignedIn, u.ID, &g); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (hash, principal_kind, principal_ref, created_at, last_used_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			hash[:], auth.PrincipalUser, []byte(u.ID), formatTime(now), formatTime(now), formatTime(auth.SessionExpiry(now, now)))
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

// errRaced means another sign-in made the user between SignIn's read and
// its transaction.
var errRaced = errors.New("the user was made meanwhile")

// User returns the user.
func (t *Tokens) User(ctx context.Context, id string) (auth.User, error) {
	r, err := scanUser(t.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
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
	rows, err := t.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var stored []userRow
	for rows.Next() {
		r, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		stored = append(stored, r)
	}
	if err := rows.Err(); err != nil {
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
	err := t.inTx(ctx, func(tx *sql.Conn) error {
		var erased int
		err := tx.QueryRowContext(ctx, `SELECT erased FROM users WHERE id = ?`, userID).Scan(&erased)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", auth.ErrUserNotFound, userID)
		}
		if err != nil {
			return err
		}
		if erased != 0 {
			return fmt.Errorf("%w: %s", auth.ErrUserErased, userID)
		}
		if _, err := tx.ExecContext(ctx, update, append(args, userID)...); err != nil {
			return err
		}
		if endSessions {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE principal_kind = ? AND principal_ref = ?`, auth.PrincipalUser, []byte(userID)); err != nil {
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
		`UPDATE users SET role = ?, municipalities = ?, granted_by_admin = 1 WHERE id = ?`, g.Role, joinCodes(g.Municipalities))
}

// UseMappings gives the user back to the mappings; it ends its sessions.
func (t *Tokens) UseMappings(ctx context.Context, actor auth.Principal, userID string) error {
	return t.change(ctx, actor, userID, auth.AuditUserToMappings, nil, true, `UPDATE users SET granted_by_admin = 0 WHERE id = ?`)
}

// Disable stops the user: its sessions end, its tokens stop.
func (t *Tokens) Disable(ctx context.Context, actor auth.Principal, userID string) error {
	return t.change(ctx, actor, userID, auth.AuditUserDisabled, nil, true, `UPDATE users SET disabled = 1 WHERE id = ?`)
}

// Enable undoes Disable; an erased user stays erased (auth.ErrUserErased).
func (t *Tokens) Enable(ctx context.Context, actor auth.Principal, userID string) error {
	return t.change(ctx, actor, userID, auth.AuditUserEnabled, nil, false, `UPDATE users SET disabled = 0 WHERE id = ?`)
}

// EraseUser drops the user's profile and subject, disables it and ends
// its sessions, then destroys its key. Erasing an erased user destroys the
// key again (a failed destruction can be retried) and writes nothing.
func (t *Tokens) EraseUser(ctx context.Context, actor auth.Principal, userID string) error {
	if t.sealer == nil {
		return auth.ErrNoSealer
	}
	err := t.change(ctx, actor, userID, auth.AuditUserErased, nil, true,
		`UPDATE users SET profile = NULL, subject_hash = NULL, disabled = 1, erased = 1 WHERE id = ?`)
	if err != nil && !errors.Is(err, auth.ErrUserErased) {
		return err
	}
	if err := t.sealer.Erase(ctx, userID); err != nil {
		return fmt.Errorf("erase user %s: destroy its key: %w", userID, err)
	}
	if err := t.checkpoint(ctx); err != nil {
		return fmt.Errorf("erase user %s: %w", userID, err)
	}
	return nil
}

// checkpoint copies the WAL into the database and truncates it, so that
// the erased row's old contents are in no file (secure_delete zeroes the
// database's freed pages). A reader holding an old snapshot can block it;
// it is tried again for a while.
func (t *Tokens) checkpoint(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		var busy, logFrames, checkpointed int
		if err := t.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if attempt == 50 {
			return errors.New("the token store stayed busy: the user is erased, but its old row may linger in the WAL until the next checkpoint (erase again to retry)")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Sessions lists the live sessions, newest first.
func (t *Tokens) Sessions(ctx context.Context, now time.Time) ([]auth.SessionInfo, error) {
	rows, err := t.db.QueryContext(ctx, `SELECT s.hash, s.principal_kind, COALESCE(t.name, u.id, ''), s.created_at, s.last_used_at, s.expires_at
		FROM sessions s
		LEFT JOIN tokens t ON s.principal_kind = ? AND t.hash = s.principal_ref
		LEFT JOIN users u ON s.principal_kind = ? AND u.id = CAST(s.principal_ref AS TEXT)
		WHERE s.expires_at > ? AND (t.name IS NOT NULL OR u.id IS NOT NULL)
		ORDER BY s.created_at DESC, s.hash`, auth.PrincipalToken, auth.PrincipalUser, formatTime(now))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	out := []auth.SessionInfo{}
	for rows.Next() {
		var (
			s                      auth.SessionInfo
			hash                   []byte
			created, used, expires string
		)
		if err := rows.Scan(&hash, &s.Kind, &s.Subject, &created, &used, &expires); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		s.Handle = auth.SessionHandle(hash)
		s.Created, s.LastUsed, s.Expires = parseTime(created), parseTime(used), parseTime(expires)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
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
	err = t.inTx(ctx, func(tx *sql.Conn) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE substr(hash, 1, ?) = ?`, len(prefix), prefix)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
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
	q := `SELECT seq, at, actor, action, target, grant_json FROM audit WHERE 1 = 1`
	var args []any
	for _, c := range []struct {
		cond string
		arg  string
	}{{" AND actor = ?", f.Actor}, {" AND action = ?", f.Action}, {" AND target = ?", f.Target}} {
		if c.arg != "" {
			q += c.cond
			args = append(args, c.arg)
		}
	}
	if !f.From.IsZero() {
		q += " AND at >= ?"
		args = append(args, formatTime(f.From))
	}
	if !f.To.IsZero() {
		q += " AND at < ?"
		args = append(args, formatTime(f.To))
	}
	if f.Before > 0 {
		q += " AND seq < ?"
		args = append(args, f.Before)
	}
	q += " ORDER BY seq DESC LIMIT ?"
	args = append(args, f.AuditLimit())
	rows, err := t.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	defer rows.Close()
	out := []auth.AuditEntry{}
	for rows.Next() {
		var (
			e     auth.AuditEntry
			at    string
			grant sql.NullString
		)
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Target, &grant); err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		e.At = parseTime(at)
		if e.Grant, err = auth.DecodeGrant([]byte(grant.String)); err != nil {
			return nil, fmt.Errorf("audit entry %d: %w", e.Seq, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return out, nil
}
