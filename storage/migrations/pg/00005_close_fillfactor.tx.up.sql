-- Holds and accounts are rewritten by every monthly close (charged; reserved
-- and spent), none of those columns indexed: room on each page lets
-- PostgreSQL update them in place (HOT), without new index entries. A close
-- updates a page's rows in one transaction, so each row needs room for its
-- new version on its page: fillfactor 50. It applies to pages filled from
-- now on; an existing region gets it with VACUUM FULL holds, accounts.
ALTER TABLE holds SET (fillfactor = 50);
--bun:split
ALTER TABLE accounts SET (fillfactor = 50);
