package projections

import (
	"sync"
)

// answersKept bounds the answers an answers cache keeps.
const answersKept = 16

// answers keeps the last answers of one query, by its parameters. A read
// model changes only when its projection commits, so an answer read at a
// generation's position p is the answer for as long as the generation
// answers queries and stays at p: a request finds it only then, and reads
// afresh once the position has moved. (An answer stored under p may show
// a commit just past p, read before the position was published; it is
// never older than p, which is all min_position promises.) Safe for
// concurrent use. Answers handed out are shared: callers must not modify
// them, and their slices are clipped so that an append copies.
type answers[T any] struct {
	mu   sync.Mutex
	kept map[string]answer[T]
}

type answer[T any] struct {
	g        *generation
	position uint64
	value    T
}

// get returns the answer kept for key, if it was read at g's position.
func (a *answers[T]) get(key string, g *generation) (T, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	kept, ok := a.kept[key]
	if !ok || kept.g != g || kept.position != g.position.Load() {
		var zero T
		return zero, false
	}
	return kept.value, true
}

// put keeps value as key's answer at g's position.
func (a *answers[T]) put(key string, g *generation, position uint64, value T) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.kept == nil {
		a.kept = map[string]answer[T]{}
	}
	if _, ok := a.kept[key]; !ok && len(a.kept) >= answersKept {
		for k := range a.kept { // an arbitrary victim: map order is random
			delete(a.kept, k)
			break
		}
	}
	a.kept[key] = answer[T]{g: g, position: position, value: value}
}

// cachedRead answers a query on the projection name from cache when it has
// the answer at the active generation's position, and otherwise reads it
// with read and keeps it if the position did not move meanwhile.
func cachedRead[T any](r *Runner, cache *answers[T], name, key string, read func() (T, error)) (T, error) {
	s, err := r.slot(name)
	if err != nil {
		var zero T
		return zero, err
	}
	g, _ := s.current()
	if g == nil {
		return read() // not started: read reports it
	}
	if v, ok := cache.get(key, g); ok {
		return v, nil
	}
	before := g.position.Load()
	v, err := read()
	if now, _ := s.current(); err == nil && now == g && g.position.Load() == before {
		cache.put(key, g, before, v)
	}
	return v, err
}
