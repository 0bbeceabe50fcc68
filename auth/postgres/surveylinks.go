package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/samspill/samspill/auth"
)

var _ auth.SurveyLinkStore = (*Tokens)(nil)

// CreateLinks stores links, all or none (one COPY-free batch in a
// transaction: a request makes at most 5,000).
func (t *Tokens) CreateLinks(ctx context.Context, links []auth.SurveyLink) error {
	for _, l := range links {
		if err := auth.CheckLink(l); err != nil {
			return err
		}
	}
	now := t.now().UTC().Truncate(time.Second)
	err := pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, l := range links {
			created := now
			if !l.CreatedAt.IsZero() {
				created = l.CreatedAt.UTC().Truncate(time.Second)
			}
			b.Queue(`INSERT INTO auth_survey_links (hash, wave_id, project_id, municipality, grp, partnership_id,
				batch, expires_at, state, created_at, address, mail, mail_error, reminders, last_mail_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
				l.Hash[:], l.WaveID, l.ProjectID, l.Municipality, l.Group, l.PartnershipID, l.Batch,
				l.ExpiresAt.UTC().Truncate(time.Second), l.State, created, l.Address, l.Mail, l.MailError,
				l.Reminders, nullTime(l.LastMailAt))
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("create survey links: %w", err)
	}
	return nil
}

const linkColumns = `hash, wave_id, project_id, municipality, grp, partnership_id, batch, expires_at, state,
	created_at, address, mail, mail_error, reminders, last_mail_at`

func scanLink(row pgx.Row) (auth.SurveyLink, error) {
	var (
		l        auth.SurveyLink
		hash     []byte
		lastMail *time.Time
	)
	err := row.Scan(&hash, &l.WaveID, &l.ProjectID, &l.Municipality, &l.Group, &l.PartnershipID, &l.Batch,
		&l.ExpiresAt, &l.State, &l.CreatedAt, &l.Address, &l.Mail, &l.MailError, &l.Reminders, &lastMail)
	if err != nil {
		return auth.SurveyLink{}, err
	}
	copy(l.Hash[:], hash)
	l.ExpiresAt, l.CreatedAt, l.LastMailAt = l.ExpiresAt.UTC(), l.CreatedAt.UTC(), fromNullTime(lastMail)
	return l, nil
}

// Link returns the link of a token's hash.
func (t *Tokens) Link(ctx context.Context, hash auth.Hash) (auth.SurveyLink, error) {
	l, err := scanLink(t.pool.QueryRow(ctx, `SELECT `+linkColumns+` FROM auth_survey_links WHERE hash = $1`, hash[:]))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.SurveyLink{}, auth.ErrLinkNotFound
	}
	if err != nil {
		return auth.SurveyLink{}, fmt.Errorf("survey link: %w", err)
	}
	return l, nil
}

// MarkLink moves a link forward in one conditional update: a completed
// link is never written.
func (t *Tokens) MarkLink(ctx context.Context, hash auth.Hash, state string) error {
	if err := auth.CheckMark(state); err != nil {
		return err
	}
	tag, err := t.pool.Exec(ctx, `UPDATE auth_survey_links SET state = $1 WHERE hash = $2 AND state <> 'completed'`,
		state, hash[:])
	if err != nil {
		return fmt.Errorf("mark survey link %s: %w", state, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var current string
	err = t.pool.QueryRow(ctx, `SELECT state FROM auth_survey_links WHERE hash = $1`, hash[:]).Scan(&current)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return auth.ErrLinkNotFound
	case err != nil:
		return fmt.Errorf("survey link: %w", err)
	case current == auth.LinkCompleted:
		return auth.ErrLinkCompleted
	}
	return nil
}

// Links lists a wave's links that match the filter, oldest first.
func (t *Tokens) Links(ctx context.Context, f auth.LinkFilter) ([]auth.SurveyLink, error) {
	limit := any(nil)
	if f.Limit > 0 {
		limit = f.Limit
	}
	rows, err := t.pool.Query(ctx, `SELECT `+linkColumns+` FROM auth_survey_links
		WHERE wave_id = $1 AND (cardinality($2::text[]) = 0 OR state = ANY($2))
		AND (cardinality($3::text[]) = 0 OR mail = ANY($3) OR (mail = 'sending' AND last_mail_at < $6))
		AND (NOT $4 OR address <> '')
		ORDER BY seq LIMIT $5`, f.WaveID, nonNil(f.States), nonNil(f.Mail), f.WithAddress, limit, nullTime(f.SendingBefore))
	if err != nil {
		return nil, fmt.Errorf("list survey links: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.SurveyLink, error) { return scanLink(r) })
	if err != nil {
		return nil, fmt.Errorf("list survey links: %w", err)
	}
	return out, nil
}

// nonNil makes a nil list an empty array, not SQL NULL.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// SetMail records a mailing's outcome.
func (t *Tokens) SetMail(ctx context.Context, hash auth.Hash, mail, mailErr string, at time.Time) error {
	if !auth.ValidMail(mail) {
		return fmt.Errorf("%w: mail state %q", auth.ErrInvalidLink, mail)
	}
	tag, err := t.pool.Exec(ctx, `UPDATE auth_survey_links SET mail = $1, mail_error = $2, last_mail_at = $3 WHERE hash = $4`,
		mail, mailErr, nullTime(at), hash[:])
	if err != nil {
		return fmt.Errorf("set survey link mail: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return auth.ErrLinkNotFound
	}
	return nil
}

// CountLinks counts a wave's links by municipality, group and partnership.
func (t *Tokens) CountLinks(ctx context.Context, waveID string) ([]auth.LinkCount, error) {
	rows, err := t.pool.Query(ctx, `SELECT municipality, grp, partnership_id, count(*),
		count(*) FILTER (WHERE state <> 'invited'), count(*) FILTER (WHERE state = 'completed'),
		count(*) FILTER (WHERE mail = 'bounced')
		FROM auth_survey_links WHERE wave_id = $1 GROUP BY municipality, grp, partnership_id
		ORDER BY municipality COLLATE "C", grp COLLATE "C", partnership_id COLLATE "C"`, waveID)
	if err != nil {
		return nil, fmt.Errorf("count survey links: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.LinkCount, error) {
		var c auth.LinkCount
		err := r.Scan(&c.Municipality, &c.Group, &c.PartnershipID, &c.Invited, &c.Started, &c.Completed, &c.Bounced)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("count survey links: %w", err)
	}
	return out, nil
}

// QueueReminder queues a reminder in one conditional update.
func (t *Tokens) QueueReminder(ctx context.Context, hash auth.Hash, max int, lastBefore, at time.Time) error {
	tag, err := t.pool.Exec(ctx, `UPDATE auth_survey_links SET mail = 'queued', mail_error = '', reminders = reminders + 1,
		last_mail_at = $1 WHERE hash = $2 AND mail = 'sent' AND reminders < $3 AND last_mail_at <= $4`,
		nullTime(at), hash[:], max, lastBefore.UTC())
	if err != nil {
		return fmt.Errorf("queue survey link reminder: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return auth.ErrLinkNotFound
	}
	return nil
}

// ClaimMail takes a link for one message in one conditional update (the
// row's lock makes a second instance's update see the first's change and
// write nothing).
func (t *Tokens) ClaimMail(ctx context.Context, c auth.MailClaim) error {
	if err := auth.CheckClaim(c); err != nil {
		return err
	}
	hash := c.Target()
	tag, err := t.pool.Exec(ctx, `UPDATE auth_survey_links SET hash = $1, mail = 'sending', last_mail_at = $2
		WHERE hash = $3 AND state = $4
		AND (mail IN ('queued', 'failed') OR (mail = 'sending' AND last_mail_at < $5))`,
		hash[:], nullTime(c.At), c.Hash[:], c.State, c.StaleBefore.UTC())
	if err != nil {
		return fmt.Errorf("claim survey link for mail: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return auth.ErrLinkNotFound
	}
	return nil
}

// EraseAddresses removes a wave's addresses. Their old row versions stay
// in the table's pages until VACUUM (docs/operations.md).
func (t *Tokens) EraseAddresses(ctx context.Context, waveID string) (int, error) {
	tag, err := t.pool.Exec(ctx, `UPDATE auth_survey_links SET address = '' WHERE wave_id = $1 AND address <> ''`, waveID)
	if err != nil {
		return 0, fmt.Errorf("erase survey link addresses: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
