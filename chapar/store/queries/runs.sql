-- name: run_get
SELECT campaign_id, run_no, status, reason, planned_at, started_at, finished_at, planned,
       batches, lease_owner, lease_expires, stop_requested, resume_at, reason_details, kind
FROM runs WHERE campaign_id = $campaign_id AND run_no = $run_no;

-- name: runs_for
SELECT run_no, kind, status, reason, reason_details, planned_at, started_at, finished_at,
       planned, batches
FROM runs WHERE campaign_id = $campaign_id ORDER BY run_no;

-- name: campaign_stop_reason
-- Why the campaign's current run stopped (code and details), and a batch's status in it.
SELECT r.reason, r.reason_details, b.status
FROM campaigns c JOIN runs r ON r.campaign_id = c.id AND r.run_no = c.current_run
LEFT JOIN batches b ON b.campaign_id = c.id AND b.run_no = r.run_no AND b.batch_no = $batch_no
WHERE c.id = $campaign_id;

-- name: run_insert
INSERT INTO runs (campaign_id, run_no, status, kind)
VALUES ($campaign_id, $run_no, 'planned', $kind);

-- name: campaign_list_ids
-- A campaign's lists in its order (chapar.sending.audience reads their rows).
SELECT coalesce(list(list_id ORDER BY position), []) FROM campaign_lists
WHERE campaign_id = $campaign_id;


-- name: plan_source_resend
-- A resend's audience: the previous run's undelivered and failed numbers, in its order.
-- Blocked, blacklisted and every other status are not resent.
SELECT number, raw, operator, list_id, line_no FROM messages
WHERE campaign_id = $campaign_id AND run_no = $run_no - 1
  AND status IN ('undelivered', 'failed') AND number IS NOT NULL
ORDER BY seq;


-- name: plan_barred
-- The numbers the suppression ledger bars on the sender's line, with the status their
-- message gets.
SELECT number, status FROM suppressed_on($sender);


-- name: plan_insert
-- The planned audience (`planned`, already in seq order, which the insert keeps: a batch's
-- rows are stored together, so zone maps find them without an index).
INSERT INTO messages (campaign_id, run_no, seq, local_id, number, raw, operator, batch_no, status,
                      list_id, line_no)
SELECT $campaign_id, $run_no, seq,
       ($campaign_id * 10000 + $run_no)::BIGINT * 100000000 + seq,  -- campaigns.local_id
       number, raw, operator, batch_no, status, list_id, line_no
FROM planned;


-- name: cap_sends
-- The sends, since the cap's window opened, of every number at the cap (N or more of
-- them): what chapar.frequency.capped needs to say when each frees.
SELECT number, sent_at FROM messages
WHERE sent_at >= $cap_since AND number IN (
    SELECT number FROM messages WHERE sent_at >= $cap_since AND number IS NOT NULL
    GROUP BY number HAVING count(*) >= $cap_n);

-- name: resendable
-- How many of a run's messages a resend would take up again.
SELECT count(*) FROM messages
WHERE campaign_id = $campaign_id AND run_no = $run_no AND status IN ('undelivered', 'failed');

-- name: plan_batches
-- A batch of deferred (capped) numbers waits until the last of them frees.
INSERT INTO batches (campaign_id, run_no, batch_no, status, size, not_before)
SELECT $campaign_id, $run_no, batch_no, 'pending', count(*), max(free_at)
FROM planned WHERE batch_no IS NOT NULL
GROUP BY batch_no ORDER BY batch_no;

-- name: batch_not_before
SELECT not_before FROM batches
WHERE campaign_id = $campaign_id AND run_no = $run_no AND batch_no = $batch_no;

-- name: batch_drop_capped
-- A deferred batch's numbers that another campaign brought back to the cap meanwhile are
-- capped after all (deferred once, never twice), before the batch goes out.
UPDATE messages SET status = 'capped', status_at = now()
WHERE campaign_id = $campaign_id AND run_no = $run_no AND batch_no = $batch_no
  AND status = 'pending' AND number IN (
    SELECT number FROM messages WHERE sent_at >= $cap_since AND number IS NOT NULL
    GROUP BY number HAVING count(*) >= $cap_n);

-- name: run_set_planned
UPDATE runs SET
    planned = (SELECT count(*) FROM messages WHERE campaign_id = $campaign_id
               AND run_no = $run_no AND batch_no IS NOT NULL),
    batches = (SELECT count(*) FROM batches WHERE campaign_id = $campaign_id AND run_no = $run_no)
WHERE campaign_id = $campaign_id AND run_no = $run_no;

-- name: campaign_new_run
UPDATE campaigns SET current_run = $run_no, reset_count = reset_count + $reset, updated_at = now()
WHERE id = $campaign_id;

-- name: run_take_lease
UPDATE runs SET status = 'sending', reason = NULL, reason_details = NULL, lease_owner = $owner,
    lease_expires = now() + to_seconds($ttl), stop_requested = false, resume_at = NULL,
    started_at = coalesce(started_at, now())
