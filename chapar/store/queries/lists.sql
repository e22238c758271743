-- name: list_by_name
SELECT id, name, source_file, created_at, total_rows, valid, invalid, duplicates,
       coalesce(columns, []::VARCHAR[]) AS columns, number_column, source_sheet
FROM lists WHERE name = $name;

-- name: lists_all
SELECT id, name, source_file, created_at, total_rows, valid, invalid, duplicates,
       coalesce(columns, []::VARCHAR[]) AS columns, number_column, source_sheet
FROM lists ORDER BY name;

-- name: list_attributes
-- $attributes is replaced by `, attrs[1] AS "name", …` from lists.columns (see repo).
SELECT line_no, number $attributes FROM recipients WHERE list_id = $list_id ORDER BY line_no;

-- name: list_insert
INSERT INTO lists (name, source_file, total_rows, valid, invalid, duplicates)
VALUES ($name, $source_file, 0, 0, 0, 0)
RETURNING id;

-- name: list_update_counts
UPDATE lists SET source_file = $source_file, total_rows = $total_rows, valid = $valid,
    invalid = $invalid, duplicates = $duplicates, created_at = now(), columns = $columns,
    number_column = $number_column, source_sheet = $source_sheet
WHERE id = $id;

-- name: list_clear_rows
-- Replacing a list's rows changes only future runs: planned runs froze their audience
-- into messages.
DELETE FROM recipients WHERE list_id = $id;

-- name: staging_view
-- An import's rows, read and classified into temporary Parquet files (see repo._staged);
-- the raw text is kept only where the number is invalid. A file read whole is registered
-- under the same name from its Polars frame, and the queries below read either.
CREATE OR REPLACE TEMP VIEW staging_rows AS SELECT * FROM read_parquet($files);

-- name: staging_repeats_create
-- The numbers an import holds more than once, with the line each first appears on: what
-- marks the rows' first_in_list, and (with the rows' count) the distinct numbers. Filled
-- for a staged file by staging_repeats_insert (a file held in memory is marked by Polars).
CREATE OR REPLACE TEMP TABLE staging_repeats (number BIGINT, first_line INTEGER, rows BIGINT);

-- name: staging_repeats_insert
-- One part of the numbers ($part of $parts, by remainder): a part's groups fit DuckDB's
-- memory cap without spilling out of it (10M rows in one part ran out of 32 MB).
INSERT INTO staging_repeats
SELECT number, min(line_no), count(*) FROM staging_rows
WHERE number IS NOT NULL AND number % $parts = $part
GROUP BY number HAVING count(*) > 1;

-- name: staging_total
SELECT count(*) FROM staging_rows;

-- name: staging_counts
-- Rows, rows with a valid number, distinct valid numbers (the valid rows less the repeats),
-- and distinct valid numbers already on the blacklist.
SELECT count(*) AS total, count(number) AS numbers,
       count(number) - (SELECT coalesce(sum(rows - 1), 0) FROM staging_repeats) AS valid,
       (SELECT count(DISTINCT s.number) FROM staging_rows s SEMI JOIN blacklist b
          ON s.number = b.number) AS blacklisted
FROM staging_rows;

-- name: blacklist_numbers
-- The blacklist's numbers, for a file held in memory to find its own among them in Polars.
SELECT number FROM blacklist;

-- name: staging_invalid_sample
SELECT line_no, coalesce(raw, '') AS raw FROM staging_rows WHERE number IS NULL
ORDER BY line_no LIMIT $limit;

-- name: recipients_insert
-- Rows held in memory become the list's rows; Polars marked each first_in_list or not.
INSERT INTO recipients (list_id, line_no, number, operator, raw, attrs, first_in_list)
SELECT $list_id, line_no, number, operator, raw, attrs, first_in_list FROM staging_rows;

-- name: recipients_insert_plain
-- The same for a file with no column besides the numbers (no attrs staged).
INSERT INTO recipients (list_id, line_no, number, operator, raw, first_in_list)
SELECT $list_id, line_no, number, operator, raw, first_in_list FROM staging_rows;

-- name: recipients_insert_part
-- One part of a staged file's rows ($part of $parts, by the number's remainder as the
-- repeats were grouped; the invalid rows with part 0) becomes the list's rows, each marked
-- first_in_list or not (a number not among the repeats appears once). In parts, a part's
-- repeats fit DuckDB's memory cap: 10M rows in one part made the join spill (18 s
-- against 5.4 s in 4 parts, same peak).
INSERT INTO recipients (list_id, line_no, number, operator, raw, attrs, first_in_list)
SELECT $list_id, s.line_no, s.number, s.operator, s.raw, s.attrs,
       CASE WHEN s.number IS NOT NULL THEN r.first_line IS NULL OR r.first_line = s.line_no END
FROM staging_rows s LEFT JOIN (
    SELECT number, first_line FROM staging_repeats WHERE number % $parts = $part
) r ON r.number = s.number
WHERE s.number % $parts = $part OR (s.number IS NULL AND $part = 0);

-- name: recipients_insert_part_plain
-- The same for a file with no column besides the numbers (no attrs staged).
INSERT INTO recipients (list_id, line_no, number, operator, raw, first_in_list)
SELECT $list_id, s.line_no, s.number, s.operator, s.raw,
       CASE WHEN s.number IS NOT NULL THEN r.first_line IS NULL OR r.first_line = s.line_no END
