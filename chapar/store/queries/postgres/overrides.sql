-- PostgreSQL dialect (CHAPAR_STORE=postgresql://…): the named queries that DuckDB's postgres
-- extension refuses as written in ../*.sql, with the same names and parameters. Everything
-- else runs unchanged: DuckDB still evaluates the SQL, PostgreSQL only stores the rows.
-- An entry may hold several statements separated by ';' at a line's end; the store runs them
-- in order, each with the parameters it names, and returns the last one's result.
--   * RETURNING is refused on a PostgreSQL table: the UPDATE/INSERT, then a SELECT of it.
--   * INSERT … SELECT … ON CONFLICT sends NULL for columns it does not name (their DEFAULT is
--     not applied): name every NOT NULL column that has a default.

-- name: campaign_insert
INSERT INTO campaigns (title, message, sender, send_count, start_at, status)
VALUES ($title, $message, $sender, $send_count, $start_at, $status);
SELECT id FROM postgres_query('store', 'SELECT currval(''campaign_ids'')::INTEGER AS id');

-- name: list_insert
INSERT INTO lists (name, source_file, total_rows, valid, invalid, duplicates)
VALUES ($name, $source_file, 0, 0, 0, 0);
SELECT id FROM lists WHERE name = $name;

-- name: run_renew_lease
UPDATE runs SET lease_expires = now() + to_seconds($ttl)
WHERE campaign_id = $campaign_id AND run_no = $run_no AND lease_owner = $owner;
SELECT stop_requested FROM runs
WHERE campaign_id = $campaign_id AND run_no = $run_no AND lease_owner = $owner;

-- name: batch_end
UPDATE batches SET
    status = CASE
        WHEN $unresolved THEN 'in_flight'
        WHEN (SELECT count(*) FROM messages m WHERE m.campaign_id = $campaign_id
              AND m.run_no = $run_no AND m.batch_no = $batch_no AND m.status = 'pending') = 0
        THEN 'done' ELSE 'pending' END,
    done_at = now()
WHERE campaign_id = $campaign_id AND run_no = $run_no AND batch_no = $batch_no;
SELECT status FROM batches
WHERE campaign_id = $campaign_id AND run_no = $run_no AND batch_no = $batch_no;

-- name: blacklist_insert_staged
INSERT INTO blacklist (number, source, campaign_id, added_at)
SELECT DISTINCT number, $source, NULL, now() FROM staging_rows WHERE number IS NOT NULL
ON CONFLICT (number) DO NOTHING;

-- name: blacklist_from_provider
INSERT INTO blacklist (number, source, campaign_id, added_at)
SELECT number, 'provider', any_value(campaign_id), now() FROM incoming
WHERE status = 'blocked' AND number IS NOT NULL GROUP BY number
ON CONFLICT (number) DO NOTHING;

-- name: ledger_insert
-- Two transactions that each read the balance and hold from it would both commit under
-- REPEATABLE READ (write skew: the credit spent twice). A hold first bumps one shared guard
-- row, so of two holds whose snapshots overlap PostgreSQL refuses the later one
-- (serialisation failure: chapar.store.Conflict, run it again); other kinds touch no row.
UPDATE store_guards SET n = n + 1 WHERE name = 'credit' AND $kind = 'hold';
INSERT INTO ledger (kind, amount, campaign_id, run_no, batch_no, note)
VALUES ($kind, $amount, $campaign_id, $run_no, $batch_no, $note);

-- name: suppression_insert
INSERT INTO suppressions (number, kind, scope, source, campaign_id, recorded_at)
VALUES ($number, $kind, $scope, $source, $campaign_id, now());
SELECT id, number, kind, scope, source, campaign_id, recorded_at FROM suppressions
WHERE id = (SELECT id FROM postgres_query('store',
    'SELECT currval(''suppression_ids'')::BIGINT AS id'));

-- name: test_send_insert
INSERT INTO test_sends (campaign_id, number, operator, text, pages, cost, status, actor,
                        sent_at)
VALUES ($campaign_id, $number, $operator, $text, $pages, $cost, 'pending', $actor, now());
SELECT id FROM postgres_query('store', 'SELECT currval(''test_send_ids'')::BIGINT AS id');
