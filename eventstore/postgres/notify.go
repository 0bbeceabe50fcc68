package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/samspill/samspill/internal/backoff"
)

// HeadMoved returns a channel that is closed as soon as an event with a
// position above the newest one the store knows of is committed, by this
// store or by any other instance on the schema, or when the store closes.
//
// The store learns of its own commits directly and of everyone's through
// the NOTIFY its append transactions send, on a connection that LISTENs
// from Open to Close. When that connection drops it is re-established with
// backoff; after each (re)connect the store reads the head, so a commit
// whose notification was missed meanwhile still fires the channel.
func (s *Store) HeadMoved() <-chan struct{} { return s.moved.HeadMoved() }

// listen runs the LISTEN connection behind HeadMoved until ctx ends.
func (s *Store) listen(ctx context.Context) {
	wait := backoff.New(s.backoff[0], s.backoff[1])
	for first := true; ctx.Err() == nil; first = false {
		err := s.listenOnce(ctx, func() {
			wait.Reset()
			if !first {
				s.stats.reconnects.Add(1)
			}
		})
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("event store notifications interrupted; reconnecting", "host", s.host, "channel", s.channel,
			"retry_in", wait.Next(), "err", oneLine(translate(s.host, err)))
		if !wait.Sleep(ctx) {
			return
		}
	}
}

// listenOnce connects, LISTENs, reads the head (notifying for it, since
// notifications sent before LISTEN took effect are lost), calls connected
// and then notifies for every notification until the connection fails or
// ctx ends. It always returns an error.
func (s *Store) listenOnce(ctx context.Context, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.listenConfig)
	if err != nil {
		return err
	}
	defer func() {
		s.listenPID.Store(0)
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return err
	}
	var head int64
	if err := conn.QueryRow(ctx, headSQL).Scan(&head); err != nil {
		return err
	}
	s.listenPID.Store(conn.PgConn().PID())
	connected()
	s.log.Debug("listening for event store notifications", "host", s.host, "channel", s.channel, "head", head)
	s.moved.Notify(uint64(head))
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		pos, err := strconv.ParseUint(n.Payload, 10, 64)
		if err != nil {
			// Not one of ours (someone NOTIFYing by hand): read the head.
			s.log.Debug("unexpected notification payload", "channel", n.Channel, "payload", n.Payload)
			if err := conn.QueryRow(ctx, headSQL).Scan(&head); err != nil {
				return err
			}
			pos = uint64(head)
		}
		s.moved.Notify(pos)
	}
}
