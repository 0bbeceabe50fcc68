package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/samspill/samspill/auth"
)

var _ auth.SurveyLinkStore = (*Tokens)(nil)

// CreateLinks stores links, all or none.
func (t *Tokens) CreateLinks(ctx context.Context, links []auth.SurveyLink) error {
	for _, l := range links {
		if err := auth.CheckLink(l); err != nil {
			return err
		}
	}
	now := formatTime(t.now())
	err := t.inTx(ctx, func(tx *sql.Conn) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO survey_links (hash, wave_id, project_id, municipality, grp,
			partnership_id, batch, expires_at, state, created_at, address, mail, mail_error, reminders, last_mail_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer func() { _ = stmt.Close() }()
		for _, l := range links {
			created := now
			if !l.CreatedAt.IsZero() {
				created = formatTime(l.CreatedAt)
			}
			if _, err := stmt.ExecContext(ctx, l.Hash[:], l.WaveID, l.ProjectID, l.Municipality, l.Group,
				l.PartnershipID, l.Batch, formatTime(l.ExpiresAt), l.State, created, l.Address, l.Mail,
				l.MailError, l.Reminders, nullTime(l.LastMailAt)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create survey links: %w", err)
	}
	return nil
}

const linkColumns = `hash, wave_id, project_id, municipality, grp, partnership_id, batch, expires_at, state,
	created_at, address, mail, mail_error, reminders, last_mail_at`

func scanLink(sc interface{ Scan(...any) error }) (auth.SurveyLink, error) {
	var (
		l                auth.SurveyLink
		hash             []byte
		expires, created string
		lastMail         sql.NullString
	)
	err := sc.Scan(&hash, &l.WaveID, &l.ProjectID, &l.Municipality, &l.Group, &l.PartnershipID, &l.Batch,
		&expires, &l.State, &created, &l.Address, &l.Mail, &l.MailError, &l.Reminders, &lastMail)
	if err != nil {
		return auth.SurveyLink{}, err
	}
	copy(l.Hash[:], hash)
	l.ExpiresAt, l.CreatedAt, l.LastMailAt = parseTime(expires), parseTime(created), parseNullTime(lastMail)
	return l, nil
}

// Link returns the link of a token's hash.
func (t *Tokens) Link(ctx context.Context, hash auth.Hash) (auth.SurveyLink, error) {
	l, err := scanLink(t.db.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM survey_links WHERE hash = ?`, hash[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return auth.SurveyLink{}, auth.ErrLinkNotFound
	}
	if err != nil {
		return auth.SurveyLink{}, fmt.Errorf("survey link: %w", err)
	}
	return l, nil
}

// MarkLink moves a link forward. One conditional update: a completed link
// is never written, and started over started changes nothing.
func (t *Tokens) MarkLink(ctx context.Context, hash auth.Hash, state string) error {
	if err := auth.CheckMark(state); err != nil {
		return err
	}
	res, err := t.db.ExecContext(ctx, `UPDATE survey_links SET state = ? WHERE hash = ? AND state <> 'completed'`,
		state, hash[:])
	if err != nil {
		return fmt.Errorf("mark survey link %s: %w", state, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	return t.whyNotWritten(ctx, hash)
}

// whyNotWritten tells a missing link from a completed one after a
// conditional update wrote no row.
func (t *Tokens) whyNotWritten(ctx context.Context, hash auth.Hash) error {
	var state string
	err := t.db.QueryRowContext(ctx, `SELECT state FROM survey_links WHERE hash = ?`, hash[:]).Scan(&state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return auth.ErrLinkNotFound
	case err != nil:
		return fmt.Errorf("survey link: %w", err)
	case state == auth.LinkCompleted:
		return auth.ErrLinkCompleted
	}
	return nil
}

// Links lists a wave's links that match the filter, oldest first.
func (t *Tokens) Links(ctx context.Context, f auth.LinkFilter) ([]auth.SurveyLink, error) {
	q := `SELECT ` + linkColumns + ` FROM survey_links WHERE wave_id = ?`
	args := []any{f.WaveID}
	// in is "column IN (?, ...)" with values as its arguments.
	in := func(column string, values []string) string {
		for _, v := range values {
			args = append(args, v)
		}
		return column + ` IN (?` + strings.Repeat(`, ?`, len(values)-1) + `)`
	}
	if len(f.States) > 0 {
		q += ` AND ` + in("state", f.States)
	}
	if len(f.Mail) > 0 {
		q += ` AND (` + in("mail", f.Mail)
		if !f.SendingBefore.IsZero() {
			q += ` OR (mail = 'sending' AND last_mail_at < ?)`
			args = append(args, formatTime(f.SendingBefore))
		}
		q += `)`
	}
	if f.WithAddress {
		q += ` AND address <> ''`
	}
	q += ` ORDER BY seq`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := t.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list survey links: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []auth.SurveyLink
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, fmt.Errorf("list survey links: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list survey links: %w", err)
	}
	return out, nil
}

// SetMail records a mailing's outcome.
func (t *Tokens) SetMail(ctx context.Context, hash auth.Hash, mail, mailErr string, at time.Time) error {
	if !auth.ValidMail(mail) {
		return fmt.Errorf("%w: mail state %q", auth.ErrInvalidLink, mail)
	}
	res, err := t.db.ExecContext(ctx, `UPDATE survey_links SET mail = ?, mail_error = ?, last_mail_at = ? WHERE hash = ?`,
		mail, mailErr, nullTime(at), hash[:])
	if err != nil {
		return fmt.Errorf("set survey link mail: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("set survey link mail: %w", err)
	} else if n == 0 {
		return auth.ErrLinkNotFound
	}
	return nil
}

// CountLinks counts a wave's links by municipality, group and partnership.
func (t *Tokens) CountLinks(ctx context.Context, waveID string) ([]auth.LinkCount, error) {
	rows, err := t.db.QueryContext(ctx, `SELECT municipality, grp, partnership_id, count(*),
		sum(state <> 'invited'), sum(state = 'completed'), sum(mail = 'bounced')
		FROM survey_links WHERE wave_id = ? GROUP BY municipality, grp, partnership_id
		ORDER BY municipality, grp, partnership_id`, waveID)
	if err != nil {
		return nil, fmt.Errorf("count survey links: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []auth.LinkCount
	for rows.Next() {
		var c auth.LinkCount
		if err := rows.Scan(&c.Municipality, &c.Group, &c.PartnershipID, &c.Invited, &c.Started, &c.Completed, &c.Bounced); err != nil {
			return nil, fmt.Errorf("count survey links: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count survey links: %w", err)
	}
	return out, nil
}

// QueueReminder queues a reminder in one conditional update.
func (t *Tokens) QueueReminder(ctx context.Context, hash auth.Hash, max int, lastBefore, at time.Time) error {
	res, err := t.db.ExecContext(ctx, `UPDATE survey_links SET mail = 'queued', mail_error = '', reminders = reminders + 1,
		last_mail_at = ? WHERE hash = ? AND mail = 'sent' AND reminders < ? AND last_mail_at <= ?`,
		nullTime(at), hash[:], max, formatTime(lastBefore))
	if err != nil {
		return fmt.Errorf("queue survey link reminder: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("queue survey link reminder: %w", err)
	} else if n == 0 {
		return auth.ErrLinkNotFound
	}
	return nil
}

// ClaimMail takes a link for one message in one conditional update, so
// that of several instances' rounds only one succeeds.
func (t *Tokens) ClaimMail(ctx context.Context, c auth.MailClaim) error {
	if err := auth.CheckClaim(c); err != nil {
		return err
	}
	hash := c.Target()
	res, err := t.db.ExecContext(ctx, `UPDATE survey_links SET hash = ?, mail = 'sending', last_mail_at = ?
		WHERE hash = ? AND state = ?
		AND (mail IN ('queued', 'failed') OR (mail = 'sending' AND last_mail_at < ?))`,
		hash[:], nullTime(c.At), c.Hash[:], c.State, formatTime(c.StaleBefore))
	if err != nil {
		return fmt.Errorf("claim survey link for mail: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("claim survey link for mail: %w", err)
	} else if n == 0 {
		return auth.ErrLinkNotFound
	}
	return nil
}

// EraseAddresses removes a wave's addresses, then checkpoints so that the
// old rows are in no page of the WAL either (secure_delete zeroes freed
// pages of the database).
func (t *Tokens) EraseAddresses(ctx context.Context, waveID string) (int, error) {
	res, err := t.db.ExecContext(ctx, `UPDATE survey_links SET address = '' WHERE wave_id = ? AND address <> ''`, waveID)
	if err != nil {
		return 0, fmt.Errorf("erase survey link addresses: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("erase survey link addresses: %w", err)
	}
	if n > 0 {
		if err := t.checkpoint(ctx); err != nil {
			return int(n), fmt.Errorf("erase survey link addresses: %w", err)
		}
	}
	return int(n), nil
}
