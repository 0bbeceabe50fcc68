package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
)

// defaultStreamKeepalive is how long an event stream stays silent before
// it sends a comment line, so that proxies and clients see it alive.
const defaultStreamKeepalive = 15 * time.Second

// streamPage is how many events a stream reads from the store at a time
// while it catches up.
const streamPage = 500

// streamWriteWindow bounds every single write to a stream's client. The
// write deadline is moved this far ahead before each write, so that the
// server's WriteTimeout, meant for ordinary answers, does not cut off a
// long-lived stream, while a client that stops reading still ends it.
const streamWriteWindow = 30 * time.Second

// errStreamsDone ends the streams when Config.StreamsDone closes.
var errStreamsDone = errors.New("event streams ended by the server")

// streamEvents serves GET /events/stream: every stored event after a
// position as server-sent events, first those already stored, then each
// new one as soon as it commits, in position order, one SSE event each
// (id: position, event: type, data: the envelope as one line of JSON).
//
// The start is the Last-Event-ID header, which browsers send when they
// reconnect, else the after query parameter, else 0. An invalid value is a
// 400 problem before the stream starts. The stream ends when the client
// goes away, the store closes, Config.StreamsDone closes or a write fails;
// a client resumes with the id of the last event it received and gets
// every later event exactly once.
func (s *Server) streamEvents(c *gin.Context) {
	q := queryParams{c: c}
	after := q.position("after")
	if v := c.GetHeader("Last-Event-ID"); v != "" {
		if n, ok := parsePosition(strings.TrimSpace(v)); ok {
			after = n
		} else {
			q.invalid("Last-Event-ID", positionMessage)
		}
	}
	if err := q.err(); err != nil {
		s.fail(c, err)
		return
	}

	ctx, stop := s.watchCredential(c, s.bearerRecheck(c))
	defer stop()
	w, err := startEventStream(c)
	if err == nil {
		err = s.stream(ctx, w, after, s.hist.ShowTo(principal(c)))
	}
	var clientErr *streamClientError
	switch {
	case errors.Is(context.Cause(ctx), errCredentialChanged):
		// Logged by the watch; the client reconnects and gets a 401 or
		// its new rights.
	case errors.Is(err, errStreamsDone):
		s.log.DebugContext(ctx, "event stream ended: server shutting down", "request_id", edge.RequestID(c))
	case ctx.Err() != nil:
		// The client went away; nothing to report.
	case errors.Is(err, eventstore.ErrClosed):
		s.log.InfoContext(ctx, "event stream ended: event store closed", "request_id", edge.RequestID(c))
	case errors.As(err, &clientErr):
		s.log.WarnContext(ctx, "event stream ended: client unreachable", "request_id", edge.RequestID(c), "err", err)
	default:
		s.log.ErrorContext(ctx, "event stream failed", "request_id", edge.RequestID(c), "err", err)
	}
}

// stream sends every event after position after to w, then waits for new
// ones, until ctx ends, Config.StreamsDone closes or an error occurs. It
// never returns nil.
func (s *Server) stream(ctx context.Context, w *sseWriter, after uint64, shower *history.Shower) error {
	keepalive := time.NewTimer(s.streamKeepalive)
	defer keepalive.Stop()
	for {
		// Take the channel before reading: an event committed after the
		// read started closes it, so none can slip between the read and
		// the wait.
		moved := s.store.HeadMoved()
		for {
			select {
			case <-s.streamsDone:
				return errStreamsDone
			default:
			}
			events, err := s.store.ReadAll(ctx, after, streamPage)
			if err != nil {
				return fmt.Errorf("read events after %d: %w", after, err)
			}
			skipped := false
			for _, e := range events {
				if _, ok := history.ID(e.StreamID); !ok {
					// A survey's event: not the partnerships' log. The
					// next read starts after it all the same.
					after, skipped = e.Position, true
					continue
				}
				skipped = false
				e, err := shower.Show(ctx, e)
				if err != nil {
					return err
				}
				if err := w.event(e); err != nil {
					return err
				}
				after = e.Position
			}
			if skipped {
				// Move the client's Last-Event-ID past the events left
				// out, so that a reconnect does not read them again.
				if err := w.position(after); err != nil {
					return err
				}
			}
			if len(events) > 0 {
				keepalive.Reset(s.streamKeepalive)
			}
			if len(events) < streamPage {
				// A short page reached the head as it was when the read
				// began; what committed since has closed moved. Reading
				// again only to find nothing cost every stream a second
				// read per commit.
				break
			}
		}
	wait:
		for {
			select {
			case <-moved:
				break wait
			case <-ctx.Done():
				return ctx.Err()
			case <-s.streamsDone:
				return errStreamsDone
			case <-keepalive.C:
				if err := w.comment("keepalive"); err != nil {
					return err
				}
				keepalive.Reset(s.streamKeepalive)
			}
		}
	}
}

