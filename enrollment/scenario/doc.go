// Package scenario runs scenario files: a region's rules written as a story
// a methodologist can read without Go, and checked against the services.
//
// A scenario file (YAML) names the region's parameters (inline, with the
// keys of the reference server's region file, or a region_file with
// overrides), the categories, the people and the catalog, and then a dated
// list of events (issue, submit, confirm, accept, close_month, terminate,
// prolong, rollover, apply_adult, complete…) and expectations (a
// certificate's cabinet, a contract's price and schedule, a provider's
// invoices for a month, the refusal of the event before, queue places,
// budgets, program scores). examples/scenarios holds the repository's, and
// its README the format, key by key.
//
// Running a scenario drives enrollment.Service through its public API, the
// same code the reference server runs, on a fresh store the caller opens
// (an in-memory SQLite database in this repository's tests and in "server
// scenarios"), with a funding.FixedClock moved to each event's date and
// time in the region's time zone. Every call names its caller: the kind's
// usual one (a parent for a submission, the provider for a confirmation,
// the municipal authority for an issue…) unless the event says by:.
//
// Reading is strict: an unknown key anywhere, a value of the wrong form or
// a name that is not defined is an *Error naming the file, the line and
// the key; amounts are read from their literal text, never as floats.
// What the services do otherwise than the file says is a Failure: the
// expectation's file and line, and a diff of the values it wants and
// those it got.
//
// The vocabulary of events is one table (kinds, in kinds.go): a new kind
// of event is a row there, with the type of its arguments and the function
// that runs it.
//
// Go tests run scenario files as subtests with scenariotest.Run(t, glob,
// open), a package of its own so that a program running scenarios does not
// link package testing.
package scenario
