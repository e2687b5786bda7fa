// Package batch is the throughput machinery behind enrollment's rules: it
// runs many applications, or a page of the monthly close, in one
// transaction, through capabilities a store may have (Store,
// OptimisticStore, CloseStore; *storage.DB has them all).
//
// Batched submission. Many concurrent applications share one transaction,
// and so one commit (one fsync) and one pass over the hot rows, the way
// TigerBeetle batches transfers: the rows a batch touches are prefetched
// and locked with a handful of statements, every application then runs the
// unchanged submission rules (enrollment.Service.Enrol) in arrival order
// against that state in memory, and the effects of all accepted
// applications are written with a handful of bulk statements before the
// single commit. Each application still succeeds or fails alone: a refused
// one changes nothing, and nobody is answered before the commit. A Batcher
// gathers the applications of concurrent callers into such batches.
//
// The batched monthly close (CloseMonth) applies the plans of
// enrollment.PlanContract a page of contracts at a time, with the effects
// enrollment.Service.CloseMonth has contract by contract.
package batch
