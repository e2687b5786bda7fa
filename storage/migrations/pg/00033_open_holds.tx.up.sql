-- An account's reserve is the sum of its open holds (schema.AccountSelect):
-- a hold used up or given back (amount - charged - released = 0) holds none.
-- Every application reads its account's reserve; through this index it
-- reads the open holds only, so that its cost does not grow with the
-- certificate's past contracts (issue 31). It replaces the index of all of
-- an account's holds, which nothing else reads by account (the invariants
-- scan the table).
--
-- The condition is a stored generated column rather than the expression:
-- an index whose condition names charged makes every charge of the close
-- an update that cannot be HOT (it writes every index of holds), while
-- open changes once in a hold's life.
DROP INDEX holds_account_idx;
--bun:split
ALTER TABLE holds ADD COLUMN open boolean GENERATED ALWAYS AS (amount - charged - released > 0) STORED;
--bun:split
CREATE INDEX holds_open_idx ON holds (certificate_id, period_start) WHERE open;
