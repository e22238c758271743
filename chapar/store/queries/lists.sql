-- name: list_by_name
SELECT id, name, source_file, created_at, total_rows, valid, invalid, duplicates,
       coalesce(columns, []::VARCHAR[]) AS columns, number_column, source_sheet
FROM lists WHERE name = $name;

-- name: lists_all
SELECT id, name, source_file, created_at, total_rows, valid, invalid, duplicates,
       coalesce(columns, []::VARCHAR[]) AS columns, number_column, source_sheet
FROM lists ORDER BY name;

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

-- name: recipients_insert
-- One batch of a file, already in line order. The raw text is kept only where the number
-- is invalid (a report shows it); attributes are kept as read.
INSERT INTO recipients (list_id, line_no, number, operator, raw, attrs)
SELECT $list_id, line_no, number, operator, CASE WHEN number IS NULL THEN raw END, attrs
FROM incoming;

-- name: recipients_counts
-- What a list's rows hold: rows, rows with a valid number, distinct valid numbers, and
-- distinct valid numbers already on the blacklist.
SELECT count(*) AS total, count(number) AS numbers, count(DISTINCT number) AS valid,
       (SELECT count(DISTINCT r.number) FROM recipients r SEMI JOIN blacklist b
          ON r.number = b.number WHERE r.list_id = $list_id) AS blacklisted
FROM recipients WHERE list_id = $list_id;

-- name: recipients_invalid_sample
SELECT line_no, coalesce(raw, '') AS raw FROM recipients
WHERE list_id = $list_id AND number IS NULL ORDER BY line_no LIMIT $limit;

-- name: blacklist_insert
-- A number already on the blacklist keeps its first source.
INSERT INTO blacklist (number, source, campaign_id)
SELECT DISTINCT number, $source, $campaign_id FROM incoming WHERE number IS NOT NULL
ON CONFLICT (number) DO NOTHING;

-- name: blacklist_incoming_distinct
SELECT count(DISTINCT number) FROM incoming;

-- name: blacklist_count
SELECT count(*) FROM blacklist;

-- name: blacklist_lookup
SELECT number, source, campaign_id, added_at FROM blacklist WHERE number = $number;

-- name: audience_price
-- What a campaign over these lists would send: valid, first occurrence across the lists
-- in order, not blacklisted; and how many each filter removed.
WITH src AS (
    SELECT r.number, r.operator,
           row_number() OVER (PARTITION BY r.number ORDER BY p.position, r.line_no) AS nth
    FROM recipients r JOIN (SELECT unnest($list_ids) AS list_id,
                                   generate_subscripts($list_ids, 1) AS position) p
      ON p.list_id = r.list_id
)
SELECT
    count(*) FILTER (WHERE number IS NULL)                            AS invalid,
    count(*) FILTER (WHERE number IS NOT NULL AND nth > 1)            AS duplicates,
    count(*) FILTER (WHERE number IS NOT NULL AND nth = 1
                     AND number IN (SELECT number FROM blacklist))     AS blacklisted,
    count(*) FILTER (WHERE number IS NOT NULL AND nth = 1
                     AND number NOT IN (SELECT number FROM blacklist)) AS recipients
FROM src;

-- name: audience_by_operator
WITH src AS (
    SELECT r.number, r.operator,
           row_number() OVER (PARTITION BY r.number ORDER BY p.position, r.line_no) AS nth
    FROM recipients r JOIN (SELECT unnest($list_ids) AS list_id,
                                   generate_subscripts($list_ids, 1) AS position) p
      ON p.list_id = r.list_id
)
SELECT operator, count(*) AS n FROM src
WHERE number IS NOT NULL AND nth = 1 AND number NOT IN (SELECT number FROM blacklist)
GROUP BY operator ORDER BY operator;
