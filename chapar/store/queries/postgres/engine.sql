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

-- name: messages_record
-- runs in PostgreSQL itself
-- (chapar.store.execute_in_store): the accepted rows arrive as arrays in the order of
-- chapar.sending.record's frame.
UPDATE messages AS m SET status = i.status, provider_id = i.provider_id, pages = i.pages,
    cost = i.cost, sent_at = now(), status_at = now()
FROM unnest($incoming) AS i(seq, number, campaign_id, status, provider_id, pages, cost)
WHERE m.campaign_id = $campaign_id AND m.run_no = $run_no AND m.batch_no = $batch_no
  AND m.seq = i.seq AND m.status = 'pending';

-- name: messages_update_status
-- runs in PostgreSQL itself
-- (as messages_record): chapar.delivery's frame of new statuses.
UPDATE messages AS m SET status = i.status, status_at = now()
FROM unnest($incoming) AS i(campaign_id, run_no, seq, status)
WHERE m.campaign_id = i.campaign_id AND m.run_no = i.run_no AND m.seq = i.seq
  AND m.status = 'sent';

-- name: run_counts_clear_batch
-- runs in PostgreSQL itself
DELETE FROM run_counts
WHERE campaign_id = $campaign_id AND run_no = $run_no AND batch_no = $batch_no;

-- name: run_counts_insert_batch
-- runs in PostgreSQL itself
-- (through the extension the batch's rows would come to DuckDB and the counts go back)
INSERT INTO run_counts
SELECT campaign_id, run_no, batch_no, status, coalesce(operator, ''), count(*),
       coalesce(sum(pages), 0), coalesce(sum(cost) FILTER (WHERE NOT refunded), 0),
       coalesce(sum(cost) FILTER (WHERE refunded), 0), max(coalesce(status_at, sent_at))
FROM messages
WHERE campaign_id = $campaign_id AND run_no = $run_no AND batch_no = $batch_no
GROUP BY 1, 2, 3, 4, 5;
