// Package funding holds the money side of personalised education funding:
// exact amounts (Money), dates and periods, dated parameters, depletion of an
// unused nominal, contract pricing, the certificate ledger of postings, budget
// limits, monthly billing, the hours model and the adult scheme's coverage.
//
// Everything here is pure: no storage, no transport, no wall clock. A rule
// takes the date it applies on as an argument.
package funding
