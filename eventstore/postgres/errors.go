package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/pgdb"
)

// ErrUnavailable means PostgreSQL could not be reached or could not do the
// work just then: connection refused or lost, server shutting down or
// starting, too many connections, a standby that cannot write, a
// serialisation failure or deadlock. An append that fails with it wrote
// nothing, unless the error says that its outcome is unknown; retrying the
// same append (same event ids) is safe either way.
var ErrUnavailable = errors.New("postgresql unavailable")

// Names of the constraints translate maps to the port's errors; the
// migrations name them.
const (
	constraintStreamVersion = "events_stream_version_unique"
	constraintEventID       = "events_event_id_unique"
	constraintKey           = "idempotency_keys_pkey"
)

// translate maps pgx and server errors of the server(s) at host to the
// port's sentinel errors (and ErrUnavailable) where one applies, keeping
// the cause in the chain. It is the one place that interprets SQLSTATE
// codes, connection failures and connection strings that do not parse.
// Of SQLSTATE class 53 (insufficient resources), 53100 disk_full is
// eventstore.ErrStorageFull (pgdb.DiskFull says why only that one); the
// others are ErrUnavailable (unavailableCode).
// Connection failures come out as one line naming the host; no message
// quotes the connection string or a password.
func translate(host string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var parseErr *pgconn.ParseConfigError
	if errors.As(err, &parseErr) {
		// pgx's message quotes the string with the password masked on a
		// best-effort basis only, and its cause may quote it whole.
		detail := "malformed"
		msg := parseErr.Error()
		if inner := parseErr.Unwrap(); inner != nil {
			msg = strings.TrimSuffix(msg, " ("+inner.Error()+")")
		}
		if i := strings.LastIndex(msg, "`: "); i >= 0 {
			detail = msg[i+len("`: "):]
		}
		return &lineError{msg: "parse connection string (not shown, it may hold a password): " + detail, err: err}
	}
	if strings.Contains(err.Error(), "closed pool") {
		// pgxpool refusing work: only after Close.
		return fmt.Errorf("%w: %w", eventstore.ErrClosed, err)
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && !unavailableCode(pgErr.Code) {
			// The server answered and refused: authentication, unknown
			// database, a bad parameter. Not a matter of retrying.
			return &lineError{msg: "connect to PostgreSQL at " + host + ": " + pgErr.Error(), err: err}
		}
		return &lineError{
			msg:  "connect to PostgreSQL at " + host + ": " + ErrUnavailable.Error() + ": " + connectCause(connErr),
			err:  err,
			also: ErrUnavailable,
		}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505" && pgErr.ConstraintName == constraintStreamVersion:
			return fmt.Errorf("%w: %w", eventstore.ErrVersionConflict, err)
		case pgErr.Code == "23505" && pgErr.ConstraintName == constraintEventID:
			return fmt.Errorf("%w: %w", eventstore.ErrDuplicateEventID, err)
		case pgErr.Code == "23505" && pgErr.ConstraintName == constraintKey:
			return fmt.Errorf("%w: %w", eventstore.ErrIdempotencyKeyUsed, err)
		case pgErr.Code == "22021" || pgErr.Code == "22P05":
			// Text the database's encoding cannot hold.
			return fmt.Errorf("%w: %w", eventstore.ErrInvalidAppend, err)
		case pgdb.DiskFull(err):
			return fmt.Errorf("%w: PostgreSQL at %s: %w", eventstore.ErrStorageFull, host, err)
		case unavailableCode(pgErr.Code):
			return fmt.Errorf("%w: PostgreSQL at %s: %w", ErrUnavailable, host, err)
		}
		return err
	}
	if lostConnection(err) {
		return &lineError{
			msg:  "PostgreSQL at " + host + ": " + ErrUnavailable.Error() + ": " + oneLine(err),
			err:  err,
			also: ErrUnavailable,
		}
	}
	return err
}

// unavailableCode reports whether a SQLSTATE says the server could not do
// the work just then, so that the same work may succeed later.
func unavailableCode(code string) bool {
	switch code {
	case "40001", // serialization_failure
		"40P01", // deadlock_detected
		"55P03", // lock_not_available
		"57P01", // admin_shutdown
		"57P02", // crash_shutdown
		"57P03", // cannot_connect_now
		"57014", // query_canceled (statement_timeout; a caller's cancellation is a context error)
		"25006", // read_only_sql_transaction: a standby, e.g. after a failover
		"25P03", // idle_in_transaction_session_timeout
		// Class 53 but disk_full: the server lacked memory or another
		// resource for this statement, or connections; not storage.
		"53000", // insufficient_resources
		"53200", // out_of_memory
		"53300", // too_many_connections
		"53400": // configuration_limit_exceeded
		return true
	}
	return strings.HasPrefix(code, "08") // connection_exception
}

// lostConnection reports whether err is the connection failing rather than
// the server refusing a statement.
func lostConnection(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, net.ErrClosed) || pgconn.Timeout(err) ||
		pgconn.SafeToRetry(err)
}

// connectCause is the useful part of a failed connection attempt: the
// network error when there is one ("dial tcp 127.0.0.1:5432: connect:
// connection refused"), else pgconn's cause without its prefix.
func connectCause(err *pgconn.ConnectError) string {
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return oneLine(opErr)
	}
	if inner := err.Unwrap(); inner != nil {
		return oneLine(inner)
	}
	return oneLine(err)
}

// lineError is a translated error with a message of its own, one line,
// that keeps the original error (and optionally a sentinel) in the chain.
type lineError struct {
	msg  string
	err  error
	also error
}

func (e *lineError) Error() string { return e.msg }

func (e *lineError) Unwrap() []error {
	if e.also == nil {
		return []error{e.err}
	}
	return []error{e.also, e.err}
}

// oneLine flattens an error message to one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// outcomeUnknownError is an append batch whose COMMIT may or may not have
// taken effect: the connection broke after COMMIT was sent and the check
// that would have told failed too.
type outcomeUnknownError struct {
	commit, check error
}

func (e *outcomeUnknownError) Error() string {
	return fmt.Sprintf("outcome unknown: the connection failed during COMMIT (%v) and checking for the events failed (%v); retrying the same append is safe, it is deduplicated",
		e.commit, e.check)
}

func (e *outcomeUnknownError) Unwrap() []error { return []error{ErrUnavailable, e.commit, e.check} }
