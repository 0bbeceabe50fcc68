package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// apiClient makes the harness's own requests (not the measured ones): it
// reads the projections' status, lists partnerships and scrapes /metrics.
type apiClient struct {
	base  string // http://127.0.0.1:port
	token string
	http  *http.Client
}

func newAPIClient(base, token string) *apiClient {
	return &apiClient{base: base, token: token, http: &http.Client{Timeout: 30 * time.Second}}
}

// get fetches path and returns the body of a 200 answer; any other status
// is an error carrying the start of the body.
func (a *apiClient) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: read body: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %.300s", path, resp.Status, body)
	}
	return body, nil
}

func (a *apiClient) getJSON(ctx context.Context, path string, v any) error {
	body, err := a.get(ctx, path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: decode: %w", path, err)
	}
	return nil
}

// projectionStatus is one item of GET /api/v1/admin/projections.
type projectionStatus struct {
	Name     string `json:"name"`
	Position uint64 `json:"position"`
	Lag      uint64 `json:"lag"`
	Status   string `json:"status"`
	Error    string `json:"error"`
}

func (a *apiClient) projections(ctx context.Context) ([]projectionStatus, error) {
	var body struct {
		Items []projectionStatus `json:"items"`
	}
	err := a.getJSON(ctx, "/api/v1/admin/projections", &body)
	return body.Items, err
}

// head is the event store's head as the projections' status reports it.
func (a *apiClient) head(ctx context.Context) (uint64, error) {
	items, err := a.projections(ctx)
	if err != nil {
		return 0, err
	}
	var head uint64
	for _, p := range items {
		head = max(head, p.Position+p.Lag)
	}
	return head, nil
}

// openPartnerships lists up to n partnerships that are not ended (a
// milestone on an ended one is refused), newest first, following cursors.
func (a *apiClient) openPartnerships(ctx context.Context, n int) ([]string, error) {
	var ids []string
	cursor := ""
	for len(ids) < n {
		q := url.Values{"status": {"active"}, "limit": {"500"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		if err := a.getJSON(ctx, "/api/v1/partnerships?"+q.Encode(), &page); err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no active partnerships to write to")
	}
	return ids[:min(n, len(ids))], nil
}
