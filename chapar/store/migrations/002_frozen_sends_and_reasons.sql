-- Version 2: what went out is what is charged; reasons as codes; per-run counters.

-- A batch freezes, when it goes in flight, the text it is sent with and the price of a page
-- of it by operator: reconciliation after a crash records found messages with these
-- figures, whatever the campaign's text or the price table say by then.
ALTER TABLE batches ADD COLUMN text VARCHAR;
ALTER TABLE batches ADD COLUMN pages SMALLINT;
ALTER TABLE batches ADD COLUMN encoding VARCHAR;
ALTER TABLE batches ADD COLUMN prices VARCHAR;      -- JSON {operator: price of one message}

-- A message's own text, when it differs from its batch's (personalised texts); its pages
-- and cost are frozen in the existing columns when its batch goes in flight.
ALTER TABLE messages ADD COLUMN text VARCHAR;

-- Reasons are a code (chapar.reasons.Code) and its parameters (JSON).
ALTER TABLE campaigns ADD COLUMN status_details VARCHAR;
ALTER TABLE runs ADD COLUMN reason_details VARCHAR;
UPDATE campaigns SET status_reason = CASE
    WHEN status_reason = 'insufficient credit' THEN 'insufficient_credit'
    WHEN status_reason = 'insufficient credit at the provider' THEN 'provider_credit'
    WHEN status_reason = 'provider unavailable' THEN 'provider_unavailable'
    WHEN status_reason = 'schedule cut' THEN 'schedule_cut'
    WHEN status_reason = 'interrupted' THEN 'interrupted'
    WHEN status_reason LIKE 'outside the sending window%' THEN 'outside_window'
    WHEN status_reason IS NULL THEN NULL
    ELSE 'message' END,
  status_details = CASE
    WHEN status_reason IS NULL OR status_reason IN ('insufficient credit',
        'insufficient credit at the provider', 'provider unavailable', 'schedule cut',
        'interrupted') OR status_reason LIKE 'outside the sending window%' THEN NULL
    ELSE json_object('text', status_reason)::VARCHAR END;
UPDATE runs SET reason = CASE
    WHEN reason = 'insufficient credit' THEN 'insufficient_credit'
    WHEN reason = 'insufficient credit at the provider' THEN 'provider_credit'
    WHEN reason = 'provider unavailable' THEN 'provider_unavailable'
    WHEN reason = 'schedule cut' THEN 'schedule_cut'
    WHEN reason = 'interrupted' THEN 'interrupted'
    WHEN reason LIKE 'outside the sending window%' THEN 'outside_window'
    WHEN reason IS NULL THEN NULL
    ELSE 'message' END,
  reason_details = CASE
    WHEN reason IS NULL OR reason IN ('insufficient credit',
        'insufficient credit at the provider', 'provider unavailable', 'schedule cut',
        'interrupted') OR reason LIKE 'outside the sending window%' THEN NULL
    ELSE json_object('text', reason)::VARCHAR END;

-- A run's figures by status flag, rewritten in every transaction that changes the run's
-- messages, so summaries cost O(runs) rather than O(messages ever sent).
CREATE TABLE run_counts (
    campaign_id INTEGER NOT NULL,
    run_no      INTEGER NOT NULL,
    status      VARCHAR NOT NULL,
    operator    VARCHAR NOT NULL,            -- '' for an invalid number
    messages    BIGINT NOT NULL,
    pages       BIGINT NOT NULL,
    cost        BIGINT NOT NULL,             -- charged and not refunded
    refunded    BIGINT NOT NULL,
    last_at     TIMESTAMPTZ,
    PRIMARY KEY (campaign_id, run_no, status, operator)
);
INSERT INTO run_counts
SELECT campaign_id, run_no, status, coalesce(operator, ''), count(*), coalesce(sum(pages), 0),
       coalesce(sum(cost) FILTER (WHERE NOT refunded), 0),
       coalesce(sum(cost) FILTER (WHERE refunded), 0), max(coalesce(status_at, sent_at))
FROM messages GROUP BY ALL;

-- Messages handed to the provider by minute, added to in the recording transaction: the
-- report's "sends over time" without a scan of the run's messages.
CREATE TABLE run_minutes (
    campaign_id INTEGER NOT NULL,
    run_no      INTEGER NOT NULL,
    minute      TIMESTAMPTZ NOT NULL,
    handed      BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, run_no, minute)
);
INSERT INTO run_minutes
SELECT campaign_id, run_no, date_trunc('minute', sent_at), count(*)
FROM messages WHERE sent_at IS NOT NULL GROUP BY ALL;

-- What kind of pass a run is: send (run 1), reset (everyone again), resend (the previous
-- run's undelivered and failed only).
ALTER TABLE runs ADD COLUMN kind VARCHAR DEFAULT 'send';
UPDATE runs SET kind = CASE WHEN run_no = 1 THEN 'send' ELSE 'reset' END;
