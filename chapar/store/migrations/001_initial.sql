-- Chapar's schema, version 1. Numbers are BIGINT in the canonical 989XXXXXXXXX form
-- (joins on BIGINT ran 2-2.6x faster than on text). Nothing here has a DELETE path for
-- campaigns, runs, messages or the ledger: they are kept for ever.

CREATE SEQUENCE list_ids START 1;
CREATE SEQUENCE campaign_ids START 1;
CREATE SEQUENCE ledger_ids START 1;
CREATE SEQUENCE audit_ids START 1;

-- A recipient list (a "send reference"); its rows keep the file's order and line numbers.
CREATE TABLE lists (
    id          INTEGER PRIMARY KEY DEFAULT nextval('list_ids'),
    name        VARCHAR NOT NULL UNIQUE,
    source_file VARCHAR,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    total_rows  INTEGER NOT NULL,
    valid       INTEGER NOT NULL,   -- valid and unique within the list
    invalid     INTEGER NOT NULL,
    duplicates  INTEGER NOT NULL
);

-- Every row of an imported list: invalid ones keep their raw text (number NULL) so a
-- report can show them; duplicates within the list are kept too, flagged at planning.
CREATE TABLE recipients (
    list_id  INTEGER NOT NULL,
    line_no  INTEGER NOT NULL,
    number   BIGINT,
    operator VARCHAR,
    raw      VARCHAR
);  -- no primary key: (list_id, line_no) is unique by construction, and an index would
    -- slow a million-row import several times over

-- The telecom (advertising) blacklist: imported, or learnt from the provider's "blocked".
CREATE TABLE blacklist (
    number      BIGINT PRIMARY KEY,
    source      VARCHAR NOT NULL,          -- 'import' | 'provider'
    campaign_id INTEGER,                   -- the campaign whose send revealed it (provider)
    added_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Sender lines: their advertising window and rate. A campaign whose line is not here uses
-- the settings' defaults.
CREATE TABLE lines (
    sender          VARCHAR PRIMARY KEY,
    send_window     VARCHAR,               -- like the setting: '09:00-21:00' or 'always'
    rate_per_minute INTEGER
);

-- The campaign row holds the campaign's state (status, current run, reset counter).
CREATE TABLE campaigns (
    id             INTEGER PRIMARY KEY DEFAULT nextval('campaign_ids'),
    title          VARCHAR NOT NULL,
    message        VARCHAR NOT NULL,
    sender         VARCHAR NOT NULL,
    send_count     INTEGER,                -- NULL: everyone in the source
    start_at       TIMESTAMPTZ,            -- NULL: send when asked
    status         VARCHAR NOT NULL,       -- draft|scheduled|sending|completed|unfinished|cancelled
    status_reason  VARCHAR,
    archived       BOOLEAN NOT NULL DEFAULT false,
    reset_count    INTEGER NOT NULL DEFAULT 0,
    current_run    INTEGER NOT NULL DEFAULT 0,  -- 0: never planned
    scheduled_flow_run VARCHAR,            -- Prefect flow run id of a pending scheduled send
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE campaign_lists (
    campaign_id INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    list_id     INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, position)
);

-- One pass over a campaign's audience. The lease (owner, expiry) marks the one process
-- allowed to send it; a lapsed lease means that process died.
CREATE TABLE runs (
    campaign_id   INTEGER NOT NULL,
    run_no        INTEGER NOT NULL,
    status        VARCHAR NOT NULL,        -- planned|sending|completed|unfinished|cancelled
    reason        VARCHAR,
    planned_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at    TIMESTAMPTZ,
    finished_at   TIMESTAMPTZ,
    planned       INTEGER NOT NULL DEFAULT 0,   -- numbers to send (after filtering)
    batches       INTEGER NOT NULL DEFAULT 0,
    lease_owner   VARCHAR,
    lease_expires TIMESTAMPTZ,
    stop_requested BOOLEAN NOT NULL DEFAULT false,  -- schedule cut while sending
    resume_at     TIMESTAMPTZ,             -- waiting for the sending window to open
    PRIMARY KEY (campaign_id, run_no)
);

-- The unit of checkpoint: pending -> in_flight (committed before any request) -> done
-- (committed with the messages' outcome and the ledger charge, in one transaction).
CREATE TABLE batches (
    campaign_id INTEGER NOT NULL,
    run_no      INTEGER NOT NULL,
    batch_no    INTEGER NOT NULL,
    status      VARCHAR NOT NULL,          -- pending|in_flight|done
    size        INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    started_at  TIMESTAMPTZ,
    done_at     TIMESTAMPTZ,
    PRIMARY KEY (campaign_id, run_no, batch_no)
);

-- One row per recipient of a run. local_id is deterministic (campaign, run, seq) and is
-- what the provider is asked about when a batch's fate is unknown.
CREATE TABLE messages (
    campaign_id INTEGER NOT NULL,
    run_no      INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    local_id    BIGINT NOT NULL,
    number      BIGINT,                    -- NULL for an invalid row
    raw         VARCHAR,                   -- the text of an invalid row
    operator    VARCHAR,
    batch_no    INTEGER,                   -- NULL: filtered before sending
    status      VARCHAR NOT NULL,          -- see chapar.campaigns.MessageState
    provider_id VARCHAR,
    pages       SMALLINT,
    cost        BIGINT,
    refunded    BOOLEAN NOT NULL DEFAULT false,
    sent_at     TIMESTAMPTZ,
    status_at   TIMESTAMPTZ
);  -- no primary key: planning writes (campaign_id, run_no, seq) once, in one transaction;
    -- rows are stored in that order, so zone maps prune batch updates without an index

-- Credit: the balance is SUM(amount); charges are negative, top-ups and refunds positive.
CREATE TABLE ledger (
    id          BIGINT PRIMARY KEY DEFAULT nextval('ledger_ids'),
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    kind        VARCHAR NOT NULL,          -- topup|charge|refund
    amount      BIGINT NOT NULL,
    campaign_id INTEGER,
    run_no      INTEGER,
    batch_no    INTEGER,
    note        VARCHAR
);

-- Every edit and state change of a campaign: what, old -> new, who, when.
CREATE TABLE audit (
    id          BIGINT PRIMARY KEY DEFAULT nextval('audit_ids'),
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor       VARCHAR NOT NULL,
    campaign_id INTEGER,
    action      VARCHAR NOT NULL,
    field       VARCHAR,
    old_value   VARCHAR,
    new_value   VARCHAR
);