FROM staging_rows s LEFT JOIN (
    SELECT number, first_line FROM staging_repeats WHERE number % $parts = $part
) r ON r.number = s.number
WHERE s.number % $parts = $part OR (s.number IS NULL AND $part = 0);

-- name: blacklist_ledger_insert_staged
-- An imported blacklist's new numbers join the suppression ledger (run before
-- blacklist_insert_staged; a number already blacklisted adds no row).
INSERT INTO suppressions (number, kind, scope, source)
SELECT DISTINCT number, 'telecom_blacklist', 'everywhere', $source FROM staging_rows
WHERE number IS NOT NULL AND number NOT IN (SELECT number FROM blacklist);

-- name: blacklist_insert_staged
-- A number already on the blacklist keeps its first source.
INSERT INTO blacklist (number, source, campaign_id)
SELECT DISTINCT number, $source, NULL FROM staging_rows WHERE number IS NOT NULL
ON CONFLICT (number) DO NOTHING;

-- name: blacklist_count
SELECT count(*) FROM blacklist;

-- name: blacklist_lookup
SELECT number, source, campaign_id, added_at FROM blacklist WHERE number = $number;

-- name: audience_source
-- The rows of these lists in campaign order (list by list, line by line), for
-- chapar.sending.audience.reached to classify as planning does; $attrs: ", r.attrs" or "".
SELECT r.number, r.raw, r.operator, r.list_id, r.line_no $attrs
FROM recipients r JOIN (SELECT unnest($list_ids) AS list_id,
                               generate_subscripts($list_ids, 1) AS position) p
  ON p.list_id = r.list_id
ORDER BY p.position, r.line_no;

-- name: audience_price_all
-- Who a campaign that sends to everyone (no send count) reaches, where order does
-- not matter: each distinct number is classified once (the NULL group is the invalid rows),
-- its repeats are the duplicates (a number has one operator). One pass over the rows and no
-- window: ≈2-3x faster than classifying the rows in order on 1M rows (bench/README.md);
-- with a send count, order decides, and chapar.sending.audience.reached counts instead.
WITH capped AS (
    SELECT number FROM messages
    WHERE $cap_n IS NOT NULL AND sent_at >= $cap_since AND number IS NOT NULL
    GROUP BY number HAVING count(*) >= $cap_n
), numbers AS (
    SELECT number, any_value(operator) AS operator, count(*) AS rows FROM recipients
    WHERE list_id IN (SELECT unnest($list_ids)) GROUP BY number
), classified AS (
    SELECT n.operator, n.rows, CASE
        WHEN n.number IS NULL THEN 'invalid'
        WHEN b.status IS NOT NULL THEN b.status
        WHEN c.number IS NOT NULL THEN 'capped'
        ELSE 'pending' END AS status
    FROM numbers n LEFT JOIN suppressed_on($sender) b ON b.number = n.number
                   LEFT JOIN capped c ON c.number = n.number
)
SELECT status, operator, n FROM (
    SELECT status, operator, sum(CASE WHEN status = 'invalid' THEN rows ELSE 1 END) AS n
    FROM classified GROUP BY ALL
    UNION ALL
    SELECT 'duplicate', operator, sum(rows - 1) FROM classified WHERE status <> 'invalid'
    GROUP BY ALL
) WHERE n > 0 ORDER BY ALL;

-- name: audience_price_one_list
-- The same for one list, from the rows' first_in_list (migration 8): a repeat is a
-- duplicate and a number's first row is classified, so the rows are counted by status and
-- operator with no GROUP BY number (1M rows: 0.43 → 0.15-0.2 s of CPU). Equal to
-- audience_price_all for one list (tests/test_lists_and_blacklist.py).
WITH capped AS (
    SELECT number FROM messages
    WHERE $cap_n IS NOT NULL AND sent_at >= $cap_since AND number IS NOT NULL
    GROUP BY number HAVING count(*) >= $cap_n
)
SELECT status, operator, n FROM (
    SELECT CASE
        WHEN r.number IS NULL THEN 'invalid'
        WHEN NOT r.first_in_list THEN 'duplicate'
        WHEN b.status IS NOT NULL THEN b.status
        WHEN c.number IS NOT NULL THEN 'capped'
        ELSE 'pending' END AS status, r.operator, count(*) AS n
    FROM recipients r LEFT JOIN suppressed_on($sender) b ON b.number = r.number
                      LEFT JOIN capped c ON c.number = r.number
    WHERE r.list_id = $list_id
    GROUP BY ALL
) WHERE n > 0 ORDER BY ALL;

-- name: suppression_insert
INSERT INTO suppressions (number, kind, scope, source, campaign_id)
VALUES ($number, $kind, $scope, $source, $campaign_id)
RETURNING id, number, kind, scope, source, campaign_id, recorded_at;

-- name: suppressions_list
SELECT id, number, kind, scope, source, campaign_id, recorded_at FROM suppressions
WHERE ($number IS NULL OR number = $number) AND ($kind IS NULL OR kind = $kind)
ORDER BY recorded_at DESC, id DESC LIMIT $limit;

-- name: suppressions_by_kind
SELECT kind, count(*) FROM suppressions GROUP BY kind ORDER BY kind;

-- name: suppression_effective
SELECT status FROM suppressed_on($line) WHERE number = $number;