// sseWriter writes server-sent events to one client, flushing each and
// moving the connection's write deadline ahead before each.
type sseWriter struct {
	w         gin.ResponseWriter
	rc        *http.ResponseController
	deadlines bool // the connection supports write deadlines
	buf       []byte
}

// streamClientError is a failure to reach the client (a write, a flush or
// a deadline), as opposed to a failure of the server.
type streamClientError struct{ err error }

func (e *streamClientError) Error() string { return e.err.Error() }
func (e *streamClientError) Unwrap() error { return e.err }

// startEventStream answers the request's headers and flushes them, so the
// client knows the stream is open before the first event. Gin's
// ResponseWriter unwraps to net/http's, so the ResponseController reaches
// the connection's deadlines. (The server's ReadTimeout needs nothing:
// net/http clears the read deadline once a request without a body has been
// read.)
func startEventStream(c *gin.Context) (*sseWriter, error) {
	w := &sseWriter{w: c.Writer, rc: http.NewResponseController(c.Writer), deadlines: true}
	if err := w.extendDeadline(); err != nil {
		return nil, err
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	c.Writer.WriteHeaderNow()
	if err := w.rc.Flush(); err != nil {
		return nil, &streamClientError{fmt.Errorf("flush headers: %w", err)}
	}
	return w, nil
}

// event writes one stored event: id its position, event its type, data its
// envelope as a single line of JSON (encoding/json escapes line breaks in
// strings and compacts the raw payload).
func (w *sseWriter) event(e eventstore.RecordedEvent) error {
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event at position %d: %w", e.Position, err)
	}
	w.buf = append(w.buf[:0], "id: "...)
	w.buf = strconv.AppendUint(w.buf, e.Position, 10)
	w.buf = append(w.buf, "\nevent: "...)
	w.buf = append(w.buf, sseLineBreaks.Replace(e.Type)...)
	w.buf = append(w.buf, "\ndata: "...)
	w.buf = append(w.buf, data...)
	w.buf = append(w.buf, "\n\n"...)
	return w.write(w.buf)
}

// position writes an SSE message of an id alone: clients take it as their
// last event id and dispatch no event.
func (w *sseWriter) position(p uint64) error {
	w.buf = append(w.buf[:0], "id: "...)
	w.buf = strconv.AppendUint(w.buf, p, 10)
	w.buf = append(w.buf, "\n\n"...)
	return w.write(w.buf)
}

// sseLineBreaks removes line breaks, which would end an SSE field early.
var sseLineBreaks = strings.NewReplacer("\r\n", "", "\r", "", "\n", "")

// comment writes an SSE comment line, which clients ignore.
func (w *sseWriter) comment(text string) error {
	return w.write([]byte(": " + sseLineBreaks.Replace(text) + "\n\n"))
}

func (w *sseWriter) write(p []byte) error {
	if err := w.extendDeadline(); err != nil {
		return err
	}
	if _, err := w.w.Write(p); err != nil {
		return &streamClientError{fmt.Errorf("write to client: %w", err)}
	}
	if err := w.rc.Flush(); err != nil {
		return &streamClientError{fmt.Errorf("flush to client: %w", err)}
	}
	return nil
}

// extendDeadline moves the write deadline streamWriteWindow ahead, unless
// the connection has no deadlines.
func (w *sseWriter) extendDeadline() error {
	if !w.deadlines {
		return nil
	}
	err := w.rc.SetWriteDeadline(time.Now().Add(streamWriteWindow))
	switch {
	case errors.Is(err, http.ErrNotSupported):
		w.deadlines = false
	case err != nil:
		return &streamClientError{fmt.Errorf("extend write deadline: %w", err)}
	}
	return nil
}
