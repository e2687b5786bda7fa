package pgfast

import "testing"

// TestCloseStatementsCoverColumns: the close page's statement gives every
// column of the tables it inserts into a value, so that a column added to
// one of them (schema's column map) fails here, on any engine, rather than
// be left to its default by the batched close.
func TestCloseStatementsCoverColumns(t *testing.T) {
	if err := pgClosePage.err; err != nil {
		t.Fatalf("%s: %v", pgClosePage.name, err)
	}
}
