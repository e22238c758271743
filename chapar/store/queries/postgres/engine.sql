-- PostgreSQL dialect entries for queries of the send engine (chapar/sending/) that DuckDB's
-- postgres extension refuses as written (see overrides.sql for the rules). Files here are
-- read in name order: an entry of the same name in overrides.sql, read later, wins.

-- name: run_finish
-- RETURNING is refused: the owner's UPDATE leaves its name with no expiry (a lease that is
-- not live), and the SELECT finds it only if that UPDATE found the lease still ours.
UPDATE runs SET status = $status, reason = $reason, reason_details = $details,
    lease_expires = NULL,
    finished_at = CASE WHEN $status IN ('completed', 'cancelled') THEN now() END,
    resume_at = $resume_at
WHERE campaign_id = $campaign_id AND run_no = $run_no AND lease_owner = $owner
  AND lease_expires IS NOT NULL;
SELECT run_no FROM runs
WHERE campaign_id = $campaign_id AND run_no = $run_no AND lease_owner = $owner
  AND lease_expires IS NULL;
