-- Version 4 (issue 12): one suppression ledger, replies, test sends, the opt-out footer and
-- the frequency cap on sender lines.

-- Every reason a number must not receive a campaign, one row per event; nothing is deleted.
-- kind: telecom_blacklist | provider_blocked | opted_out | manual | opted_in
-- scope: 'everywhere' | 'line:<sender>'
-- source: the import file's name, the provider, 'reply:<provider id>', or the user
-- The telecom kinds are also kept, one row a number, in the `blacklist` table: the fast
-- index planning joins (and what other writers of the blacklist already fill). For the
-- consent kinds the latest row of (number, line) decides: an opt-in lifts an opt-out.
CREATE SEQUENCE suppression_ids START 1;
CREATE TABLE suppressions (
    id          BIGINT PRIMARY KEY DEFAULT nextval('suppression_ids'),
    number      BIGINT NOT NULL,
    kind        VARCHAR NOT NULL,
    scope       VARCHAR NOT NULL DEFAULT 'everywhere',
    source      VARCHAR,
    campaign_id INTEGER,
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO suppressions (number, kind, scope, source, campaign_id, recorded_at)
SELECT number, CASE source WHEN 'provider' THEN 'provider_blocked' ELSE 'telecom_blacklist' END,
       'everywhere', source, campaign_id, added_at
FROM blacklist ORDER BY added_at, number;

-- The numbers a campaign on `line` must not reach, with the status their message gets:
-- 'blacklisted' (telecom blacklist, provider blocked), 'opted_out' (by reply or by hand),
-- 'suppressed' (added by hand). A NULL line reads only the 'everywhere' rows.
-- suppressed_on(line) is a DuckDB table macro: on PostgreSQL the store defines it in the
-- in-memory catalog of each process (chapar/store/__init__.py, SUPPRESSED_ON).

CREATE TABLE inbox (
    provider_id VARCHAR PRIMARY KEY,
    number      BIGINT,                -- the replying mobile (NULL if not a mobile number)
    sender      VARCHAR NOT NULL,      -- as the provider gave it
    line        VARCHAR NOT NULL,      -- our line it replied to
    text        VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,      -- chapar.replies.ReplyKind: opt_out | opt_in | other
    campaign_id INTEGER,               -- the latest campaign on that line that messaged it
    received_at TIMESTAMPTZ NOT NULL,
    read_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A test send: the campaign's text to one of the user's own numbers; charged, never a run.
CREATE SEQUENCE test_send_ids START 1;
CREATE TABLE test_sends (
    id          BIGINT PRIMARY KEY DEFAULT nextval('test_send_ids'),
    campaign_id INTEGER NOT NULL,
    number      BIGINT NOT NULL,
    operator    VARCHAR,
    text        VARCHAR NOT NULL,
    pages       SMALLINT NOT NULL,
    cost        BIGINT NOT NULL,
    status      VARCHAR NOT NULL,      -- pending | sent | failed
    provider_id VARCHAR,
    actor       VARCHAR,
    sent_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A sender line's opt-out footer (NULL: none) and its own frequency cap (NULL: the
-- settings'; cap_messages 0: no cap on this line).
ALTER TABLE lines ADD COLUMN footer VARCHAR;
ALTER TABLE lines ADD COLUMN cap_messages INTEGER;
ALTER TABLE lines ADD COLUMN cap_days INTEGER;

-- The frequency cap's deferral: a campaign may send its capped numbers later, in batches
-- of the same run that wait until their cap frees (not_before), exactly once.
ALTER TABLE campaigns ADD COLUMN defer_capped BOOLEAN DEFAULT false;
ALTER TABLE batches ADD COLUMN not_before TIMESTAMPTZ;
