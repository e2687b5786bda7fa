// Package funding holds the money side of personalised education funding:
// exact amounts (Money), dates and periods, depletion of an unused nominal,
// contract pricing, the certificate ledger of postings, the monthly payment
// and its advance, the hours model and the adult scheme's coverage. A
// municipality's budget limit and the invoices are kept by package
// enrollment, which owns the counters and the monthly close, and the
// region's dated parameters (enrollment.Parameters) that these rules are
// given.
//
// Everything here is pure: no storage, no transport, no wall clock. A rule
// takes the date it applies on as an argument.
package funding
