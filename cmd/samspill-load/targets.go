package main

import (
	"fmt"
	"net/http"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// authorized is the header set of every measured request but /healthz.
func authorized(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// fixedGET requests the same URL every time.
func fixedGET(url string, header http.Header) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		t.Method, t.URL, t.Header = http.MethodGet, url, header
		return nil
	}
}

// partnershipReads reads the partnerships ids round robin: GET
// /api/v1/partnerships/{id}. Safe for concurrent use, as vegeta needs.
func partnershipReads(base string, header http.Header, ids []string) vegeta.Targeter {
	var n atomic.Uint64
	return func(t *vegeta.Target) error {
		id := ids[(n.Add(1)-1)%uint64(len(ids))]
		t.Method, t.URL, t.Header = http.MethodGet, base+"/api/v1/partnerships/"+id, header
		return nil
	}
}

// milestoneBody is a milestone as a coordinator logs one; occurred_at is
// left out, so the server dates it now.
var milestoneBody = []byte(`{"kind":"meeting","title":"Samling for deltakere og frivillige","note":"Logget av samspill-load"}`)

// milestoneWrites posts a milestone to the partnerships round robin, each
// with an Idempotency-Key of its own (as clients that retry send one):
// POST /api/v1/partnerships/{id}/milestones. run makes the keys unique
// across scenarios. Safe for concurrent use.
func milestoneWrites(base, token, run string, ids []string) vegeta.Targeter {
	var n atomic.Uint64
	return func(t *vegeta.Target) error {
		i := n.Add(1) - 1
		id := ids[i%uint64(len(ids))]
		t.Method, t.URL, t.Body = http.MethodPost, base+"/api/v1/partnerships/"+id+"/milestones", milestoneBody
		t.Header = http.Header{
			"Authorization":   {"Bearer " + token},
			"Content-Type":    {"application/json"},
			"Idempotency-Key": {fmt.Sprintf("samspill-load-%s-%d", run, i)},
		}
		return nil
	}
}
