-- Indexes the programs saved before the navigator's index existed: the
-- analyser is Go, so the work is this migration's Go step (storage/db.go,
-- goSteps); the statement below only marks it done.
SELECT 1;
