-- name: report_counts
-- The figures of one run, by the status flag: the run's counters, kept by the engine.
SELECT status, sum(messages)::BIGINT AS n, sum(pages)::BIGINT AS pages,
       sum(cost)::BIGINT AS cost
FROM run_counts WHERE campaign_id = $campaign_id AND run_no = $run_no
GROUP BY status;

-- name: report_recount
-- The same figures counted from the messages themselves (to check the counters).
SELECT status, count(*) AS n, coalesce(sum(pages), 0)::BIGINT AS pages,
       coalesce(sum(cost) FILTER (WHERE NOT refunded), 0)::BIGINT AS cost
FROM messages WHERE campaign_id = $campaign_id AND run_no = $run_no
GROUP BY status;

-- name: report_by_operator
SELECT CASE operator WHEN '' THEN 'invalid' ELSE operator END AS operator, status,
       sum(messages)::BIGINT AS n
FROM run_counts WHERE campaign_id = $campaign_id AND run_no = $run_no
GROUP BY ALL ORDER BY ALL;

-- name: report_by_operator_status
-- The figures of one run by operator and status flag, with pages and money (its counters).
SELECT CASE operator WHEN '' THEN 'invalid' ELSE operator END AS operator, status,
       sum(messages)::BIGINT AS n, sum(pages)::BIGINT AS pages, sum(cost)::BIGINT AS cost
FROM run_counts WHERE campaign_id = $campaign_id AND run_no = $run_no
GROUP BY ALL ORDER BY ALL;

-- name: report_over_time
-- Messages handed to the provider per minute (kept by the recording transactions).
SELECT minute, handed AS n FROM run_minutes
WHERE campaign_id = $campaign_id AND run_no = $run_no ORDER BY minute;

-- name: report_numbers
-- One page of the run's numbers, optionally filtered by the status flag, each with the
-- text it was sent (its own when personalised, else its batch's; none before its batch).
SELECT m.seq, coalesce(CAST(m.number AS VARCHAR), m.raw) AS number, m.operator, m.status,
       m.provider_id, m.pages, m.cost, m.sent_at, m.status_at,
       coalesce(m.text, b.text) AS text
FROM messages m
LEFT JOIN batches b ON b.campaign_id = m.campaign_id AND b.run_no = m.run_no
                   AND b.batch_no = m.batch_no
WHERE m.campaign_id = $campaign_id AND m.run_no = $run_no
  AND ($status IS NULL OR m.status = $status)
ORDER BY m.seq LIMIT $limit OFFSET $offset;

-- name: report_numbers_count
SELECT count(*) FROM messages
WHERE campaign_id = $campaign_id AND run_no = $run_no AND ($status IS NULL OR status = $status);

-- name: program_blacklist
-- This campaign's barred numbers, each with its reason (the status, a code: the edge says
-- it and how it kept the number in words): blacklisted, opted out or suppressed (filtered
-- before sending, from the suppression ledger), at the frequency cap, or blocked by the
-- provider.
SELECT number, operator, run_no, status AS reason, coalesce(status_at, sent_at) AS at
FROM messages
WHERE campaign_id = $campaign_id
  AND status IN ('blacklisted', 'opted_out', 'suppressed', 'blocked', 'capped')
  AND ($run_no IS NULL OR run_no = $run_no)
ORDER BY run_no, seq LIMIT $limit OFFSET $offset;

-- name: campaign_summaries
-- One line per campaign for the home page, from the runs' counters (O(runs), not
-- O(messages)): its current run's progress, pages and money, and totals over all runs.
SELECT rc.campaign_id,
       sum(rc.messages) FILTER (WHERE cur AND rc.status NOT IN ('invalid', 'duplicate',
           'blacklisted', 'opted_out', 'suppressed', 'capped'))::BIGINT AS planned,
       sum(rc.messages) FILTER (WHERE cur AND rc.status NOT IN ('invalid', 'duplicate',
           'blacklisted', 'opted_out', 'suppressed', 'capped', 'pending'))::BIGINT AS handed,
       sum(rc.messages) FILTER (WHERE cur AND rc.status = 'delivered')::BIGINT AS delivered,
       coalesce(sum(rc.pages) FILTER (WHERE cur), 0)::BIGINT AS pages,
       coalesce(sum(rc.cost) FILTER (WHERE cur), 0)::BIGINT AS cost,
       max(rc.last_at) FILTER (WHERE cur) AS last_activity,
       sum(rc.messages) FILTER (WHERE rc.status NOT IN ('invalid', 'duplicate', 'blacklisted',
           'opted_out', 'suppressed', 'capped', 'pending'))::BIGINT AS handed_all_runs,
       sum(rc.messages) FILTER (WHERE rc.status = 'delivered')::BIGINT AS delivered_all_runs,
       coalesce(sum(rc.pages), 0)::BIGINT AS pages_all_runs,
       coalesce(sum(rc.cost), 0)::BIGINT AS cost_all_runs
FROM (SELECT r.*, r.run_no = c.current_run AS cur
      FROM run_counts r JOIN campaigns c ON c.id = r.campaign_id) rc
GROUP BY rc.campaign_id;

-- name: export_numbers
-- A run's numbers for an export: numbers as people write them (09…), times as wall-clock
-- times in $tz to the second.
SELECT seq,
       CASE WHEN number IS NULL THEN raw
            ELSE '0' || substr(CAST(number AS VARCHAR), 3) END AS number,
       operator, status, provider_id, pages, cost,
       date_trunc('second', timezone($tz, sent_at)) AS sent_at,
       date_trunc('second', timezone($tz, status_at)) AS status_at
FROM messages
WHERE campaign_id = $campaign_id AND run_no = $run_no AND ($status IS NULL OR status = $status)
ORDER BY seq;

-- name: campaign_overview
-- Per campaign and run: what the home page shows (its current run, and all its runs), from
-- the runs' counters: O(runs), however many messages history holds.
SELECT campaign_id, run_no,
       coalesce(sum(messages) FILTER (WHERE status NOT IN ('invalid', 'duplicate',
           'blacklisted', 'opted_out', 'suppressed', 'capped')), 0)::BIGINT AS planned,
       coalesce(sum(messages) FILTER (WHERE status NOT IN ('invalid', 'duplicate',
           'blacklisted', 'opted_out', 'suppressed', 'capped', 'pending')), 0)::BIGINT AS handed,
       coalesce(sum(messages) FILTER (WHERE status = 'delivered'), 0)::BIGINT AS delivered,
       coalesce(sum(messages) FILTER (WHERE status IN ('undelivered', 'failed')), 0)::BIGINT
           AS failed,
       coalesce(sum(messages) FILTER (WHERE status = 'blocked'), 0)::BIGINT AS blocked,
       sum(pages)::BIGINT AS pages, sum(cost)::BIGINT AS cost, max(last_at) AS last_activity
FROM run_counts
GROUP BY ALL;

-- name: campaign_current_runs
SELECT id, current_run FROM campaigns;
