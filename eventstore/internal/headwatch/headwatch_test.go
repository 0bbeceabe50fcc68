package headwatch

import (
	"testing"
)

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestNotifyClosesOnlyForAPositionAboveTheKnownHead(t *testing.T) {
	var b Broadcaster
	b.Notify(5) // nobody waits: nothing to close, but the head is 5 now
	ch := b.HeadMoved()
	if b.HeadMoved() != ch {
		t.Fatal("two calls without a move handed out two channels")
	}
	b.Notify(5)
	b.Notify(3)
	if closed(ch) {
		t.Fatal("closed for positions at or below the known head")
	}
	b.Notify(6)
	if !closed(ch) {
		t.Fatal("not closed for a position above the known head")
	}
	next := b.HeadMoved()
	if closed(next) {
		t.Fatal("the channel handed out after a move is closed already")
	}
	b.Notify(6)
	if closed(next) {
		t.Fatal("closed again for the same position")
	}
}

func TestCloseClosesNowAndLater(t *testing.T) {
	var b Broadcaster
	ch := b.HeadMoved()
	b.Close()
	b.Close()
	b.Notify(1)
	if !closed(ch) || !closed(b.HeadMoved()) {
		t.Fatal("after Close, HeadMoved channels must be closed")
	}

	var idle Broadcaster // closed before anyone asked for a channel
	idle.Close()
	if !closed(idle.HeadMoved()) {
		t.Fatal("after Close, HeadMoved channels must be closed")
	}
}

func TestAheadCountsUpToTheHighestNotified(t *testing.T) {
	var b Broadcaster
	if n := b.Ahead(0, 100); n != 0 {
		t.Fatalf("Ahead(0, 100) of a new broadcaster = %d, want 0", n)
	}
	b.Notify(70)
	b.Notify(30) // late: changes nothing
	for _, c := range []struct {
		after       uint64
		limit, want int
	}{
		{0, 100, 70}, {0, 20, 20}, {60, 100, 10}, {70, 100, 0}, {80, 100, 0}, {0, 0, 0},
	} {
		if n := b.Ahead(c.after, c.limit); n != c.want {
			t.Errorf("Ahead(%d, %d) after Notify(70) = %d, want %d", c.after, c.limit, n, c.want)
		}
	}
}
