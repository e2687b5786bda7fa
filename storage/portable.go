package storage

// WithPortable opens PostgreSQL in the portable profile: the one a
// PostgreSQL-compatible distributed engine (CockroachDB, YugabyteDB) needs,
// run and tested on PostgreSQL itself so that the rules do not come to rely
// on what only one PostgreSQL server offers. It turns off
//
//   - the fast bulk paths (storage/internal/pgfast): binary parameters and
//     results, pipelined statements, optimistic batches versioned by the
//     ctid and xmin system columns (OptimisticBatches reports false), and
//     the planner settings they set with set_config and SET LOCAL, and
//     the jit setting Open sends. The batches and the monthly close run
//     the plain bun statements SQLite runs, with the row locks (SELECT …
//     FOR NO KEY UPDATE) the distributed engines also take;
//   - the reliance on one server's locks for isolation: every transaction,
//     the batches' and the close's included, and every statement run on
//     its own, runs SERIALIZABLE (CockroachDB's default; YugabyteDB offers
//     it beside snapshot and read committed), and a serialization failure
//     is retried by InTx's loop like any other.
//
// The rest of the PostgreSQL dialect stays; the package documentation
// ("A portable profile") lists what an engine must still offer and what
// would change. On SQLite the option changes nothing: SQLite has one
// writer and runs the plain statements already.
func WithPortable() Option {
	return func(c *config) { c.portable = true }
}

// Portable reports whether the store runs the portable profile
// (WithPortable on PostgreSQL).
func (db *DB) Portable() bool { return db.portable }
