package pgfast

import "testing"

// TestCloseStatementsCoverColumns: the close page's statements give every
// column of the tables it inserts into a value, so that a column added to
// one of them (schema's column map) fails here, on any engine, rather than
// be left to its default by the batched close.
func TestCloseStatementsCoverColumns(t *testing.T) {
	for _, st := range []*pgStatement{pgClosePage, pgCloseInvoices} {
		if err := st.err; err != nil {
			t.Errorf("%s: %v", st.name, err)
		}
	}
}
