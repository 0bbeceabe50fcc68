package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// connectTimeout bounds how long the clients may take to connect.
const connectTimeout = 30 * time.Second

// streamClients are event stream clients of /api/v1/events/stream, each a
// goroutine with a connection of its own, recording every event it reads.
type streamClients struct {
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	clients []*streamClient
}

type streamClient struct {
	last atomic.Uint64 // the newest position read, for polling
	got  []delivery    // owned by the client's goroutine until it ends
	err  error         // why the stream ended, other than being stopped
}

// connectStreams opens n streams from position after and returns once all
// have their answer's headers (the server then delivers every event
// committed afterwards), or an error if one fails to connect.
func connectStreams(ctx context.Context, base, token string, after uint64, n int) (*streamClients, error) {
	ctx, cancel := context.WithCancel(ctx)
	g := &streamClients{cancel: cancel}
	transport := &http.Transport{DisableCompression: true}
	client := &http.Client{Transport: transport}
	connected := make(chan error, n)
	url := fmt.Sprintf("%s/api/v1/events/stream?after=%d", base, after)
	for range n {
		c := &streamClient{}
		g.clients = append(g.clients, c)
		g.wg.Go(func() { c.run(ctx, client, url, token, connected) })
	}
	timeout := time.NewTimer(connectTimeout)
	defer timeout.Stop()
	for range n {
		select {
		case err := <-connected:
			if err != nil {
				g.stop()
				return nil, fmt.Errorf("event stream: %w", err)
			}
		case <-timeout.C:
			g.stop()
			return nil, fmt.Errorf("event streams not all connected within %s", connectTimeout)
		}
	}
	return g, nil
}

// run reads one stream until ctx ends; it sends one value on connected.
func (c *streamClient) run(ctx context.Context, client *http.Client, url, token string, connected chan<- error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		connected <- err
		return
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := client.Do(req)
	if err != nil {
		connected <- err
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		connected <- fmt.Errorf("%s: %s", resp.Status, body)
		return
	}
	connected <- nil
	err = c.read(resp.Body)
	if ctx.Err() == nil {
		c.err = fmt.Errorf("stream ended early: %v", err)
	}
}

// read records each event's id (its position) when the blank line that
// ends the event arrives. Lines other than id are skipped unparsed.
func (c *streamClient) read(body io.Reader) error {
	r := bufio.NewReaderSize(body, 64<<10)
	var pending uint64
	var havePending bool
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long data line: skip the rest of it.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.ReadSlice('\n')
			}
			if err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0:
			if havePending {
				c.got = append(c.got, delivery{pos: pending, at: time.Now()})
				c.last.Store(pending)
				havePending = false
			}
		case bytes.HasPrefix(line, []byte("id:")):
			v := bytes.TrimSpace(line[len("id:"):])
			pos, perr := strconv.ParseUint(string(v), 10, 64)
			if perr != nil {
				return fmt.Errorf("event id %q: %w", v, perr)
			}
			pending, havePending = pos, true
		}
	}
}

// caughtUp reports whether every client has read position pos.
func (g *streamClients) caughtUp(pos uint64) bool {
	for _, c := range g.clients {
		if c.last.Load() < pos {
			return false
		}
	}
	return true
}

// stop ends every stream and returns what each received, and the errors
// of streams that ended before they were stopped.
func (g *streamClients) stop() ([][]delivery, error) {
	g.cancel()
	g.wg.Wait()
	var errs []error
	out := make([][]delivery, len(g.clients))
	for i, c := range g.clients {
		out[i] = c.got
		if c.err != nil {
			errs = append(errs, fmt.Errorf("client %d: %w", i, c.err))
		}
	}
	return out, errors.Join(errs...)
}
