package backoff

import (
	"context"
	"testing"
	"time"
)

func TestBackoffDoublesUpToTheLongestUntilReset(t *testing.T) {
	b := New(time.Millisecond, 3*time.Millisecond)
	var waits []time.Duration
	for range 4 {
		waits = append(waits, b.Next())
		if !b.Sleep(t.Context()) {
			t.Fatal("Sleep returned false with a live context")
		}
	}
	want := []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 3 * time.Millisecond}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v, want %v", waits, want)
		}
	}
	b.Reset()
	if b.Next() != time.Millisecond {
		t.Fatalf("after Reset the wait is %v, want the shortest", b.Next())
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	long := New(time.Hour, time.Hour)
	if long.Sleep(ctx) {
		t.Fatal("Sleep returned true with a done context")
	}
}
