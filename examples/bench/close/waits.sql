-- waits.sql samples what the backends of one database are doing, every
-- 20 ms for 25 s, from inside the server (a psql loop would spawn a process
-- per sample and steal a core from the close it measures). Start it a few
-- seconds into a close:
--
--   psql -h 127.0.0.1 -U postgres -d postgres -v db=edufund_bench_close -f examples/bench/close/waits.sql
--
-- It prints, per backend, how many samples found it in each state: running
-- ("active:-:cpu"), waiting (the wait event), or idle in a transaction while
-- its client works.
SELECT set_config('edufund.waits_db', :'db', false);
CREATE TEMP TABLE waits (sample int, pid int, state text);
DO $$
BEGIN
  FOR i IN 1..1250 LOOP
    PERFORM pg_stat_clear_snapshot();
    INSERT INTO waits
      SELECT i, pid, state || ':' || coalesce(wait_event_type, '-') || ':' || coalesce(wait_event, 'cpu')
      FROM pg_stat_activity
      WHERE datname = current_setting('edufund.waits_db') AND backend_type = 'client backend' AND pid <> pg_backend_pid();
    PERFORM pg_sleep(0.02);
  END LOOP;
END $$;
SELECT pid, state, count(*) AS samples FROM waits GROUP BY 1, 2 ORDER BY 1, 3 DESC;
