-- The day an adult certificate's documents deadline counts from: the day it
-- took a place of the quota, which for a certificate the queue reached is
-- not its issue date. NULL: the issue date.
ALTER TABLE certificates ADD COLUMN documents_due_from date NULL;
