-- The scheme a contract was made under: adult (digital_skills) contracts are
-- paid on completion, not month by month.
ALTER TABLE contracts ADD COLUMN scheme TEXT NOT NULL DEFAULT 'supplementary';
