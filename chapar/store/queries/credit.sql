-- name: balance
SELECT coalesce(sum(amount), 0)::BIGINT FROM ledger;

-- name: ledger_insert
INSERT INTO ledger (kind, amount, campaign_id, run_no, batch_no, note)
VALUES ($kind, $amount, $campaign_id, $run_no, $batch_no, $note);

-- name: ledger_recent
SELECT id, recorded_at AS "at", kind, amount, campaign_id, run_no, batch_no, note
FROM ledger WHERE kind <> 'released'  -- a settled hold is a zero row: noise to a reader
ORDER BY id DESC LIMIT $limit;

-- name: holds_release
-- A hold reserves a batch's credit while its requests are out, so two campaigns sending at
-- once cannot spend the same Rials. It ends as a zero 'released' row beside the charge.
UPDATE ledger SET kind = 'released', note = 'held ' || (-amount)::VARCHAR, amount = 0
WHERE kind = 'hold' AND campaign_id = $campaign_id AND run_no = $run_no AND batch_no = $batch_no;

-- name: holds_of_batch
SELECT coalesce(-sum(amount), 0)::BIGINT FROM ledger
WHERE kind = 'hold' AND campaign_id = $campaign_id AND run_no = $run_no AND batch_no = $batch_no;

-- name: refunds_due
-- Messages the provider blocked or cancelled are refunded once.
SELECT campaign_id, run_no, batch_no,
       coalesce(sum(cost), 0)::BIGINT AS amount, count(*) AS n
FROM messages
WHERE status IN ('blocked', 'cancelled') AND NOT refunded AND cost > 0
  AND ($campaign_id IS NULL OR campaign_id = $campaign_id)
GROUP BY 1, 2, 3;

-- name: refunds_mark
UPDATE messages SET refunded = true
WHERE status IN ('blocked', 'cancelled') AND NOT refunded AND cost > 0
  AND ($campaign_id IS NULL OR campaign_id = $campaign_id);

-- name: money_check
-- The money invariant's two sides: what the ledger charged (net of refunds and holds), and
-- what the messages the provider accepted cost (net of refunded ones).
SELECT
    (SELECT coalesce(-sum(amount) FILTER (WHERE kind = 'charge'), 0)
          - coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0)
     FROM ledger)::BIGINT AS charged,
    ((SELECT coalesce(sum(cost) FILTER (WHERE NOT refunded), 0) FROM messages
      WHERE status NOT IN ('invalid', 'duplicate', 'blacklisted', 'opted_out', 'suppressed',
                           'capped', 'pending'))
     -- test sends the provider accepted are charged too (never a run)
     + (SELECT coalesce(sum(cost), 0) FROM test_sends WHERE status = 'sent'))::BIGINT AS accepted,
    (SELECT coalesce(-sum(amount), 0) FROM ledger WHERE kind = 'hold')::BIGINT AS held,
    (SELECT coalesce(sum(amount), 0) FROM ledger)::BIGINT AS balance;

-- name: test_send_insert
INSERT INTO test_sends (campaign_id, number, operator, text, pages, cost, status, actor)
VALUES ($campaign_id, $number, $operator, $text, $pages, $cost, 'pending', $actor)
RETURNING id;

-- name: test_send_done
UPDATE test_sends SET status = $status, provider_id = $provider_id WHERE id = $id;

-- name: test_sends_for
SELECT id, number, text, pages, cost, status, provider_id, actor, sent_at FROM test_sends
WHERE campaign_id = $campaign_id ORDER BY id DESC;

-- name: first_recipient_values
-- A campaign's first recipient (list order, then line order) with its list's columns.
SELECT l.columns, r.attrs
FROM campaign_lists cl JOIN recipients r ON r.list_id = cl.list_id
JOIN lists l ON l.id = cl.list_id
WHERE cl.campaign_id = $campaign_id AND r.number IS NOT NULL
ORDER BY cl.position, r.line_no LIMIT 1;