WHERE campaign_id = $campaign_id AND run_no = $run_no;

-- name: run_renew_lease
-- Renews only while the caller still owns the lease; zero rows means it was lost.
UPDATE runs SET lease_expires = now() + to_seconds($ttl)
WHERE campaign_id = $campaign_id AND run_no = $run_no AND lease_owner = $owner
RETURNING stop_requested;

-- name: run_finish
-- Only the lease's owner finishes a run; no row back means this process lost it.
UPDATE runs SET status = $status, reason = $reason, reason_details = $details,
    lease_owner = NULL, lease_expires = NULL,
    finished_at = CASE WHEN $status IN ('completed', 'cancelled') THEN now() END,
    resume_at = $resume_at
WHERE campaign_id = $campaign_id AND run_no = $run_no AND lease_owner = $owner
RETURNING run_no;

-- name: run_request_stop
UPDATE runs SET stop_requested = true WHERE campaign_id = $campaign_id AND run_no = $run_no;

-- name: batches_open
SELECT batch_no FROM batches
WHERE campaign_id = $campaign_id AND run_no = $run_no AND status <> 'done'
ORDER BY batch_no;

-- name: batch_begin
-- Committed before any request: from here on the provider may hold some of this batch,
-- sent with this text at these prices, whatever is edited later.
UPDATE batches SET status = 'in_flight', attempts = attempts + 1, started_at = now(),
    text = $text, pages = $pages, encoding = $encoding, prices = $prices
WHERE campaign_id = $campaign_id AND run_no = $run_no AND batch_no = $batch_no;

-- name: batch_status
SELECT status, text, pages, encoding, prices FROM batches
WHERE campaign_id = $campaign_id AND run_no = $run_no AND batch_no = $batch_no;

-- name: batch_pending_messages
SELECT seq, local_id, number, operator, text, pages, cost, list_id, line_no FROM messages
WHERE campaign_id = $campaign_id AND run_no = $run_no AND batch_no = $batch_no
  AND status = 'pending'
ORDER BY seq;

-- name: batch_drop_blacklisted
-- A number barred after planning (blacklist imported, reported blocked by another campaign,
-- opted out by reply or by hand) is not sent either — but only from a batch never handed
-- out: an in-flight batch may be partly at the provider, and what the provider has is sent
-- and charged.
UPDATE messages SET status = b.status, status_at = now()
FROM suppressed_on($sender) b
WHERE messages.campaign_id = $campaign_id AND messages.run_no = $run_no
  AND messages.batch_no = $batch_no AND messages.status = 'pending'
  AND messages.number = b.number;

-- name: batch_barred_pending
-- The pending messages of an in-flight batch whose numbers were barred after planning (the
-- engine keeps those its reconciliation found at the provider, or could not settle).
SELECT m.local_id FROM messages m JOIN suppressed_on($sender) b ON b.number = m.number
WHERE m.campaign_id = $campaign_id AND m.run_no = $run_no AND m.batch_no = $batch_no
  AND m.status = 'pending';

-- name: batch_drop_barred
-- batch_drop_blacklisted for the given messages of an in-flight batch, after reconciliation:
-- what the provider does not have has not gone out, so a barred number is not sent.
UPDATE messages SET status = b.status, status_at = now()
FROM suppressed_on($sender) b
WHERE messages.campaign_id = $campaign_id AND messages.run_no = $run_no
  AND messages.batch_no = $batch_no AND messages.status = 'pending'
  AND messages.number = b.number AND list_contains($local_ids, messages.local_id);

-- name: messages_freeze
-- Personalised texts: each message's own text, pages and cost, frozen with its batch.
UPDATE messages SET text = i.text, pages = i.pages, cost = i.cost
FROM incoming i
WHERE messages.campaign_id = $campaign_id AND messages.run_no = $run_no
  AND messages.batch_no = $batch_no AND messages.seq = i.seq AND messages.status = 'pending';

-- name: messages_record
UPDATE messages SET status = i.status, provider_id = i.provider_id, pages = i.pages,
    cost = i.cost, sent_at = now(), status_at = now()
FROM incoming i
WHERE messages.campaign_id = $campaign_id AND messages.run_no = $run_no
  AND messages.batch_no = $batch_no AND messages.seq = i.seq AND messages.status = 'pending';

-- name: batch_end
UPDATE batches SET
    status = CASE
        WHEN $unresolved THEN 'in_flight'
        WHEN (SELECT count(*) FROM messages m WHERE m.campaign_id = $campaign_id
              AND m.run_no = $run_no AND m.batch_no = $batch_no AND m.status = 'pending') = 0
        THEN 'done' ELSE 'pending' END,
    done_at = now()
WHERE campaign_id = $campaign_id AND run_no = $run_no AND batch_no = $batch_no
RETURNING status;

