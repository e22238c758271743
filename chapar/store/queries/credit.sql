-- name: balance
SELECT coalesce(sum(amount), 0)::BIGINT FROM ledger;

-- name: ledger_insert
INSERT INTO ledger (kind, amount, campaign_id, run_no, batch_no, note)
VALUES ($kind, $amount, $campaign_id, $run_no, $batch_no, $note);

-- name: ledger_recent
SELECT id, recorded_at AS "at", kind, amount, campaign_id, run_no, batch_no, note
FROM ledger WHERE kind <> 'released'  -- a settled hold is a zero row: noise to a reader
ORDER BY id DESC LIMIT $limit;
