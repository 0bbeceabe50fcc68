package postgres

// withUnlockedSequence makes the store take positions from the sequence seq
// (which the test creates) with nextval, without the counter lock: the
// classic bug of SQL event stores, which the gap test must catch.
func withUnlockedSequence(seq string) Option {
	return func(o *options) { o.unlockedSequence = seq }
}
