package research

import (
	"context"
	"runtime"
)

// deriveInOrder runs derive on every stream, on as many goroutines as
// there are cores, and hands the results to emit in the order of streams.
// At most a small window of results waits for its turn, so memory stays
// flat however many streams there are.
func deriveInOrder[T any](ctx context.Context, streams []string, derive func(string) (T, error), emit func(string, T) error) error {
	type result struct {
		t   T
		err error
	}
	type job struct {
		stream string
		out    chan result
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan job)
	queue := make(chan job, 8*workers) // in stream order
	go func() {
		defer close(jobs)
		defer close(queue)
		for _, s := range streams {
			j := job{stream: s, out: make(chan result, 1)}
			select {
			case queue <- j:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range workers {
		go func() {
			for j := range jobs {
				t, err := derive(j.stream)
				j.out <- result{t, err}
			}
		}()
	}
	for j := range queue {
		var r result
		select {
		case r = <-j.out:
		case <-ctx.Done():
			return ctx.Err()
		}
		if r.err != nil {
			return r.err
		}
		if err := emit(j.stream, r.t); err != nil {
			return err
		}
	}
	return ctx.Err()
}