-- name: progress
SELECT count(*) FILTER (WHERE batch_no IS NOT NULL) AS planned,
       count(*) FILTER (WHERE batch_no IS NOT NULL AND status <> 'pending') AS done
FROM messages WHERE campaign_id = $campaign_id AND run_no = $run_no;

-- name: messages_awaiting_status
-- Handed to the provider, delivery not yet known.
SELECT campaign_id, run_no, seq, provider_id, number, batch_no
FROM messages WHERE status = 'sent' AND provider_id IS NOT NULL
ORDER BY sent_at LIMIT $limit;

-- name: messages_update_status
UPDATE messages SET status = i.status, status_at = now()
FROM incoming i
WHERE messages.campaign_id = i.campaign_id AND messages.run_no = i.run_no
  AND messages.seq = i.seq AND messages.status = 'sent';

-- name: campaign_text
SELECT message, sender FROM campaigns WHERE id = $campaign_id;

-- name: campaign_text_footer
-- What a batch is frozen from: the message, its line and the line's opt-out footer.
SELECT c.message, c.sender, l.footer
FROM campaigns c LEFT JOIN lines l ON l.sender = c.sender WHERE c.id = $campaign_id;

-- name: batch_unbegin
-- A batch marked in flight whose requests never left (the run stopped first): back to
-- pending, its frozen text forgotten, so a later attempt sends the text of its own time.
UPDATE batches SET status = 'pending', text = NULL, pages = NULL, encoding = NULL,
    prices = NULL
WHERE campaign_id = $campaign_id AND run_no = $run_no AND batch_no = $batch_no
  AND status = 'in_flight';

-- name: run_counts_clear
-- A run's counters are recounted inside the transaction that changed its messages: the
-- whole run at planning, one batch (run_counts_*_batch) afterwards. The rows never
-- batched (counted under batch -1) change only at planning.
DELETE FROM run_counts WHERE campaign_id = $campaign_id AND run_no = $run_no;

-- name: run_counts_insert
INSERT INTO run_counts
SELECT campaign_id, run_no, coalesce(batch_no, -1), status, coalesce(operator, ''), count(*),
       coalesce(sum(pages), 0), coalesce(sum(cost) FILTER (WHERE NOT refunded), 0),
       coalesce(sum(cost) FILTER (WHERE refunded), 0), max(coalesce(status_at, sent_at))
FROM messages WHERE campaign_id = $campaign_id AND run_no = $run_no
GROUP BY 1, 2, 3, 4, 5;

-- name: run_counts_clear_batch
DELETE FROM run_counts
WHERE campaign_id = $campaign_id AND run_no = $run_no AND batch_no = $batch_no;

-- name: run_counts_insert_batch
-- Only the batch's own rows are read (they are stored together: zone maps skip the rest).
INSERT INTO run_counts
SELECT campaign_id, run_no, batch_no, status, coalesce(operator, ''), count(*),
       coalesce(sum(pages), 0), coalesce(sum(cost) FILTER (WHERE NOT refunded), 0),
       coalesce(sum(cost) FILTER (WHERE refunded), 0), max(coalesce(status_at, sent_at))
FROM messages
WHERE campaign_id = $campaign_id AND run_no = $run_no AND batch_no = $batch_no
GROUP BY 1, 2, 3, 4, 5;

-- name: run_minutes_add
INSERT INTO run_minutes VALUES ($campaign_id, $run_no, date_trunc('minute', now()), $handed)
ON CONFLICT (campaign_id, run_no, minute) DO UPDATE SET handed = handed + excluded.handed;

-- name: suppress_from_provider
-- Numbers the provider reported as blocked join the suppression ledger once (a number
-- already blacklisted adds no row); run before blacklist_from_provider.
INSERT INTO suppressions (number, kind, scope, source, campaign_id)
SELECT number, 'provider_blocked', 'everywhere', 'provider', any_value(campaign_id)
FROM incoming
WHERE status = 'blocked' AND number IS NOT NULL
  AND number NOT IN (SELECT number FROM blacklist)
GROUP BY number;

-- name: blacklist_from_provider
-- ... and the telecom blacklist, planning's index of them.
INSERT INTO blacklist (number, source, campaign_id)
SELECT number, 'provider', any_value(campaign_id) FROM incoming
WHERE status = 'blocked' AND number IS NOT NULL GROUP BY number
ON CONFLICT (number) DO NOTHING;

-- name: run_lease
SELECT lease_owner, lease_expires FROM runs WHERE campaign_id = $campaign_id AND run_no = $run_no;

-- name: run_counts
SELECT planned, batches FROM runs WHERE campaign_id = $campaign_id AND run_no = $run_no;

-- name: run_cut_waiting
-- Cutting a run that waits for its sending window leaves it unfinished (rebuildable).
UPDATE runs SET status = 'unfinished', reason = $reason, reason_details = NULL, resume_at = NULL
WHERE campaign_id = $campaign_id AND run_no = $run_no AND status = 'waiting';
