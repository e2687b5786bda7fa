-- An account's reserve is the sum of its open holds (schema.AccountSelect):
-- a hold used up or given back (amount - charged - released = 0) holds none.
-- Every application reads its account's reserve; through this index it
-- reads the open holds only, so that its cost does not grow with the
-- certificate's past contracts (issue 31). It replaces the index of all of
-- an account's holds, which nothing else reads by account (the invariants
-- scan the table): with both, SQLite's planner took the larger one.
DROP INDEX holds_account_idx;
--bun:split
CREATE INDEX holds_open_idx ON holds (certificate_id, period_start) WHERE amount - charged - released > 0;
